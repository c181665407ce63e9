"""Who is calling: ``Authorization: Bearer <token>`` becomes a service ``Context`` for one request.

The database and clock come from the app (``app.state.db``, optional ``app.state.clock``), set by
whichever factory mounts the API (``create_api_app`` here, ``create_app`` of the pages). The token
is checked on every request by ``service.tokens.actor_for_token`` (expiry, revocation, account
active), so the API acts exactly as the token's account, with that account's role and trials.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from magtrial.service import Context
from magtrial.service.context import utcnow
from magtrial.service.tokens import Unauthenticated, actor_for_token
from magtrial.store.db import Database

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="access token",
    description="A personal access token from `magtrial token create` (starts with mt_).",
)


def database(request: Request) -> Database:
    return request.app.state.db


def context(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Context:
    if credentials is None:
        raise Unauthenticated("this API needs an access token: send 'Authorization: Bearer <token>'")
    db = database(request)
    clock = getattr(request.app.state, "clock", None) or utcnow
    return Context(db, actor_for_token(db, credentials.credentials, clock()), clock)


Ctx = Annotated[Context, Depends(context)]
"""A route parameter ``ctx: Ctx`` is the calling account's service context."""
