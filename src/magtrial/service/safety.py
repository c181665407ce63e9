"""The safety checker inside the trial workflow: before a trial starts and after each diary entry.

- ``check_for_trial``: a blocked regimen cannot start; "needs clinician" needs the clinician's
  acknowledgement, which the trial service records as its own audit event.
- ``review_entry``: after a diary entry (inside its transaction, see ``service.diary``),
  stop-and-seek-care symptoms raise an urgent finding that flags the trial for the clinician;
  repeated diarrhoea in a period suggests a lower dose.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from magtrial.core.diary import DiaryVersion
from magtrial.core.protocol import Protocol
from magtrial.core.safety.checker import check_protocol
from magtrial.core.safety.model import Finding, Level, SafetyReport
from magtrial.core.safety.monitoring import review_diary
from magtrial.core.safety.profile import SafetyProfile
from magtrial.core.schedule import Schedule
from magtrial.data.safety import load_safety_rules
from magtrial.errors import SafetyBlocked, ValidationError


@dataclass(frozen=True)
class CheckedSafety:
    report: SafetyReport
    profile: SafetyProfile
    acknowledged: bool

    @property
    def stored(self) -> dict[str, Any]:
        """What the trial keeps (and the audit trail records): inputs, verdict, findings, acknowledgement."""
        return {
            "profile": self.profile.to_dict(),
            "verdict": self.report.verdict.value,
            "total_oral_mg": self.report.total_oral_mg,
            "upper_limit_mg": self.report.upper_limit_mg,
            "findings": [finding_dict(f) for f in self.report.by_level()],
            "timetable": [f"{d.time:%H:%M}" for d in self.report.timetable.doses] if self.report.timetable else [],
            "clinician_acknowledged": self.acknowledged,
        }

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(f"{f.rule_id}: {f.message}" for f in self.report.by_level() if f.flag_clinician)


def finding_dict(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {"rule_id": f.rule_id, "level": f.level.value, "message": f.message, "source": f.source}
    if f.day:
        out["day"] = f.day.isoformat()
    if f.period:
        out["period"] = f.period
    return out


def check_for_trial(protocol: Protocol, safety: dict[str, Any] | None, acknowledged: bool) -> CheckedSafety:
    """Run the checker on the protocol's product; raise when the trial may not start as asked."""
    if not safety or "person" not in safety:
        raise ValidationError(
            "a trial needs the person's safety details before it starts: at least age and "
            "kidney function (eGFR); give a [person] table in the trial file, or --age and --egfr"
        )
    profile = SafetyProfile.from_dict(safety)
    report = check_protocol(
        profile.person, protocol.product, profile.medications, profile.jurisdiction, rules=load_safety_rules()
    )
    if not report.may_start:
        reasons = "; ".join(f"{f.rule_id}: {f.message}" for f in report.by_level() if f.level >= Level.BLOCKED)
        raise SafetyBlocked(f"this regimen is blocked and the trial cannot start: {reasons}")
    if report.needs_acknowledgement and not acknowledged:
        reasons = "; ".join(f"{f.rule_id}: {f.message}" for f in report.by_level() if f.level is Level.NEEDS_CLINICIAN)
        raise SafetyBlocked(
            f"a clinician must acknowledge before this trial starts ({reasons}); "
            "re-run with --clinician-ack as the clinician"
        )
    return CheckedSafety(report, profile, acknowledged and report.needs_acknowledgement)


def review_entry(schedule: Schedule, current: Mapping[dt.date, DiaryVersion], day: dt.date) -> list[Finding]:
    """Findings a new or corrected entry for ``day`` triggers, most serious first.

    Urgent findings of this day, and a dose suggestion for this day's period when this entry
    adds a day of diarrhoea to it.
    """
    entry = current.get(day)
    had_diarrhoea = entry is not None and entry.values is not None and "diarrhoea" in entry.values.side_effects
    period = schedule.day(day).period
    findings = [
        f
        for f in review_diary(schedule, current, rules=load_safety_rules())
        if f.day == day or (had_diarrhoea and not f.urgent and f.period == period and period)
    ]
    return sorted(findings, key=lambda f: -f.level.rank)
