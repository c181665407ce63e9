"""Personal access tokens: how an API client acts as an account.

A token is made by the account it acts as, shown once (``mt_`` + 32 random bytes, url-safe), and
kept only as its SHA-256, so neither a copy of the database nor the audit trail can be used to
call the API. ``actor_for_token`` is the API's login: one indexed lookup by digest, checked
against expiry, revocation and the account's ``active`` flag on every request (nothing cached,
so a revocation takes effect on the next request). Creating and revoking are audited; using a
token is not (it is the account acting, and each change it makes is audited as that account).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import bindparam, select

from magtrial.errors import MagtrialError, NotFound, ValidationError
from magtrial.service.access import Actor, Role
from magtrial.service.context import Context, aware, utcnow
from magtrial.store.api_models import ApiTokenRow
from magtrial.store.db import Database
from magtrial.store.models import AccountRow

PREFIX = "mt_"
DEFAULT_DAYS = 90
MAX_DAYS = 366
NAME_MAX = 100
SECRET_MAX = 200  # longer Authorization values are refused before hashing


class Unauthenticated(MagtrialError):
    """No valid token: missing, unknown, expired, revoked, or its account deactivated (HTTP 401)."""

    status = 401


@dataclass(frozen=True)
class Token:
    """What the owner sees of a token: never the secret, never its digest."""

    id: str
    name: str
    account: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None

    def state(self, now: dt.datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if now >= self.expires_at else "active"


class NewToken(NamedTuple):
    token_id: str
    secret: str  # shown once; only its SHA-256 is stored


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(ctx: Context, name: str, expires_days: int = DEFAULT_DAYS) -> NewToken:
    """A new token acting as ``ctx.actor``, valid ``expires_days`` days (1-366); its secret is returned once."""
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise ValidationError(f"a token needs a name of 1-{NAME_MAX} characters (e.g. 'phone app')")
    if isinstance(expires_days, bool) or not isinstance(expires_days, int) or not 1 <= expires_days <= MAX_DAYS:
        raise ValidationError(f"expires_days must be a whole number of days, 1-{MAX_DAYS}; got {expires_days!r}")
    now = ctx.clock()
    token_id, secret = f"tok-{secrets.token_hex(6)}", PREFIX + secrets.token_urlsafe(32)
    expires = now + dt.timedelta(days=expires_days)
    with ctx.db.transaction() as s:
        s.add(
            ApiTokenRow(
                id=token_id,
                account=ctx.actor.name,
                name=name,
                secret_sha256=digest(secret),
                created_at=now,
                expires_at=expires,
                revoked_at=None,
            )
        )
        s.flush()
        ctx.audit(
            s,
            "token.create",
            "api_token",
            token_id,
            None,
            new={"account": ctx.actor.name, "name": name, "expires_at": expires.isoformat()},
        )
    return NewToken(token_id, secret)


def list_tokens(ctx: Context) -> list[Token]:
    """The acting account's own tokens, newest first (revoked and expired ones included)."""
    with ctx.db.reader() as s:
        rows = s.execute(
            select(ApiTokenRow)
            .where(ApiTokenRow.account == ctx.actor.name)
            .order_by(ApiTokenRow.created_at.desc(), ApiTokenRow.id)
        ).scalars()
        return [_token(r) for r in rows]


def revoke_token(ctx: Context, token_id: str, reason: str = "") -> Token:
    """Revoke one of the acting account's tokens; it fails from the next request on. Revoking twice is a no-op."""
    now = ctx.clock()
    with ctx.db.transaction() as s:
        row = s.get(ApiTokenRow, token_id.strip(), with_for_update=True)
        if row is None or row.account != ctx.actor.name:
            raise NotFound(f"no token {token_id!r} among your tokens; `magtrial token list` shows them")
        if row.revoked_at is None:
            row.revoked_at = now
            ctx.audit(
                s,
                "token.revoke",
                "api_token",
                row.id,
                None,
                old={"revoked_at": None},
                new={"revoked_at": now.isoformat()},
                reason=reason.strip(),
            )
        return _token(row)


_LOOKUP = (
    select(ApiTokenRow.expires_at, ApiTokenRow.revoked_at, AccountRow.name, AccountRow.role, AccountRow.active)
    .join(AccountRow, AccountRow.name == ApiTokenRow.account)
    .where(ApiTokenRow.secret_sha256 == bindparam("digest"))
)


def actor_for_token(db: Database, secret: str, now: dt.datetime | None = None) -> Actor:
    """The account a token acts as, checked now: unknown, expired, revoked or inactive raise ``Unauthenticated``."""
    if not secret.startswith(PREFIX) or len(secret) > SECRET_MAX:
        raise Unauthenticated(
            "not a magtrial access token (they start with 'mt_'); make one with `magtrial token create`"
        )
    now = now or utcnow()
    # Every API request comes here: one indexed Core SELECT, no ORM session (a third of the cost).
    with db.engine.connect() as conn:
        found = conn.execute(_LOOKUP, {"digest": digest(secret)}).one_or_none()
    if found is None:
        raise Unauthenticated("unknown access token")
    expires_at, revoked_at, name, role, active = found
    if revoked_at is not None:
        raise Unauthenticated("this access token was revoked")
    if now >= aware(expires_at):
        raise Unauthenticated(f"this access token expired on {aware(expires_at):%Y-%m-%d}; make a new one")
    if not active:
        raise Unauthenticated(f"account {name!r} is deactivated")
    return Actor(name, Role(role))


def _token(row: ApiTokenRow) -> Token:
    return Token(
        row.id,
        row.name,
        row.account,
        aware(row.created_at),
        aware(row.expires_at),
        aware(row.revoked_at) if row.revoked_at else None,
    )
