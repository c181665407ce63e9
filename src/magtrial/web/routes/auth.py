"""Login, logout, one-time invitations, and the home page that sends each role to its pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from magtrial.errors import Forbidden, MagtrialError, NotFound
from magtrial.service import Role, accounts
from magtrial.web import sessions
from magtrial.web.deps import SESSION_COOKIE, ContextDep, context_for, get_clock, get_db, web_session
from magtrial.web.pages import render
from magtrial.web.security import PRE_SESSION_COOKIE, is_https, verify_csrf

router = APIRouter(dependencies=[Depends(verify_csrf)])
HOME = {Role.PATIENT: "/diary", Role.CLINICIAN: "/clinic", Role.PHARMACIST: "/pharmacy"}


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


def _logged_in(request: Request, actor, target: str) -> Response:
    old = request.cookies.get(SESSION_COOKIE)
    if old:  # rotation: a session the browser held before this login ends (no fixation)
        sessions.end(get_db(request), sessions.digest(old))
    token, _ = sessions.start(get_db(request), actor, get_clock(request)())
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(sessions.ABSOLUTE.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )
    response.delete_cookie(PRE_SESSION_COOKIE, path="/")
    return response


@router.get("/")
def home(request: Request) -> Response:
    session = web_session(request)
    return RedirectResponse(HOME[session.actor.role] if session else "/login", status_code=303)


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", {"next": _safe_next(next)})


@router.post("/login")
def login(
    request: Request, name: Annotated[str, Form()], password: Annotated[str, Form()], next: Annotated[str, Form()] = "/"
) -> Response:
    db, now, client, name = get_db(request), get_clock(request)(), _client(request), name.strip()
    try:
        sessions.check_throttle(db, name, client, now)
    except sessions.TooManyAttempts as exc:
        return render(
            request, "login.html", {"error": str(exc), "next": _safe_next(next), "name": name}, status=exc.status
        )
    try:
        actor = accounts.actor_for(db, name, password, need_password=True)
    except (NotFound, Forbidden) as exc:
        sessions.record_failure(db, name, client, now, str(exc))
        return render(
            request,
            "login.html",
            {"error": "wrong account name or password", "next": _safe_next(next), "name": name},
            status=401,
        )
    sessions.audit_login(context_for(request, actor), "web.login", client)
    target = _safe_next(next)
    return _logged_in(request, actor, HOME[actor.role] if target == "/" else target)


@router.post("/logout")
def logout(request: Request, ctx: ContextDep) -> Response:
    session = web_session(request)
    sessions.audit_login(ctx, "web.logout", _client(request))
    if session is not None:
        sessions.end(ctx.db, session.token_sha256)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/invite/{token}")
def invitation(request: Request, token: str) -> Response:
    name = sessions.invitation_account(get_db(request), token, get_clock(request)())
    return render(request, "invite.html", {"name": name, "token": token})


@router.post("/invite/{token}")
def accept_invitation(
    request: Request, token: str, password: Annotated[str, Form()], repeat: Annotated[str, Form()]
) -> Response:
    db, now = get_db(request), get_clock(request)()
    name = sessions.invitation_account(db, token, now)
    try:
        if password != repeat:
            raise Forbidden("the two passwords differ; type the same password twice")
        actor = sessions.accept(db, token, password, now)
    except MagtrialError as exc:
        if exc.status == 409:
            raise
        return render(request, "invite.html", {"name": name, "token": token, "error": str(exc)}, status=422)
    sessions.audit_login(context_for(request, actor), "web.login", _client(request))
    return _logged_in(request, actor, HOME[actor.role])
