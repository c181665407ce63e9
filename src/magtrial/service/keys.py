"""Unblinding keys: who holds which, and which public keys a new trial's allocation is sealed to.

- the pharmacist key: the pharmacist (or trusted person) who prepares the packs holds it;
- the emergency key: the clinic holds it (a sealed envelope, a safe, a second person), to unblind
  at the end of a trial or in a medical emergency when the pharmacist cannot be reached.

Only public keys are registered here; the private halves stay in passphrase-protected files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from magtrial import crypto
from magtrial.errors import Conflict, NotFound, ValidationError
from magtrial.service.access import Role, require
from magtrial.service.context import Context
from magtrial.store.models import AccountRow, UnblindingKeyRow

KEY_ROLES = {"pharmacist": Role.PHARMACIST, "emergency": Role.CLINICIAN}


@dataclass(frozen=True)
class RegisteredKey:
    fingerprint: str
    purpose: str
    owner: str
    active: bool

    @property
    def short(self) -> str:
        return crypto.short(self.fingerprint)


def create_key(ctx: Context, purpose: str, path: Path, passphrase: str) -> RegisteredKey:
    """Generate a key pair for the acting account, write the protected private key, register the public key.

    A pharmacist creates their own pharmacist key; a clinician creates the clinic's emergency key.
    """
    _may_hold(ctx, purpose)
    info = crypto.generate_key_file(path, purpose, ctx.actor.name, passphrase)
    return register_key(ctx, info)


def register_key(ctx: Context, info: crypto.PublicKeyInfo) -> RegisteredKey:
    """Register a public key made elsewhere (``magtrial keys register FILE``) for its owner."""
    if info.owner != ctx.actor.name:
        require(ctx.actor, Role.CLINICIAN, to="register another person's key")
    if crypto.fingerprint(bytes.fromhex(info.public_key)) != info.fingerprint:
        raise ValidationError("the key's fingerprint does not match its public key")
    with ctx.db.transaction() as s:
        owner = s.get(AccountRow, info.owner)
        if owner is None:
            raise NotFound(f"no account {info.owner!r} to own this key")
        if owner.role != KEY_ROLES[info.purpose].value:
            raise ValidationError(
                f"a {info.purpose} key belongs to a {KEY_ROLES[info.purpose].value} account; "
                f"{info.owner!r} is a {owner.role}"
            )
        if s.get(UnblindingKeyRow, info.fingerprint) is not None:
            raise Conflict(f"key {crypto.short(info.fingerprint)} is already registered")
        s.add(
            UnblindingKeyRow(
                fingerprint=info.fingerprint,
                purpose=info.purpose,
                owner=info.owner,
                public_key=info.public_key,
                active=True,
                registered_at=ctx.clock(),
            )
        )
        ctx.audit(
            s,
            "key.register",
            "key",
            info.fingerprint,
            None,
            new={"purpose": info.purpose, "owner": info.owner, "public_key": info.public_key},
        )
    return RegisteredKey(info.fingerprint, info.purpose, info.owner, True)


def list_keys(ctx: Context) -> list[RegisteredKey]:
    with ctx.db.reader() as s:
        rows = s.execute(select(UnblindingKeyRow).order_by(UnblindingKeyRow.registered_at)).scalars().all()
        return [RegisteredKey(r.fingerprint, r.purpose, r.owner, r.active) for r in rows]


def keys_for_new_trial(s, pharmacist: str | None) -> list[crypto.PublicKeyInfo]:
    """The newest active key of the named (or only) pharmacist, and the clinic's newest emergency key."""
    rows = (
        s.execute(
            select(UnblindingKeyRow).where(UnblindingKeyRow.active.is_(True)).order_by(UnblindingKeyRow.registered_at)
        )
        .scalars()
        .all()
    )
    pharm = [r for r in rows if r.purpose == "pharmacist" and (pharmacist is None or r.owner == pharmacist)]
    emergency = [r for r in rows if r.purpose == "emergency"]
    if not pharm:
        who = f"pharmacist {pharmacist!r}" if pharmacist else "any pharmacist"
        raise ValidationError(
            f"no registered key of {who}: the pharmacist runs `magtrial keys create --purpose pharmacist -o FILE` first"
        )
    if pharmacist is None and len({r.owner for r in pharm}) > 1:
        names = ", ".join(sorted({r.owner for r in pharm}))
        raise ValidationError(f"several pharmacists have keys ({names}); choose one with --pharmacist")
    if not emergency:
        raise ValidationError(
            "no emergency key registered: a clinician runs "
            "`magtrial keys create --purpose emergency -o FILE` and keeps the file at the clinic"
        )
    return [_info(pharm[-1]), _info(emergency[-1])]


def _info(row: UnblindingKeyRow) -> crypto.PublicKeyInfo:
    return crypto.PublicKeyInfo(row.purpose, row.owner, row.public_key, row.fingerprint)


def _may_hold(ctx: Context, purpose: str) -> None:
    if purpose not in KEY_ROLES:
        raise ValidationError(f"key purpose must be {' or '.join(KEY_ROLES)}; got {purpose!r}")
    require(ctx.actor, KEY_ROLES[purpose], to=f"hold a {purpose} key")
