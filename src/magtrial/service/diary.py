"""Diary versions: add, correct, void; each a new row and an audit event, never an update.

Each write is one transaction that locks the trial row (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serializes writers), checks the trial is still
open, appends the version and its audit event, and runs the post-entry safety review, flagging
the trial for the clinician in the same transaction. So no entry lands after unblinding, and no
interface can save an entry without its review.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy.exc
from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from magtrial.core.diary import (
    SELF_REPORT_ITEMS,
    DiaryValues,
    DiaryVersion,
    VersionKind,
    check_day,
    current_entries,
    is_late,
    next_version,
)
from magtrial.core.protocol import Protocol
from magtrial.core.safety.model import Finding
from magtrial.core.schedule import build_schedule
from magtrial.errors import Conflict, DiaryError, NotFound
from magtrial.service.access import Role, require, trial_for
from magtrial.service.consent import check_diary_allowed
from magtrial.service.context import Context, aware
from magtrial.service.safety import review_entry
from magtrial.store import audit
from magtrial.store.clinic_models import LateEntryApprovalRow
from magtrial.store.models import DiaryVersionRow, TrialRow

MAX_REASON = 2000


@dataclass(frozen=True)
class EntryResult:
    """What a diary write returns: the stored version, safety findings, and the receipt (audit head)."""

    version: DiaryVersion
    findings: tuple[Finding, ...]
    receipt: str  # "SEQ:HASH" of the audit head after this write

    @property
    def urgent(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.urgent)


def add_entry(ctx: Context, trial_id: str, day: dt.date, values: DiaryValues) -> EntryResult:
    return _write(ctx, trial_id, day, VersionKind.ORIGINAL, lambda _current: values, "")


def correct_entry(
    ctx: Context, trial_id: str, day: dt.date, changes: DiaryValues | Mapping[str, Any], reason: str
) -> EntryResult:
    """A new version with a reason. ``changes`` may name only the fields that change; the rest are kept."""

    def merged(current: DiaryValues | None) -> DiaryValues:
        if isinstance(changes, DiaryValues):
            return changes
        if current is None:
            raise NotFound(f"there is no current entry for {day.isoformat()} to correct")
        unknown = set(changes) - set(current.as_dict()) - set(SELF_REPORT_ITEMS)
        if unknown:
            raise DiaryError(f"unknown diary field(s): {', '.join(sorted(unknown))}")
        if not changes:
            raise DiaryError("a correction must change at least one value")
        return DiaryValues.from_dict({**current.as_dict(), **changes})

    return _write(ctx, trial_id, day, VersionKind.CORRECTION, merged, reason)


def void_entry(ctx: Context, trial_id: str, day: dt.date, reason: str) -> EntryResult:
    return _write(ctx, trial_id, day, VersionKind.VOID, lambda _current: None, reason)


def today(ctx: Context, trial_id: str) -> dt.date:
    """Today in the participant's time zone: the day an entry without a date is for.

    Reads only the trial row, not the whole record (``trials.today``): ``diary add`` stays quick (issue 13).
    """
    with ctx.db.reader() as s:
        protocol = stored_protocol(trial_for(s, ctx.actor, trial_id).protocol)
    return protocol.local_date(ctx.clock())


def versions(ctx: Context, trial_id: str) -> list[DiaryVersion]:
    with ctx.db.reader() as s:
        trial_for(s, ctx.actor, trial_id)
        return stored_versions(s, trial_id)


def _write(ctx: Context, trial_id: str, day: dt.date, kind: VersionKind, values_for, reason: str) -> EntryResult:
    require(ctx.actor, Role.PATIENT, Role.CLINICIAN, to="write diary entries")
    now = ctx.clock()
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise DiaryError(f"the reason is longer than {MAX_REASON} characters")
    with ctx.db.transaction() as s:
        row = trial_for(s, ctx.actor, trial_id, lock=True)  # held until commit: unblinding waits for us
        if row.status != "active":
            raise Conflict(f"trial {trial_id} is {row.status}; its diary is locked")
        check_diary_allowed(s, trial_id)  # the latest consent version must be signed first
        protocol = stored_protocol(row.protocol)
        schedule = build_schedule(protocol, row.start_date)
        check_day(day, now, protocol.timezone, schedule.start, schedule.end)
        # The review looks at this day and its period only, so only those versions are read.
        plan = schedule.day(day)
        period = schedule.periods[plan.period - 1] if plan.period else None
        existing = stored_versions(s, trial_id, period.start if period else day, period.end if period else day)
        number = next_version(existing, day, kind, reason)
        if kind is VersionKind.ORIGINAL:
            reason = _late_permission(s, trial_id, day, now, protocol) or reason
        before = current_entries(existing).get(day)
        previous = before.values if before else None
        values = values_for(previous)
        late = is_late(day, now, protocol.timezone, protocol.late_after_hours)
        version = DiaryVersion(day, number, kind, values, now, ctx.actor.name, late, reason)
        try:
            s.execute(
                _INSERT_VERSION,
                [
                    {
                        "trial_id": trial_id,
                        "day": day,
                        "version": number,
                        "kind": kind.value,
                        "values": json.dumps(values.as_dict()) if values else None,
                        "recorded_at": now,
                        "recorded_by": ctx.actor.name,
                        "role": ctx.actor.role.value,
                        "late": late,
                        "reason": reason,
                    }
                ],
            )
        except sqlalchemy.exc.IntegrityError:
            raise Conflict(
                f"an entry for {day.isoformat()} was just recorded from another device; "
                "reload the diary and correct it (with a reason) if needed"
            ) from None
        ctx.audit(
            s,
            f"diary.{kind.value}",
            "diary",
            f"{day.isoformat()}#v{number}",
            trial_id,
            old=previous.as_dict() if previous else None,
            new={"values": values.as_dict() if values else None, "late": late, "by": ctx.actor.name},
            reason=reason,
        )
        findings = review_entry(schedule, current_entries([*existing, version]), day) if values else []
        _flag(
            ctx,
            s,
            row,
            [f"{day.isoformat()} {f.rule_id}: {f.message}" for f in findings if f.flag_clinician or f.urgent],
        )
        receipt = str(audit.current_head(s))
    return EntryResult(version, tuple(findings), receipt)


def _late_permission(s: Session, trial_id: str, day: dt.date, now: dt.datetime, protocol: Protocol) -> str:
    """Past the protocol's late window a day needs a clinician's approval (``service.late_entries``);
    its reason becomes the entry's. Returns "" inside the window or when the protocol sets none."""
    window = protocol.late_window_hours
    if window is None or not is_late(day, now, protocol.timezone, window):
        return ""
    approval = s.scalar(
        select(LateEntryApprovalRow).where(LateEntryApprovalRow.trial_id == trial_id, LateEntryApprovalRow.day == day)
    )
    if approval is None:
        raise DiaryError(
            f"{day.isoformat()} is more than {window} hours past; only a late entry your clinician approves "
            f"(with a reason) can be added for it"
        )
    return f"late entry approved by {approval.approved_by}: {approval.reason}"


def _flag(ctx: Context, s: Session, row: TrialRow, new_flags: list[str]) -> None:
    """Raise flags for the clinician (e.g. a stop-and-seek-care symptom), kept until reviewed; audited."""
    flags = json.loads(row.flags)
    added = [f for f in new_flags if f not in flags]
    if not added:
        return
    row.flags = json.dumps([*flags, *added])
    ctx.audit(s, "trial.flag", "trial", row.id, row.id, old=flags, new=[*flags, *added])


_INSERT_VERSION = insert(cast(Table, DiaryVersionRow.__table__))
_VERSION_COLUMNS = (
    DiaryVersionRow.day,
    DiaryVersionRow.version,
    DiaryVersionRow.kind,
    DiaryVersionRow.values,
    DiaryVersionRow.recorded_at,
    DiaryVersionRow.recorded_by,
    DiaryVersionRow.late,
    DiaryVersionRow.reason,
)


@functools.lru_cache(maxsize=512)
def stored_protocol(text: str) -> Protocol:
    """The protocol stored as canonical JSON, parsed once per distinct text (a ``Protocol`` is frozen)."""
    return Protocol.from_dict(json.loads(text))


def stored_versions(
    s: Session, trial_id: str, first: dt.date | None = None, last: dt.date | None = None
) -> list[DiaryVersion]:
    """A trial's diary versions in day and version order, optionally only days ``first``..``last``."""
    query = select(*_VERSION_COLUMNS).where(DiaryVersionRow.trial_id == trial_id)
    if first is not None:
        query = query.where(DiaryVersionRow.day >= first)
    if last is not None:
        query = query.where(DiaryVersionRow.day <= last)
    rows = s.execute(query.order_by(DiaryVersionRow.day, DiaryVersionRow.version))  # columns: no ORM objects
    return [
        DiaryVersion(
            day=r.day,
            version=r.version,
            kind=VersionKind(r.kind),
            values=DiaryValues.from_dict(json.loads(r.values)) if r.values else None,
            recorded_at=aware(r.recorded_at),
            recorded_by=r.recorded_by,
            late=r.late,
            reason=r.reason,
        )
        for r in rows
    ]
