"""Accounts: people with one role each; passwords kept only as Argon2id hashes.

The first account of a new database is its clinician-administrator (bootstrap); after that only
a clinician adds accounts. The CLI acts as an existing account (``--user``), checking its
password when it has one; the web login checks the same hash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from magtrial.errors import Conflict, Forbidden, NotFound, ValidationError
from magtrial.service.access import Actor, Role, require
from magtrial.service.context import Clock, Context, utcnow
from magtrial.store import audit
from magtrial.store.db import Database
from magtrial.store.models import AccountRow

MIN_PASSWORD = 10
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Account:
    name: str
    role: Role
    has_password: bool
    active: bool


def _check_name(name: str) -> str:
    name = name.strip()
    if not NAME.match(name):
        raise ValidationError(
            f"account name {name[:40]!r} must be 1-100 letters, digits or . _ @ - (a pseudonym for participants)"
        )
    return name


def _hash(password: str | None, name: str = "") -> str | None:
    if password is None:
        return None
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"a password must be at least {MIN_PASSWORD} characters")
    check_guessable(password, name)
    return _hasher.hash(password)


def check_guessable(password: str, name: str = "") -> None:
    """Refuse passwords found in leaked-password lists or otherwise easy to guess.

    zxcvbn (Dropbox's estimator) matches against its frequency lists of leaked passwords, common
    names and words, keyboard patterns, dates and the account name; a score under 3 means
    guessable within about 10^8 tries, too few for a password guarding health data.
    """
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:100], user_inputs=[name] if name else [])
    if result["score"] < 3:
        hint = result["feedback"].get("warning") or "it is too easy to guess"
        raise ValidationError(f"choose another password: {hint.rstrip('.').lower()}; a few unusual words work well")


def count_accounts(db: Database) -> int:
    with db.reader() as s:
        return s.execute(select(func.count()).select_from(AccountRow)).scalar_one()


def bootstrap(db: Database, name: str, password: str | None = None, clock: Clock = utcnow) -> Actor:
    """Create the first account of an empty database: always a clinician, who then adds the others."""
    name = _check_name(name)
    with db.transaction() as s:
        if s.execute(select(func.count()).select_from(AccountRow)).scalar_one():
            raise Conflict("this database already has accounts; a clinician adds new ones with `magtrial user add`")
        _insert(s, name, Role.CLINICIAN, _hash(password, name), created_by=name, at=clock())
        audit.append_event(
            s,
            at=clock(),
            actor=name,
            role=Role.CLINICIAN.value,
            action="account.create",
            entity="account",
            entity_id=name,
            new={"role": Role.CLINICIAN.value, "password": password is not None},
            reason="first account",
        )
    return Actor(name, Role.CLINICIAN)


def add_account(ctx: Context, name: str, role: Role | str, password: str | None = None) -> Account:
    require(ctx.actor, Role.CLINICIAN, to="add accounts")
    name, role = _check_name(name), _role(role)
    with ctx.db.transaction() as s:
        if s.get(AccountRow, name) is not None:
            raise Conflict(f"an account {name!r} already exists")
        _insert(s, name, role, _hash(password, name), created_by=ctx.actor.name, at=ctx.clock())
        ctx.audit(
            s, "account.create", "account", name, None, new={"role": role.value, "password": password is not None}
        )
    return Account(name, role, password is not None, True)


def ensure_patient(ctx: Context, s, name: str) -> None:
    """Enrol a participant account when a clinician creates their first trial (inside that transaction)."""
    name = _check_name(name)
    row = s.get(AccountRow, name)
    if row is None:
        _insert(s, name, Role.PATIENT, None, created_by=ctx.actor.name, at=ctx.clock())
        ctx.audit(s, "account.create", "account", name, None, new={"role": Role.PATIENT.value, "password": False})
    elif row.role != Role.PATIENT.value:
        raise ValidationError(f"{name!r} is a {row.role} account, not a participant")


def set_password(ctx: Context, name: str, password: str) -> None:
    """Anyone may set their own password; a clinician may set a participant's (e.g. at enrolment)."""
    with ctx.db.transaction() as s:
        row = s.get(AccountRow, name)
        if row is None:
            raise NotFound(f"no account {name!r}")
        if name != ctx.actor.name and not (ctx.actor.role is Role.CLINICIAN and row.role == Role.PATIENT.value):
            raise Forbidden("you may set only your own password (a clinician may also set a participant's)")
        row.password_hash = _hash(password, name)
        ctx.audit(s, "account.password", "account", name, None, new={"password": True})


def list_accounts(ctx: Context) -> list[Account]:
    require(ctx.actor, Role.CLINICIAN, to="list accounts")
    with ctx.db.reader() as s:
        rows = s.execute(select(AccountRow).order_by(AccountRow.name)).scalars().all()
        return [Account(r.name, Role(r.role), r.password_hash is not None, r.active) for r in rows]


def actor_for(db: Database, name: str, password: str | None = None, *, need_password: bool = False) -> Actor:
    """The acting account; checks the password when the account has one (or when ``need_password``)."""
    with db.reader() as s:
        row = s.get(AccountRow, name.strip())
    if row is None or not row.active:
        hint = (
            "this database has no accounts yet: `magtrial init` creates the first (a clinician)"
            if count_accounts(db) == 0
            else "a clinician adds accounts with `magtrial user add NAME --role ROLE`"
        )
        raise NotFound(f"no account {name!r}; {hint}")
    if row.password_hash is not None or need_password:
        if password is None:
            raise Forbidden(f"account {name!r} has a password: give it (MAGTRIAL_PASSWORD or the prompt)")
        if not verify_password(row.password_hash, password):
            raise Forbidden(f"wrong password for {name!r}")
    return Actor(row.name, Role(row.role))


def has_password(db: Database, name: str) -> bool:
    with db.reader() as s:
        row = s.get(AccountRow, name.strip())
        return row is not None and row.password_hash is not None


def verify_password(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise ValidationError(f"role must be one of {', '.join(r.value for r in Role)}; got {role!r}") from None


def _insert(s, name: str, role: Role, password_hash: str | None, *, created_by: str, at) -> None:
    s.add(
        AccountRow(
            name=name, role=role.value, password_hash=password_hash, active=True, created_at=at, created_by=created_by
        )
    )
    s.flush()
