"""Append-only, hash-chained audit trail (21 CFR 11.10(e): changes never obscure earlier records).

Each event's hash is SHA-256 over a canonical JSON of all its fields *and the previous event's
hash*, so editing, deleting or reordering any row breaks the chain from that row on. The head
row (last sequence number and hash) catches deletion of the newest rows. Appends lock the head
row, so concurrent writers get one order on both SQLite and PostgreSQL.

Hash version 2 (events appended from migration 0005 on) covers ``content_sha256``, a SHA-256 over a
random per-event salt and ``old``/``new``/``reason``, instead of that text. An erasure
(``store.erasure``) replaces the text with a tombstone, keeps the digest and drops the salt (so the
digest cannot be brute-forced back to a diary score), and its own event lists every tombstoned row
with the tombstone's digest and the row's hash. The verifier checks erased rows against that list:
version 2 rows are still recomputed from their kept digest; version 1 rows (written before 0005, whose
hash covers the raw text) are accepted only with the exact hash the erasure event recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
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
    """The hash of one row's fields; version 2 rows (``hash_version``) cover their content digest, not the text."""
    if fields.get("hash_version", 1) == 2:
        content = fields.get("content_sha256") or content_digest(
            fields["content_salt"], fields["old"], fields["new"], fields["reason"]
        )
        return event_hash_v2({**fields, "content_sha256": content})
    payload = canonical_json([fields[name] for name in HASHED_FIELDS])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


CONTENT_FIELDS = ("old", "new", "reason")
HASHED_FIELDS_V2 = tuple(name for name in HASHED_FIELDS if name not in CONTENT_FIELDS) + ("content_sha256",)


def content_digest(salt: str, old: str, new: str, reason: str) -> str:
    """Salted digest of an event's erasable text: the part a version-2 hash covers instead of the text."""
    return hashlib.sha256(canonical_json([salt, old, new, reason]).encode("utf-8")).hexdigest()


def event_hash_v2(fields: dict[str, Any]) -> str:
    payload = canonical_json([2, *(fields[name] for name in HASHED_FIELDS_V2)])
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
    salt = secrets.token_hex(16)
    digest = event_hash({**fields, "hash_version": 2, "content_salt": salt})
    # Core statements, not the ORM unit of work: this runs in every write transaction.
    # content_sha256 is not stored while the text is there: the verifier recomputes it, so it cannot drift.
    session.execute(_INSERT_EVENT, [{**fields, "hash": digest, "hash_version": 2, "content_salt": salt}])
    session.execute(_MOVE_HEAD, {"seq": fields["seq"], "hash": digest})
    return Head(fields["seq"], digest)


_LOCK_HEAD = select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == 1).with_for_update()
_READ_HEAD = select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == 1)
_EVENTS, _HEAD = cast(Table, AuditEventRow.__table__), cast(Table, AuditHeadRow.__table__)
_INSERT_EVENT = insert(_EVENTS)
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(seq=bindparam("seq"), hash=bindparam("hash"))


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
    erased = erased_events(session)
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
        expected_hash, problem = _expected_hash(row, fields, erased.get(row.seq))
        if problem:
            return ChainCheck(False, expected_seq - 1, f"audit row {row.seq} {problem}", row.seq)
        if row.prev_hash != prev:
            return ChainCheck(
                False,
                expected_seq - 1,
                f"audit row {row.seq} does not link to row {row.seq - 1} (a row was edited, deleted or reordered)",
                row.seq,
            )
        if expected_hash != row.hash:
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


@dataclass(frozen=True)
class Erased:
    """What an erasure event recorded about one row it tombstoned."""

    by: int  # the erasure event's seq
    trial_id: str
    tombstone_sha256: str
    hash: str


def erased_events(session: Session) -> dict[int, Erased]:
    """Every tombstoned row, as listed by the erasure events (``trial.erase``); few, so read up front."""
    out: dict[int, Erased] = {}
    rows = session.execute(
        select(AuditEventRow.seq, AuditEventRow.trial_id, AuditEventRow.new).where(AuditEventRow.action == ERASE_ACTION)
    )
    for seq, trial_id, new in rows:
        try:
            listed = json.loads(new)["events"]
        except (ValueError, KeyError, TypeError):
            continue  # a tampered erasure event fails its own hash check
        for item in listed:
            out[int(item[0])] = Erased(seq, trial_id or "", item[1], item[2])
    return out


def tombstone_digest(old: str, new: str, reason: str) -> str:
    return hashlib.sha256(canonical_json([old, new, reason]).encode("utf-8")).hexdigest()


def _expected_hash(row: AuditEventRow, fields: dict[str, Any], erased: Erased | None) -> tuple[str, str]:
    """The hash this row must have, or a problem; erased rows are checked against their erasure event."""
    version = row.hash_version or 1
    if erased is not None:
        if erased.by <= row.seq or erased.trial_id != row.trial_id:
            return "", "is listed by an erasure event that cannot have erased it"
        if tombstone_digest(row.old, row.new, row.reason) != erased.tombstone_sha256:
            return "", f"was edited after its erasure (event {erased.by})"
        if version == 1:
            return erased.hash, ""  # its hash covered the erased text: the erasure event vouches for it
        if row.content_sha256 is None:
            return "", "was erased but its content digest is missing"
        return event_hash_v2({**fields, "content_sha256": row.content_sha256}), ""
    if version == 1:
        return event_hash(fields), ""
    if row.content_salt is None:
        return "", "lost its content salt without an erasure event"
    return event_hash({**fields, "hash_version": 2, "content_salt": row.content_salt}), ""


ERASE_ACTION = "trial.erase"


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
