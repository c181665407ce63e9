"""The report's co-interventions and clinic measurements (CENT item 4a; secondary outcomes).

Read from ``record.extra`` ("co_interventions", "measurements": filled by ``service.trials``).
Blinded, the section shows what was given and measured by date and period (pack number), which does
not depend on the allocation; unblinded, it adds each overlapped period's arm and compares the
measurements by cycle (``core.analysis.secondary``).
"""

from __future__ import annotations

from typing import Any

from magtrial.core.analysis.secondary import compare_measurements
from magtrial.core.clinic import CoIntervention, Measurement, measurements_by_period, overlaps
from magtrial.core.record import TrialRecord


def clinic_section(record: TrialRecord) -> dict[str, Any] | None:
    """None when nothing was recorded, so reports of trials without any stay as they were."""
    items: list[CoIntervention] = list(record.extra.get("co_interventions") or [])  # type: ignore[call-overload]
    visits: list[Measurement] = list(record.extra.get("measurements") or [])  # type: ignore[call-overload]
    if not items and not visits:
        return None
    schedule = record.schedule

    def where(day: Any) -> str:
        period = schedule.day(day).period if schedule.start <= day <= schedule.end else None
        return (
            f"period {period} (pack {period})" if period else ("before the trial" if day < schedule.start else "run-in")
        )

    return {
        "co_interventions": [
            {
                "dates": c.day.isoformat()
                if c.last_day == c.day
                else f"{c.day.isoformat()} to {c.last_day.isoformat()}",
                "kind": c.kind.value,
                "what": c.description,
                "dose": c.dose,
                "magnesium": f"{c.elemental_mg:g} mg/day" if c.elemental_mg else "",
                "given_by": c.given_by,
            }
            for c in items
        ],
        "overlaps": overlap_flags(record),
        "measurements": [
            {"date": m.day.isoformat(), "where": where(m.day), "item": m.spec.label, "result": m.shown, "note": m.note}
            for m in visits
        ],
        "comparisons": []
        if record.allocation is None
        else [
            r.text for r in compare_measurements(measurements_by_period(schedule, visits), schedule, record.allocation)
        ],
    }


def overlap_flags(record: TrialRecord) -> list[str]:
    """The periods co-interventions overlapped, each with its arm once unblinded (by pack only before)."""
    items: list[CoIntervention] = list(record.extra.get("co_interventions") or [])  # type: ignore[call-overload]
    allocation = record.allocation
    return [
        o.text + ("" if allocation is None else f" [{allocation.arm_of_period(o.period).value}]")
        for o in overlaps(record.schedule, items)
    ]


def cent_note(record: TrialRecord) -> str:
    """CENT item 5's words on co-interventions; nothing when none were recorded."""
    items = list(record.extra.get("co_interventions") or [])  # type: ignore[call-overload]
    if not items:
        return ""
    return f"; co-interventions: {len(items)} recorded (see Co-interventions and clinic measurements)"
