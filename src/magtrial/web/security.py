"""Security headers on every response, and the CSRF check on every form POST.

- Headers: a Content-Security-Policy that allows scripts and styles from this origin only (no
  inline script, no inline style), ``frame-ancestors 'none'``, nosniff and a same-origin referrer.
  A route may send its own CSP (e.g. a chart image or the downloadable report, which carry inline
  SVG styles but never script); the middleware leaves a header the route set alone.
- CSRF: every form carries the session's CSRF token (``csrf`` field, or the ``X-CSRF-Token``
  header HTMX sends); forms shown before login (login, invitation) use a random value kept in a
  short-lived cookie instead (double submit). A POST without the right token is refused with 403.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from magtrial.errors import Forbidden
from magtrial.web.deps import web_session

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"  # SVG images: no script
DOCUMENT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
HEADERS = {
    b"content-security-policy": CSP.encode(),
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"same-origin",
    b"x-frame-options": b"DENY",
}
PRE_SESSION_COOKIE = "mt_form"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


class SecurityHeaders:
    """Pure ASGI middleware (cheap enough for the API's load benchmark)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in HEADERS.items() if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def form_token(request: Request) -> str:
    """The CSRF token to put in this page's forms: the session's, or a pre-session value."""
    session = web_session(request)
    if session is not None:
        return session.csrf
    token = request.cookies.get(PRE_SESSION_COOKIE) or getattr(request.state, "new_form_token", None)
    if not token:
        token = request.state.new_form_token = secrets.token_urlsafe(24)
    return token


async def verify_csrf(request: Request) -> None:
    """Router dependency: on POST, the form's token must match the session's (or the pre-session cookie)."""
    if request.method != "POST":
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    session = web_session(request)
    expected = session.csrf if session is not None else request.cookies.get(PRE_SESSION_COOKIE)
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise Forbidden("this form has expired or did not come from this site: reload the page and try again")
