"""Amendments of a running trial: changes from the next period, added cycles, reminder times.

Each amendment needs a clinician and a reason, passes a new safety check (a blocked regimen is
refused; "needs clinician" findings need ``clinician_ack``), and writes, in one transaction, the
new protocol version (the old one kept inside it, so past periods never change), a row in
``amendments`` and its audit events. Cycles it adds get their own order, drawn with ``secrets``,
committed and sealed to the keys the original allocation was sealed to; the original sealed row
and its commitment are left byte for byte as they were.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from magtrial import crypto
from magtrial.core.amendment import check_reason, check_reminder_times, plan_amendment
from magtrial.core.protocol import Protocol
from magtrial.core.versions import versions
from magtrial.errors import Conflict, ValidationError
from magtrial.service import allocation_parts
from magtrial.service.access import Role, require, trial_for
from magtrial.service.context import Context, aware
from magtrial.service.diary import stored_protocol
from magtrial.service.safety import check_for_trial
from magtrial.store import audit
from magtrial.store.amendment_models import AmendmentRow


@dataclass(frozen=True)
class AmendmentResult:
    number: int
    version: int
    from_period: int
    changes: dict[str, Any]
    cycles_added: int
    first_added_period: int | None
    commitment: str | None
    safety_verdict: str | None
    protocol: Protocol


def amend(
    ctx: Context,
    trial_id: str,
    changes: dict[str, Any],
    reason: str,
    *,
    add_cycles: int = 0,
    reminder_times: list[str] | None = None,
    clinician_ack: bool = False,
) -> AmendmentResult:
    """Amend a running trial from its next period on; see the module docstring for what is written."""
    require(ctx.actor, Role.CLINICIAN, to="amend a trial")
    reason = check_reason(reason)
    times = check_reminder_times(reminder_times) if reminder_times is not None else None
    with ctx.db.transaction() as s:
        row = trial_for(s, ctx.actor, trial_id, lock=True)
        if row.status != "active":
            raise Conflict(f"trial {trial_id} is {row.status}; it can no longer be amended")
        current = stored_protocol(row.protocol)
        today = current.local_date(ctx.clock())
        safety = json.loads(row.safety) if row.safety else {}
        old_times = list(safety.get("timetable") or [])
        number = (s.execute(select(func.count()).where(AmendmentRow.trial_id == trial_id)).scalar() or 0) + 1
        diff: dict[str, Any] = {}
        plan, acknowledged = None, False
        if changes or add_cycles or times is None:  # reminder times alone make no new protocol version
            plan = plan_amendment(current, row.start_date, today, changes, add_cycles)
            diff = {k: list(v) for k, v in plan.changes.items() if k != "earlier_versions"}
            checked = check_for_trial(plan.protocol, safety.get("profile"), acknowledged=clinician_ack)
            acknowledged = checked.acknowledged
            # The dose timetable is the checker's for a new product; otherwise the times in use stay.
            keep = "product" not in plan.changes and old_times
            safety = {**checked.stored, "timetable": old_times} if keep else checked.stored
        if times is not None and times != old_times:
            safety = {**safety, "timetable": times}
            diff["reminder_times"] = [old_times, times]
        elif times is not None and not diff:
            raise ValidationError("the amendment changes nothing: these are already the reminder times")
        protocol = plan.protocol if plan else current
        version = plan.version if plan else len(versions(current))
        from_period = plan.from_period if plan else 0
        sealed = commitment = None
        if plan and plan.cycles_added:
            sealed, commitment = allocation_parts.seal_part(
                s, trial_id, number, protocol.design, plan.cycles_added, plan.first_added_period or 0
            )
        _write(ctx, s, row, current, protocol, safety, plan is not None)
        s.add(
            AmendmentRow(
                trial_id=trial_id,
                number=number,
                version=version,
                from_period=from_period,
                changes=json.dumps(diff, sort_keys=True),
                reason=reason,
                approved_by=ctx.actor.name,
                created_at=ctx.clock(),
                cycles_added=plan.cycles_added if plan else 0,
                first_added_period=plan.first_added_period if plan else None,
                sealed=sealed,
                commitment=commitment,
            )
        )
        ctx.audit(
            s,
            "trial.amendment",
            "amendment",
            f"{trial_id}#{number}",
            trial_id,
            new={
                "number": number,
                "version": version,
                "from_period": from_period,
                "changes": diff,
                "cycles_added": plan.cycles_added if plan else 0,
                "first_added_period": plan.first_added_period if plan else None,
                "commitment": commitment,
                "sealed_to": crypto.recipients_of(sealed) if sealed else [],
                "sealed_sha256": audit.sha256_text(sealed) if sealed else None,
                "safety_verdict": safety.get("verdict"),
            },
            reason=reason,
        )
        if acknowledged:
            needing = [f for f in safety["findings"] if f["level"] == "needs-clinician"]
            ctx.audit(
                s,
                "safety.acknowledge",
                "trial",
                trial_id,
                trial_id,
                new={"findings": needing, "amendment": number},
                reason="clinician reviewed the safety findings of the amended regimen and agreed it may go on",
            )
    return AmendmentResult(
        number,
        version,
        from_period,
        diff,
        plan.cycles_added if plan else 0,
        plan.first_added_period if plan else None,
        commitment,
        safety.get("verdict"),
        protocol,
    )


def _write(ctx: Context, s: Session, row: Any, old: Protocol, new: Protocol, safety: dict, changed: bool) -> None:
    """The trial row's protocol and safety; the protocol change as ``protocol.amend``, which replay follows."""
    row.safety = json.dumps(safety)
    if not changed:
        return
    row.protocol = json.dumps(new.to_dict(), sort_keys=True)
    before, after = old.to_dict(), new.to_dict()
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    ctx.audit(
        s,
        "protocol.amend",
        "protocol",
        row.id,
        row.id,
        old={k: before.get(k) for k in keys},
        new={k: after.get(k) for k in keys},
        reason="amendment from the next period (see the trial.amendment event that follows)",
    )


def list_amendments(ctx: Context, trial_id: str) -> list[dict[str, Any]]:
    """The trial's amendments, oldest first, as anyone who may see the trial may see them (no arms)."""
    with ctx.db.reader() as s:
        trial_for(s, ctx.actor, trial_id)
        return summaries(s, trial_id)


def summaries(s: Session, trial_id: str) -> list[dict[str, Any]]:
    rows = s.execute(select(AmendmentRow).where(AmendmentRow.trial_id == trial_id).order_by(AmendmentRow.number))
    return [
        {
            "number": r.number,
            "at": f"{aware(r.created_at):%Y-%m-%d %H:%M} UTC",
            "by": r.approved_by,
            "reason": r.reason,
            "version": r.version,
            "from_period": r.from_period,
            "changes": _changes_text(json.loads(r.changes)),
            "cycles_added": r.cycles_added,
            "first_added_period": r.first_added_period,
            "commitment": r.commitment,
        }
        for r in rows.scalars()
    ]


def _changes_text(diff: dict[str, Any]) -> str:
    parts = []
    for key, (old, new) in sorted(diff.items()):
        if key == "product" and isinstance(old, dict) and isinstance(new, dict):
            inner = ", ".join(
                f"{k} {old.get(k)} -> {new.get(k)}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)
            )
            parts.append(f"product ({inner})")
        elif key == "reminder_times":
            parts.append(f"reminder times {', '.join(old) or 'default'} -> {', '.join(new)}")
        else:
            parts.append(f"{key.replace('_', ' ')} {old} -> {new}")
    return "; ".join(parts)
