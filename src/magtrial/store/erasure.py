"""Erase a withdrawn participant's personal content while the audit chain still verifies.

Rows that only hold the participant's content (diary versions, consent signatures, co-interventions,
effect summaries, ... every table with a ``trial_id`` outside ``KEEP_TABLES``) are deleted. Audit
events of the trial are tombstoned: their ``old``/``new``/``reason`` text is replaced, version-2 rows
keep their content digest and lose its salt, and the erasure event lists each tombstoned row with the
tombstone's digest and the row's hash (``store.audit`` verifies erased rows against that list). The
trial row, its sealed allocation, consent texts, amendments and the events that define them stay, so
the trial's structure, its commitment and ``audit verify`` still hold; the trial's safety profile,
flags and every free-text reason go. On SQLite every connection runs with ``secure_delete`` and the
erasure is followed by a WAL checkpoint and ``VACUUM`` (``scrub_files``), so the erased bytes are not
left in free pages of the file or its WAL either.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from magtrial.store.audit import canonical_json, content_digest, tombstone_digest
from magtrial.store.db import Database
from magtrial.store.models import AuditEventRow, Base, TrialRow

KEEP_TABLES = frozenset(
    {
        "trials",
        "sealed_allocations",
        "audit_events",
        "consent_versions",
        "withdrawals",
        "amendments",
        "stopping_decisions",
    }
)
ERASED_TEXT = "[erased]"
TOMBSTONE = canonical_json({"erased": True})
# Events that define the trial's structure keep their content, minus these personal keys and their reason.
KEPT_ACTIONS: dict[str, tuple[str, ...]] = {
    "trial.create": ("safety", "flags"),
    "trial.unblind": (),
    "trial.withdraw": (),
}
UNTOUCHED_ACTIONS = frozenset(
    {"protocol.amend", "trial.amendment", "consent.set", "stopping.decision", "stopping.open", "trial.erase"}
)


def _redacted(value: str, drop: tuple[str, ...]) -> str:
    data = json.loads(value)
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in drop}
    return canonical_json(data)


def erase_trial_content(session: Session, trial_id: str) -> dict[str, Any]:
    """Delete and tombstone inside the caller's transaction; returns what the erasure event must record."""
    counts: dict[str, int] = {}
    for table in reversed(Base.metadata.sorted_tables):
        if "trial_id" in table.c and table.name not in KEEP_TABLES:
            result = session.execute(delete(table).where(table.c.trial_id == trial_id))
            deleted = result.rowcount  # type: ignore[attr-defined]
            if deleted:
                counts[table.name] = deleted
    session.execute(update(TrialRow).where(TrialRow.id == trial_id).values(flags="[]", safety=None))
    listed = []
    rows = session.execute(
        select(
            AuditEventRow.seq,
            AuditEventRow.action,
            AuditEventRow.old,
            AuditEventRow.new,
            AuditEventRow.reason,
            AuditEventRow.hash,
            AuditEventRow.hash_version,
            AuditEventRow.content_salt,
        )
        .where(AuditEventRow.trial_id == trial_id)
        .order_by(AuditEventRow.seq)
    ).all()
    for seq, action, old, new, reason, row_hash, version, salt in rows:
        if action in UNTOUCHED_ACTIONS or (old, reason) == ("null", ERASED_TEXT):
            continue  # structure, or already erased
        # Version-2 rows keep their digest (computed while the salt is still there); version-1 rows have none.
        kept = content_digest(salt, old, new, reason) if version == 2 and salt else None
        if action in KEPT_ACTIONS:
            old, new = _redacted(old, KEPT_ACTIONS[action]), _redacted(new, KEPT_ACTIONS[action])
        else:
            old, new = "null", TOMBSTONE
        session.execute(
            update(AuditEventRow)
            .where(AuditEventRow.seq == seq)
            .values(old=old, new=new, reason=ERASED_TEXT, content_salt=None, content_sha256=kept)
        )
        listed.append([seq, tombstone_digest(old, new, ERASED_TEXT), row_hash])
    return {"events": listed, "deleted_rows": counts}


def scrub_files(db: Database) -> bool:
    """After the erasure commits: no erased byte left in SQLite's free pages or WAL (PostgreSQL: VACUUM).

    False when another connection kept SQLite busy, so the WAL could not be emptied or the file not
    vacuumed now; the erasure itself is committed either way, and the next erasure scrubs again.
    """
    if not db.is_sqlite:
        tables = ["audit_events", "trials", "withdrawals"]
        tables += [t.name for t in Base.metadata.sorted_tables if "trial_id" in t.c and t.name not in KEEP_TABLES]
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables:
                conn.exec_driver_sql(f'VACUUM "{table}"')
        return True
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.execute("VACUUM")
        busy = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        cursor.close()
        return not busy
    except sqlite3.OperationalError:  # "database is locked": a long reader elsewhere
        return False
    finally:
        raw.close()
