"""Login sessions, one-time invitations and login throttling, stored as token digests.

A browser holds a random session token in an HttpOnly cookie; the table keeps its SHA-256, the
account, a per-session CSRF token and two times, so a session ends after ``IDLE`` without use or
``ABSOLUTE`` after login, whichever comes first. Invitations work the same way: the link carries
the token, the table its digest, and accepting one sets the participant's password once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from magtrial.errors import Conflict, Forbidden, NotFound, ValidationError
from magtrial.service import Actor, Context, Role, accounts
from magtrial.service.context import aware
from magtrial.store import audit
from magtrial.store.db import Database
from magtrial.store.models import AccountRow
from magtrial.store.web_models import InvitationRow, LoginFailureRow, WebSessionRow

IDLE = dt.timedelta(hours=12)
ABSOLUTE = dt.timedelta(days=7)
TOUCH_EVERY = dt.timedelta(minutes=5)  # write ``seen_at`` at most this often
INVITATION_DAYS = 7
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)


class TooManyAttempts(Forbidden):
    status = 429


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class WebSession:
    actor: Actor
    csrf: str
    token_sha256: str


def start(db: Database, actor: Actor, now: dt.datetime) -> tuple[str, WebSession]:
    """A new session for ``actor``; returns the cookie token (shown once) and the session."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with db.transaction() as s:
        s.add(WebSessionRow(token_sha256=digest(token), account=actor.name, csrf=csrf, created_at=now, seen_at=now))
    return token, WebSession(actor, csrf, digest(token))


def lookup(db: Database, token: str | None, now: dt.datetime) -> WebSession | None:
    """The live session of a cookie token, or None (unknown, expired, or the account deactivated)."""
    if not token:
        return None
    key = digest(token)
    with db.reader() as s:
        row = s.get(WebSessionRow, key)
        account = s.get(AccountRow, row.account) if row is not None else None
        if row is None or account is None:
            return None
        created, seen = aware(row.created_at), aware(row.seen_at)
        session = WebSession(Actor(account.name, Role(account.role)), row.csrf, key)
        alive = account.active and now - seen < IDLE and now - created < ABSOLUTE
    if not alive:
        end(db, key)
        return None
    if now - seen >= TOUCH_EVERY:
        with db.transaction() as s:
            row = s.get(WebSessionRow, key)
            if row is not None:
                row.seen_at = now
    return session


def end(db: Database, token_sha256: str) -> None:
    with db.transaction() as s:
        s.execute(delete(WebSessionRow).where(WebSessionRow.token_sha256 == token_sha256))


def check_throttle(db: Database, account: str, client: str, now: dt.datetime) -> None:
    """Refuse a login attempt after ``MAX_FAILURES`` failures for this account from this address."""
    with db.reader() as s:
        failures = s.execute(
            select(func.count())
            .select_from(LoginFailureRow)
            .where(
                LoginFailureRow.account == account[:100],
                LoginFailureRow.client == client[:64],
                LoginFailureRow.at > now - FAILURE_WINDOW,
            )
        ).scalar_one()
    if failures >= MAX_FAILURES:
        minutes = int(FAILURE_WINDOW.total_seconds() // 60)
        raise TooManyAttempts(
            f"too many failed logins for {account!r} from this address: wait {minutes} minutes "
            "and try again, or ask your clinician to reset your password"
        )


def record_failure(db: Database, account: str, client: str, now: dt.datetime, reason: str) -> None:
    """Count a failed login for throttling and write it to the audit trail, as the name that was typed."""
    with db.transaction() as s:
        s.execute(delete(LoginFailureRow).where(LoginFailureRow.at < now - FAILURE_WINDOW))
        s.add(LoginFailureRow(account=account[:100], client=client[:64], at=now))
        audit.append_event(
            s,
            at=now,
            actor=account[:100] or "?",
            role="unauthenticated",
            action="web.login_failed",
            entity="account",
            entity_id=account[:100] or "?",
            new={"client": client[:64]},
            reason=reason,
        )


def audit_login(ctx: Context, action: str, client: str) -> None:
    with ctx.db.transaction() as s:
        ctx.audit(s, action, "account", ctx.actor.name, None, new={"client": client[:64]})


# ---- invitations ---------------------------------------------------------------------------------------------


def invite(ctx: Context, participant: str) -> str:
    """A one-time invitation token for a participant account (a clinician's; the account must exist)."""
    if ctx.actor.role is not Role.CLINICIAN:
        raise Forbidden("only a clinician invites participants")
    known = {a.name: a for a in accounts.list_accounts(ctx)}
    if participant not in known or known[participant].role is not Role.PATIENT:
        raise NotFound(f"no participant account {participant!r}; create their trial first")
    token, now = secrets.token_urlsafe(32), ctx.clock()
    with ctx.db.transaction() as s:
        s.add(
            InvitationRow(
                token_sha256=digest(token),
                account=participant,
                created_by=ctx.actor.name,
                created_at=now,
                expires_at=now + dt.timedelta(days=INVITATION_DAYS),
            )
        )
        ctx.audit(s, "web.invite", "account", participant, None, new={"expires_days": INVITATION_DAYS})
    return token


def invitation_account(db: Database, token: str, now: dt.datetime) -> str:
    """The participant an unused, unexpired invitation is for; otherwise a clear error."""
    with db.reader() as s:
        row = s.get(InvitationRow, digest(token))
        if row is None:
            raise NotFound("this invitation link is not valid; ask your clinician for a new one")
        if row.used_at is not None:
            raise Conflict("this invitation link was already used; log in, or ask your clinician for a new one")
        if aware(row.expires_at) <= now:
            raise Conflict("this invitation link has expired; ask your clinician for a new one")
        return row.account


def accept(db: Database, token: str, password: str, now: dt.datetime) -> Actor:
    """Use an invitation once: set the participant's password; the link stops working."""
    if len(password) < accounts.MIN_PASSWORD:
        raise ValidationError(f"a password must be at least {accounts.MIN_PASSWORD} characters")
    name = invitation_account(db, token, now)
    actor = Actor(name, Role.PATIENT)
    with db.transaction() as s:
        row = s.get(InvitationRow, digest(token), with_for_update=True)
        if row is None or row.used_at is not None:
            raise Conflict("this invitation link was already used; log in, or ask your clinician for a new one")
        row.used_at = now
    accounts.set_password(Context(db, actor, lambda: now), name, password)
    return actor
