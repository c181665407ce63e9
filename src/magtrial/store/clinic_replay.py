"""Replay of co-interventions, clinic measurements and late-entry approvals against their audit events.

``store.replay.differences`` calls ``differences`` here: each row must match the event that wrote it
(by row id, or by day for an approval) and each event must still have its row. Only these events are
read. Events emptied by an erasure (``store.erasure``) are skipped, as their rows went with them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from magtrial.store.clinic_models import CoInterventionRow, LateEntryApprovalRow, MeasurementRow
from magtrial.store.models import AuditEventRow

ACTIONS = {"cointervention.add": "co-intervention", "measurement.add": "measurement", "late_entry.approve": "approval"}


def _co_intervention(r: CoInterventionRow) -> dict[str, Any]:
    return {
        "day": r.day.isoformat(),
        "last_day": r.last_day.isoformat(),
        "kind": r.kind,
        "description": r.description,
        "dose": r.dose,
        "given_by": r.given_by,
        "elemental_mg": r.elemental_mg,
    }


def _measurement(r: MeasurementRow) -> dict[str, Any]:
    return {"day": r.day.isoformat(), "item": r.item, "value": r.value, "present": r.present, "note": r.note}


def differences(session: Session) -> Iterator[str]:
    audited: dict[tuple[str, str, str], tuple[int, Any]] = {}
    events = session.execute(
        select(AuditEventRow.seq, AuditEventRow.trial_id, AuditEventRow.action, AuditEventRow.entity_id,
               AuditEventRow.new, AuditEventRow.reason)
        .where(AuditEventRow.action.in_(tuple(ACTIONS)))
        .order_by(AuditEventRow.seq)
    )  # fmt: skip
    for seq, trial_id, action, entity_id, new_text, reason in events:
        new = json.loads(new_text)
        if not isinstance(new, dict) or "day" not in new:
            continue  # tombstoned by an erasure, which deleted the row too
        audited[(ACTIONS[action], trial_id or "", entity_id)] = (seq, reason if action == "late_entry.approve" else new)
    rows: list[tuple[str, str, str, Any]] = []
    for c in session.execute(select(CoInterventionRow).order_by(CoInterventionRow.id)).scalars():
        rows.append(("co-intervention", c.trial_id, str(c.id), _co_intervention(c)))
    for m in session.execute(select(MeasurementRow).order_by(MeasurementRow.id)).scalars():
        rows.append(("measurement", m.trial_id, str(m.id), _measurement(m)))
    for a in session.execute(select(LateEntryApprovalRow).order_by(LateEntryApprovalRow.id)).scalars():
        rows.append(("approval", a.trial_id, a.day.isoformat(), a.reason))
    for what, trial_id, ident, content in rows:
        where = f"trial {trial_id} {what} {ident}"
        event = audited.pop((what, trial_id, ident), None)
        if event is None:
            yield f"{where} is in the table but no audit event recorded it (inserted by hand?)"
        elif content != event[1]:
            yield f"{where} differs from audit event {event[0]} (edited in the table)"
    for (what, trial_id, key), (seq, _) in sorted(audited.items()):
        yield f"trial {trial_id} {what} {key} was recorded (audit event {seq}) but is missing (deleted?)"
