"""Replay of amendments and the sealed orders of added cycles against their audit events.

``store.replay.differences`` calls ``differences`` here: every ``amendments`` row must have been
written by its ``trial.amendment`` event (same version, first period, cycles added, commitment and
sealed box by its SHA-256), and an added part revealed in clear must be what ``trial.unblind``
recorded. Only these events are read, so the check stays cheap.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from magtrial.store.amendment_models import AmendmentRow
from magtrial.store.audit import sha256_text
from magtrial.store.models import AuditEventRow


def differences(session: Session) -> Iterator[str]:
    written: dict[tuple[str, int], tuple] = {}
    revealed: dict[tuple[str, int], tuple[str, str]] = {}
    events = session.execute(
        select(AuditEventRow.trial_id, AuditEventRow.action, AuditEventRow.new)
        .where(AuditEventRow.action.in_(("trial.amendment", "trial.unblind")))
        .order_by(AuditEventRow.seq)
    )
    for trial_id, action, new_text in events:
        new = json.loads(new_text)
        if action == "trial.amendment":
            written[(trial_id or "", int(new["number"]))] = _fields(
                new["version"], new["from_period"], new["cycles_added"], new["commitment"], new["sealed_sha256"]
            )
        else:
            for part in new.get("added") or []:
                revealed[(trial_id or "", int(part["amendment"]))] = (",".join(part["sequence"]), part["salt"])
    for row in session.execute(select(AmendmentRow).order_by(AmendmentRow.trial_id, AmendmentRow.number)).scalars():
        where = f"trial {row.trial_id} amendment {row.number}"
        audited = written.pop((row.trial_id, row.number), None)
        table = _fields(
            row.version,
            row.from_period,
            row.cycles_added,
            row.commitment,
            sha256_text(row.sealed) if row.sealed else None,
        )
        if audited is None:
            yield f"{where} is in the table but no audit event recorded it (inserted by hand?)"
        elif audited != table:
            yield f"{where} differs from the audit trail (its version, periods, commitment or sealed box changed)"
        clear = (row.revealed_sequence, row.revealed_salt) if row.revealed_sequence else None
        if clear != revealed.get((row.trial_id, row.number)):
            yield f"{where}: the revealed order of its added cycles differs from the unblinding in the audit trail"
    for trial_id, number in sorted(written):
        yield f"trial {trial_id} amendment {number} was recorded (audited) but is missing (deleted?)"


def _fields(version: int, from_period: int, cycles: int, commitment: str | None, sealed: str | None) -> tuple:
    return (int(version), int(from_period), int(cycles), commitment, sealed)
