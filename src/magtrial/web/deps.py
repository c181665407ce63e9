"""Typed dependencies shared by the pages and the JSON API.

The app keeps its ``Database``, settings and clock on ``app.state`` (set by ``create_app``), so
nothing is created at import time. ``current_actor`` reads the session cookie; an API router
may add its own token scheme and still build its ``Context`` with ``context_for``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from magtrial.errors import MagtrialError
from magtrial.service import Actor, Context
from magtrial.service.context import Clock
from magtrial.settings import Settings
from magtrial.store.db import Database
from magtrial.web import sessions

SESSION_COOKIE = "mt_session"


class LoginRequired(MagtrialError):
    """No live session: pages redirect to the login form, the API answers 401."""

    status = 401


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_db(request: Request) -> Database:
    return request.app.state.db


def get_clock(request: Request) -> Clock:
    return request.app.state.clock


def web_session(request: Request) -> sessions.WebSession | None:
    """The request's live session (looked up once per request), or None."""
    if not hasattr(request.state, "web_session"):
        token = request.cookies.get(SESSION_COOKIE)
        request.state.web_session = sessions.lookup(get_db(request), token, get_clock(request)())
    return request.state.web_session


def current_actor(request: Request) -> Actor:
    """The logged-in account (session cookie); raises ``LoginRequired`` when there is none."""
    session = web_session(request)
    if session is None:
        raise LoginRequired("please log in")
    return session.actor


def context_for(request: Request, actor: Actor) -> Context:
    """The service context of one request: the app's database and clock, acting as ``actor``."""
    return Context(get_db(request), actor, get_clock(request))


def _context(request: Request, actor: Annotated[Actor, Depends(current_actor)]) -> Context:
    return context_for(request, actor)


DatabaseDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
CurrentAccount = Annotated[Actor, Depends(current_actor)]
ContextDep = Annotated[Context, Depends(_context)]
