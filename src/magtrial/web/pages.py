"""Rendering pages: one Jinja2 environment per app, and the context every page gets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from magtrial.web.deps import web_session
from magtrial.web.security import PRE_SESSION_COOKIE, form_token, is_https

TEMPLATES = Path(__file__).parent / "templates"
HTMX = "htmx-2.0.11.min.js"  # vendored from the npm package htmx.org@2.0.11 (dist/htmx.min.js)


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    templates.env.globals["htmx_file"] = HTMX
    templates.env.trim_blocks = True
    templates.env.lstrip_blocks = True
    return templates


def render(request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200) -> HTMLResponse:
    """A page with the logged-in account and this page's CSRF token; never cached by shared caches."""
    session = web_session(request)
    values = {"actor": session.actor if session else None, "csrf": form_token(request), **(context or {})}
    response = request.app.state.templates.TemplateResponse(request, name, values, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    new = getattr(request.state, "new_form_token", None)
    if new and session is None:
        response.set_cookie(
            PRE_SESSION_COOKIE, new, max_age=3600, httponly=True, samesite="lax", secure=is_https(request), path="/"
        )
    return response
