"""Trials: creation (safety-checked, allocation sealed to the unblinding keys), reading as the actor may see.

Reading never opens the sealed allocation: a record carries arms only once the trial is
unblinded (sequence and salt revealed), or when the unblinded pharmacist opens it with their key
(``service.unblinding``), which is audited.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from magtrial import crypto
from magtrial.core import allocation as alloc
from magtrial.core.protocol import Design, Protocol
from magtrial.core.record import TrialRecord, TrialStatus
from magtrial.core.schedule import DayPlan, build_schedule
from magtrial.errors import Conflict, ValidationError
from magtrial.service import accounts, allocation_parts, keys
from magtrial.service.access import Role, require, trial_for, visible_trials
from magtrial.service.checkin_extra import checkin_extra
from magtrial.service.clinic import clinic_extra
from magtrial.service.context import Context, aware
from magtrial.service.diary import stored_protocol, stored_versions
from magtrial.service.safety import check_for_trial
from magtrial.store import audit
from magtrial.store.models import SealedAllocationRow, TrialRow

UNBLINDED = TrialStatus.UNBLINDED.value  # the stored string (SQL parameters stay plain str)


def create_trial(
    ctx: Context,
    protocol: Protocol,
    participant: str,
    safety_profile: dict[str, Any] | None,
    start_date: dt.date | None = None,
    clinician_ack: bool = False,
    *,
    pharmacist: str | None = None,
    simulated: bool = False,
) -> TrialRecord:
    """Safety-check the regimen, draw the allocation, seal it to the unblinding keys, publish its commitment.

    The drawn allocation exists in clear only in this function's memory: the database receives
    the sealed boxes and the commitment. A blocked regimen raises ``SafetyBlocked``; "needs
    clinician" findings need ``clinician_ack``, recorded as its own audit event. The participant's
    account is created if it does not exist yet.
    """
    require(ctx.actor, Role.CLINICIAN, to="create a trial")
    participant = participant.strip()
    checked = check_for_trial(protocol, safety_profile, acknowledged=clinician_ack)
    safety, flags = checked.stored, checked.flags
    start = start_date or protocol.start_date or protocol.local_date(ctx.clock())
    protocol = protocol.with_changes(start_date=start)
    trial_id = f"mt-{secrets.token_hex(4)}"
    allocation = alloc.draw_allocation(protocol.design, protocol.cycles)
    commitment = alloc.commitment(trial_id, allocation)
    now = ctx.clock()
    with ctx.db.transaction() as s:
        accounts.ensure_patient(ctx, s, participant)
        recipients = keys.keys_for_new_trial(s, pharmacist)
        sealed = crypto.seal(
            alloc.canonical_bytes(trial_id, allocation.design, allocation.sequence, allocation.salt), recipients
        )
        del allocation  # from here on only the boxes exist
        s.add(
            TrialRow(
                id=trial_id,
                participant=participant,
                clinician=ctx.actor.name,
                pharmacist=recipients[0].owner,
                simulated=simulated,
                protocol=json.dumps(protocol.to_dict(), sort_keys=True),
                start_date=start,
                status=TrialStatus.ACTIVE.value,
                commitment=commitment,
                created_at=now,
                created_by=ctx.actor.name,
                flags=json.dumps(list(flags)),
                safety=json.dumps(safety),
            )
        )
        s.flush()
        s.add(SealedAllocationRow(trial_id=trial_id, design=protocol.design.value, sealed=sealed))
        ctx.audit(
            s,
            "trial.create",
            "trial",
            trial_id,
            trial_id,
            new={
                "participant": participant,
                "clinician": ctx.actor.name,
                "pharmacist": recipients[0].owner,
                "simulated": simulated,
                "start_date": start.isoformat(),
                "protocol": protocol.to_dict(),
                "commitment": commitment,
                "sealed_to": [r.fingerprint for r in recipients],
                "sealed_sha256": audit.sha256_text(sealed),
                "flags": list(flags),
                "safety": safety,
            },
        )
        if checked.acknowledged:
            needing = [f for f in safety["findings"] if f["level"] == "needs-clinician"]
            ctx.audit(
                s,
                "safety.acknowledge",
                "trial",
                trial_id,
                trial_id,
                new={"findings": needing},
                reason="clinician reviewed the safety findings and agreed the trial may start",
            )
    return record(ctx, trial_id)


def record(ctx: Context, trial_id: str) -> TrialRecord:
    """The trial as this actor may see it: arms only once unblinded; never opens the sealed boxes."""
    with ctx.db.reader() as s:
        row = trial_for(s, ctx.actor, trial_id)
        sealed = s.get(SealedAllocationRow, trial_id)
        allocation = revealed_allocation(row, sealed)
        return build_record(s, row, allocation)


def revealed_allocation(row: TrialRow, sealed: SealedAllocationRow | None) -> alloc.Allocation | None:
    if row.status != UNBLINDED or sealed is None or not sealed.revealed_sequence or not sealed.revealed_salt:
        return None
    sequence = alloc.parse_sequence(sealed.revealed_sequence.split(","))
    return alloc.Allocation(Design(sealed.design), sequence, sealed.revealed_salt)


def build_record(s: Session, row: TrialRow, allocation: alloc.Allocation | None) -> TrialRecord:
    """A read model of one trial, stamped with the audit head it was read at (for receipts and reports)."""
    if allocation is not None and not allocation.added:  # revealed: join the cycles amendments added
        allocation = alloc.combine(allocation, allocation_parts.revealed_parts(s, row.id) or [])
    return TrialRecord(
        trial_id=row.id,
        participant=row.participant,
        protocol=stored_protocol(row.protocol),
        start_date=row.start_date,
        commitment=row.commitment,
        created_at=aware(row.created_at),
        status=TrialStatus(row.status),
        versions=tuple(stored_versions(s, row.id)),
        allocation=allocation,
        unblinded_at=aware(row.unblinded_at) if row.unblinded_at else None,
        flags=tuple(json.loads(row.flags)),
        extra={
            "safety": json.loads(row.safety) if row.safety else None,
            "amendments": _amendments(s, row.id),
            **clinic_extra(s, row.id),
            **checkin_extra(s, row.id),  # blinding-check answers, public stopping status
        },
        audit_head=str(audit.current_head(s)),
        simulated=row.simulated,
    )


def _amendments(s: Session, trial_id: str) -> list[dict[str, Any]]:
    from magtrial.service.amendments import summaries  # that module builds on this one

    return summaries(s, trial_id)


def list_trials(ctx: Context) -> list[dict[str, Any]]:
    """This actor's trials only (a participant's own, a clinician's participants', a pharmacist's packs)."""
    with ctx.db.reader() as s:
        rows = s.execute(select(TrialRow).where(visible_trials(ctx.actor)).order_by(TrialRow.created_at)).scalars()
        return [
            {
                "id": r.id,
                "participant": r.participant,
                "status": r.status,
                "start": r.start_date,
                "flags": len(json.loads(r.flags)),
                "simulated": r.simulated,
            }
            for r in rows
        ]


def today(ctx: Context, trial_id: str, date: dt.date | None = None) -> DayPlan:
    rec = record(ctx, trial_id)
    date = date or rec.protocol.local_date(ctx.clock())
    return rec.schedule.day(date)


FROZEN_KEYS = {"design", "cycles", "product", "comparator", "blinding", "condition", "earlier_versions"}
CALENDAR_KEYS = {"run_in_days", "period_days", "washout_days", "start_date"}


def amend_protocol(ctx: Context, trial_id: str, changes: dict[str, Any], reason: str) -> Protocol:
    """Change a protocol with a reason, old and new values audited.

    Design and cycles never change (the sealed allocation depends on them). Once the trial has
    started only settings that leave the calendar alone may change.
    """
    require(ctx.actor, Role.CLINICIAN, to="amend a protocol")
    if not reason.strip():
        raise ValidationError("a protocol amendment needs a reason")
    frozen = FROZEN_KEYS & set(changes)
    if frozen:
        raise ValidationError(f"{', '.join(sorted(frozen))} cannot change once a trial exists; create a new trial")
    with ctx.db.transaction() as s:
        row = trial_for(s, ctx.actor, trial_id, lock=True)
        if row.status != "active":
            raise Conflict(f"trial {trial_id} is {row.status}; its protocol is locked")
        old = stored_protocol(row.protocol)
        started = old.local_date(ctx.clock()) >= row.start_date
        calendar = CALENDAR_KEYS & set(changes)
        if started and calendar:
            raise ValidationError(f"{', '.join(sorted(calendar))} cannot change after the trial has started")
        new = Protocol.from_dict({**old.to_dict(), **changes})
        row.protocol = json.dumps(new.to_dict(), sort_keys=True)
        if new.start_date and new.start_date != row.start_date:
            row.start_date = new.start_date
        before, after = old.to_dict(), new.to_dict()
        diff_keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        ctx.audit(
            s,
            "protocol.amend",
            "protocol",
            trial_id,
            trial_id,
            old={k: before.get(k) for k in diff_keys},
            new={k: after.get(k) for k in diff_keys},
            reason=reason.strip(),
        )
    return new


def schedule_end(row: TrialRow) -> dt.date:
    return build_schedule(stored_protocol(row.protocol), row.start_date).end
