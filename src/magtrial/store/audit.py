"""Append-only, hash-chained audit trail (21 CFR 11.10(e): changes never obscure earlier records).

Each event's hash is SHA-256 over a canonical JSON of all its fields *and the previous event's
hash*, so editing, deleting or reordering any row breaks the chain from that row on. The head
row (last sequence number and hash) catches deletion of the newest rows. Appends lock the head
row, so concurrent writers get one order on both SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from magtrial.errors import ValidationError
from magtrial.store.models import AuditEventRow, AuditHeadRow

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq",
    "trial_id",
    "at",
    "actor",
    "role",
    "action",
    "entity",
    "entity_id",
    "old",
    "new",
    "reason",
    "reveals_allocation",
    "prev_hash",
)
SEALED = "[sealed until unblinding]"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(fields: dict[str, Any]) -> str:
    payload = canonical_json([fields[name] for name in HASHED_FIELDS])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append_event(
    session: Session,
    *,
    at: dt.datetime,
    actor: str,
    role: str,
    action: str,
    entity: str,
    entity_id: str,
    trial_id: str | None = None,
    old: Any = None,
    new: Any = None,
    reason: str = "",
    reveals_allocation: bool = False,
) -> Head:
    """Add one link inside the caller's transaction, so the event and the change commit together; the new head."""
    seq, prev_hash = session.execute(_LOCK_HEAD).one()
    fields: dict[str, Any] = {
        "seq": seq + 1,
        "trial_id": trial_id,
        "at": at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "role": role,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "old": canonical_json(old),
        "new": canonical_json(new),
        "reason": reason,
        "reveals_allocation": reveals_allocation,
        "prev_hash": prev_hash,
    }
    digest = event_hash(fields)
    # Core statements, not the ORM unit of work: this runs in every write transaction.
    session.execute(_INSERT_EVENT, [{**fields, "hash": digest}])
    session.execute(_MOVE_HEAD, {"seq": fields["seq"], "hash": digest})
    return Head(fields["seq"], digest)


_LOCK_HEAD = select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == 1).with_for_update()
_READ_HEAD = select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == 1)
_EVENTS, _HEAD = cast(Table, AuditEventRow.__table__), cast(Table, AuditHeadRow.__table__)
_INSERT_EVENT = insert(_EVENTS)
_MOVE_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(seq=bindparam("seq"), hash=bindparam("hash"))
)


@dataclass(frozen=True)
class Head:
    """The chain's newest link; kept outside the file (a receipt, a report), it anchors the whole chain."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Head:
        seq, sep, digest = text.strip().partition(":")
        if not sep or not seq.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValidationError(f"an audit head is SEQ:HASH (a number, a colon, 64 hex digits); got {text[:80]!r}")
        return cls(int(seq), digest)


def current_head(session: Session) -> Head:
    seq, digest = session.execute(_READ_HEAD).one()  # columns, never a stale ORM object
    return Head(seq, digest)


def event_at(session: Session, seq: int) -> AuditEventRow | None:
    return session.get(AuditEventRow, seq)


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    events: int
    problem: str = ""
    bad_seq: int | None = None
    head_hash: str = GENESIS


def verify_chain(session: Session, batch: int = 2000) -> ChainCheck:
    """Walk the chain in order (streamed) and name the first row that does not fit."""
    head = session.execute(select(AuditHeadRow).where(AuditHeadRow.id == 1)).scalar_one_or_none()
    if head is None:
        return ChainCheck(False, 0, "the audit head row is missing", None)
    expected_seq, prev = 1, GENESIS
    for row in _stream(session, batch):
        if row.seq != expected_seq:
            if row.seq > expected_seq:
                return ChainCheck(
                    False,
                    expected_seq - 1,
                    f"audit row {expected_seq} is missing (deleted); the next row present is {row.seq}",
                    expected_seq,
                )
            return ChainCheck(False, expected_seq - 1, f"audit row {row.seq} is out of order", row.seq)
        fields = {name: getattr(row, name) for name in HASHED_FIELDS}
        fields["reveals_allocation"] = bool(fields["reveals_allocation"])
        if row.prev_hash != prev:
            return ChainCheck(
                False,
                expected_seq - 1,
                f"audit row {row.seq} does not link to row {row.seq - 1} (a row was edited, deleted or reordered)",
                row.seq,
            )
        if event_hash(fields) != row.hash:
            return ChainCheck(
                False,
                expected_seq - 1,
                f"audit row {row.seq} was edited after it was written ({row.action} on {row.entity} {row.entity_id})",
                row.seq,
            )
        prev = row.hash
        expected_seq += 1
    last = expected_seq - 1
    if head.seq != last or head.hash != prev:
        if head.seq > last:
            return ChainCheck(
                False, last, f"audit rows {last + 1}-{head.seq} are missing (deleted from the end)", last + 1
            )
        return ChainCheck(False, last, "the audit head does not match the last row (edited)", last)
    return ChainCheck(True, last, "", None, prev)


def _stream(session: Session, batch: int) -> Iterator[AuditEventRow]:
    last = 0
    while True:
        rows = (
            session.execute(
                select(AuditEventRow).where(AuditEventRow.seq > last).order_by(AuditEventRow.seq).limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


@dataclass(frozen=True)
class AuditView:
    seq: int
    at: str
    actor: str
    role: str
    action: str
    entity: str
    entity_id: str
    old: Any
    new: Any
    reason: str


def view_events(session: Session, trial_id: str, may_see_allocation: bool) -> list[AuditView]:
    """A trial's events; details that would reveal the allocation are sealed for blinded viewers."""
    rows = session.execute(
        select(AuditEventRow).where(AuditEventRow.trial_id == trial_id).order_by(AuditEventRow.seq)
    ).scalars()
    out = []
    for row in rows:
        hide = row.reveals_allocation and not may_see_allocation
        out.append(
            AuditView(
                row.seq,
                row.at,
                row.actor,
                row.role,
                row.action,
                row.entity,
                row.entity_id,
                SEALED if hide else json.loads(row.old),
                SEALED if hide else json.loads(row.new),
                row.reason,
            )
        )
    return out


def sha256_text(text: str) -> str:
    """Digest of stored text recorded in an event, so replay can tell the row was not swapped."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
