"""Co-interventions, clinic measurements and late-entry approvals: clinicians record, everyone who
sees the trial reads (none of it depends on the allocation). Each record is one insert-only row and
its audit event in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import BindParameter

from magtrial.core.clinic import (
    CoIntervention,
    CoInterventionKind,
    DailyMagnesium,
    Measurement,
    co_intervention,
    daily_magnesium,
    measurement,
)
from magtrial.core.diary import current_entries
from magtrial.core.protocol import Protocol
from magtrial.core.schedule import Schedule, build_schedule
from magtrial.data.safety import elemental_dose, load_safety_rules
from magtrial.errors import Conflict, ValidationError
from magtrial.service.access import Role, require, trial_for
from magtrial.service.context import Context
from magtrial.service.diary import MAX_REASON, stored_protocol, stored_versions
from magtrial.store.clinic_models import CoInterventionRow, LateEntryApprovalRow, MeasurementRow
from magtrial.store.models import TrialRow

EARLIEST_BEFORE_START = dt.timedelta(days=365)  # treatments up to a year before the trial are still context


@dataclass(frozen=True)
class TimelineItem:
    """One co-intervention as the CENT timeline draws it."""

    date: dt.date
    last_date: dt.date
    kind: str
    description: str
    dose: str


def _clinician(ctx: Context) -> None:
    """Checked first, so another role is refused before its input is even read."""
    require(ctx.actor, Role.CLINICIAN, to="record co-interventions, measurements or late-entry approvals")


def _open_for_clinic(s: Session, ctx: Context, trial_id: str) -> tuple[TrialRow, Protocol]:
    _clinician(ctx)
    row = trial_for(s, ctx.actor, trial_id, lock=True)
    return row, stored_protocol(row.protocol)


def add_co_intervention(
    ctx: Context,
    trial_id: str,
    day: dt.date,
    kind: CoInterventionKind | str,
    description: str,
    *,
    dose: str = "",
    given_by: str = "",
    last_day: dt.date | None = None,
) -> CoIntervention:
    """Record a co-intervention; IV magnesium's dose is converted to elemental magnesium per day."""
    _clinician(ctx)
    rules = load_safety_rules()
    item = co_intervention(
        day,
        kind,
        description,
        dose=dose,
        given_by=given_by or ctx.actor.name,
        last_day=last_day,
        sulfate=rules.salt("sulfate").form("heptahydrate"),
    )
    now = ctx.clock()
    with ctx.db.transaction() as s:
        row, protocol = _open_for_clinic(s, ctx, trial_id)
        schedule = build_schedule(protocol, row.start_date)
        if day > protocol.local_date(now):
            raise ValidationError(f"{day.isoformat()} is in the future; record a co-intervention once it is given")
        if day < schedule.start - EARLIEST_BEFORE_START or item.last_day > schedule.end:
            raise ValidationError(
                f"a co-intervention must fall between a year before the trial ({schedule.start.isoformat()}) "
                f"and its end ({schedule.end.isoformat()})"
            )
        stored = CoInterventionRow(
            trial_id=trial_id,
            day=item.day,
            last_day=item.last_day,
            kind=item.kind.value,
            description=item.description,
            dose=item.dose,
            elemental_mg=item.elemental_mg,
            given_by=item.given_by,
            recorded_at=now,
            recorded_by=ctx.actor.name,
        )
        s.add(stored)
        s.flush()
        ctx.audit(s, "cointervention.add", "co_intervention", str(stored.id), trial_id, new=item.as_dict())
    return _with_recorder(item, ctx.actor.name)


def _with_recorder(item: CoIntervention, name: str) -> CoIntervention:
    return CoIntervention(**{**item.__dict__, "recorded_by": name})


def co_interventions(ctx: Context, trial_id: str) -> list[CoIntervention]:
    with ctx.db.reader() as s:
        trial_for(s, ctx.actor, trial_id)
        return stored_co_interventions(s, trial_id)


# Prebuilt column reads (no ORM objects): every trial record makes them, so they stay cheap.
_TRIAL: BindParameter[str] = bindparam("trial_id")
_CO_INTERVENTIONS = (
    select(*(getattr(CoInterventionRow, c) for c in ("day", "last_day", "kind", "description", "dose", "given_by")),
           CoInterventionRow.elemental_mg, CoInterventionRow.recorded_by)
    .where(CoInterventionRow.trial_id == _TRIAL)
    .order_by(CoInterventionRow.day, CoInterventionRow.id)
)  # fmt: skip
_MEASUREMENTS = (
    select(MeasurementRow.day, MeasurementRow.item, MeasurementRow.value, MeasurementRow.present,
           MeasurementRow.note, MeasurementRow.recorded_by)
    .where(MeasurementRow.trial_id == _TRIAL)
    .order_by(MeasurementRow.day, MeasurementRow.id)
)  # fmt: skip
_APPROVED_DAYS = (
    select(LateEntryApprovalRow.day).where(LateEntryApprovalRow.trial_id == _TRIAL).order_by(LateEntryApprovalRow.day)
)


def stored_co_interventions(s: Session, trial_id: str) -> list[CoIntervention]:
    rows = s.execute(_CO_INTERVENTIONS, {"trial_id": trial_id})
    return [
        CoIntervention(
            r.day,
            r.last_day,
            CoInterventionKind(r.kind),
            r.description,
            r.dose,
            r.given_by,
            r.elemental_mg,
            r.recorded_by,
        )
        for r in rows
    ]


def timeline(ctx: Context, trial_id: str) -> list[TimelineItem]:
    """The trial's co-interventions as plain typed items (date, kind, description, dose) for the timeline."""
    return [
        TimelineItem(c.day, c.last_day, c.kind.value, c.description, c.dose) for c in co_interventions(ctx, trial_id)
    ]


def magnesium_on(ctx: Context, trial_id: str, day: dt.date) -> DailyMagnesium:
    """The safety checker's total elemental magnesium for ``day``: the trial's oral dose (counted every
    day, as if magnesium, so it reveals nothing) plus IV magnesium given in clinic that day."""
    with ctx.db.reader() as s:
        row = trial_for(s, ctx.actor, trial_id)
        protocol = stored_protocol(row.protocol)
        items = stored_co_interventions(s, trial_id)
    oral = 0.0
    if not protocol.product.route.transdermal:
        oral = elemental_dose(protocol.product)[0] or 0.0
    return daily_magnesium(day, oral, items)


def add_measurement(
    ctx: Context,
    trial_id: str,
    day: dt.date,
    item: str,
    value: float | None,
    present: bool | None = None,
    note: str = "",
) -> Measurement:
    """Record one clinic measurement on a day of the trial (a period-end visit)."""
    _clinician(ctx)
    m = measurement(day, item, value, present, note)
    now = ctx.clock()
    with ctx.db.transaction() as s:
        row, protocol = _open_for_clinic(s, ctx, trial_id)
        schedule = build_schedule(protocol, row.start_date)
        if day > protocol.local_date(now):
            raise ValidationError(f"{day.isoformat()} is in the future")
        if not schedule.start <= day <= schedule.end:
            raise ValidationError(
                f"{day.isoformat()} is outside the trial ({schedule.start.isoformat()} to {schedule.end.isoformat()})"
            )
        stored = MeasurementRow(
            trial_id=trial_id,
            day=day,
            item=m.item,
            value=m.value,
            present=m.present,
            note=m.note,
            recorded_at=now,
            recorded_by=ctx.actor.name,
        )
        s.add(stored)
        s.flush()
        new = {"day": day.isoformat(), "item": m.item, "value": m.value, "present": m.present, "note": m.note}
        ctx.audit(s, "measurement.add", "measurement", str(stored.id), trial_id, new=new)
    return Measurement(m.day, m.item, m.value, m.present, m.note, ctx.actor.name)


def measurements(ctx: Context, trial_id: str) -> list[Measurement]:
    with ctx.db.reader() as s:
        trial_for(s, ctx.actor, trial_id)
        return stored_measurements(s, trial_id)


def stored_measurements(s: Session, trial_id: str) -> list[Measurement]:
    rows = s.execute(_MEASUREMENTS, {"trial_id": trial_id})
    return [Measurement(r.day, r.item, r.value, r.present, r.note, r.recorded_by) for r in rows]


@dataclass(frozen=True)
class LateApproval:
    day: dt.date
    reason: str
    approved_by: str
    approved_at: dt.datetime


def approve_late_entry(ctx: Context, trial_id: str, day: dt.date, reason: str) -> LateApproval:
    """Let a diary day older than the late window be entered (once), with the clinician's reason."""
    _clinician(ctx)
    reason = reason.strip()
    if not reason:
        raise ValidationError("a late-entry approval needs a reason")
    if len(reason) > MAX_REASON:
        raise ValidationError(f"the reason is longer than {MAX_REASON} characters")
    now = ctx.clock()
    with ctx.db.transaction() as s:
        row, protocol = _open_for_clinic(s, ctx, trial_id)
        if row.status != "active":
            raise Conflict(f"trial {trial_id} is {row.status}; its diary is locked")
        schedule = build_schedule(protocol, row.start_date)
        if day > protocol.local_date(now) or not schedule.start <= day <= schedule.end:
            raise ValidationError(f"{day.isoformat()} is not a past day of the trial")
        if day in current_entries(stored_versions(s, trial_id, day, day)):
            raise Conflict(f"{day.isoformat()} already has an entry; correct it (with a reason) instead")
        taken = select(LateEntryApprovalRow.id).where(
            LateEntryApprovalRow.trial_id == trial_id, LateEntryApprovalRow.day == day
        )
        if s.scalar(taken) is not None:  # the trial row lock serializes approvals of one trial
            raise Conflict(f"a late entry for {day.isoformat()} is already approved")
        s.add(
            LateEntryApprovalRow(trial_id=trial_id, day=day, reason=reason, approved_at=now, approved_by=ctx.actor.name)
        )
        ctx.audit(
            s,
            "late_entry.approve",
            "late_entry",
            day.isoformat(),
            trial_id,
            new={"day": day.isoformat()},
            reason=reason,
        )
    return LateApproval(day, reason, ctx.actor.name, now)


def late_approvals(ctx: Context, trial_id: str) -> list[LateApproval]:
    with ctx.db.reader() as s:
        trial_for(s, ctx.actor, trial_id)
        rows = s.scalars(
            select(LateEntryApprovalRow)
            .where(LateEntryApprovalRow.trial_id == trial_id)
            .order_by(LateEntryApprovalRow.day)
        )
        return [LateApproval(r.day, r.reason, r.approved_by, r.approved_at) for r in rows]


def schedule_of(ctx: Context, trial_id: str) -> Schedule:
    """The trial's calendar, to place visits in periods (pack numbers) for any viewer."""
    with ctx.db.reader() as s:
        row = trial_for(s, ctx.actor, trial_id)
        return build_schedule(stored_protocol(row.protocol), row.start_date)


def clinic_extra(s: Session, trial_id: str) -> dict[str, object]:
    """What a ``TrialRecord`` carries for reports: co-interventions, measurements, timeline markers."""
    items = stored_co_interventions(s, trial_id)
    return {
        "co_interventions": items,
        "measurements": stored_measurements(s, trial_id),
        "timeline_markers": [(c.day, f"{c.kind.value}: {c.description}") for c in items],
        "late_approvals": list(s.scalars(_APPROVED_DAYS, {"trial_id": trial_id})),
    }
