"""A tidy long table of the diary: one row per person, day, item and version.

Statisticians want every value ever recorded, not only the current one: corrections and voids stay
as their own rows with kind and reason, and ``current`` marks the version analysis uses. The arm
column exists only in unblinded exports; blinded ones carry period and pack only, nothing that
groups packs. Every row repeats the audit head the record was read at and whether it is simulated.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from magtrial.core.diary import SELF_REPORT_ITEMS, DiaryVersion
from magtrial.core.labels import arm_of
from magtrial.core.record import TrialRecord

ITEMS = (
    "average_pain",
    "worst_pain",
    "sleep_interference",
    "dose_taken",
    "side_effects",
    "side_effect_other",
    "rescue_medication",
    "note",
)
BASE_COLUMNS = (
    "trial_id",
    "participant",
    "date",
    "study_day",
    "phase",
    "period",
    "pack",
    "counts_for_analysis",
    "item",
    "value",
    "version",
    "kind",
    "reason",
    "current",
    "late",
    "recorded_at",
    "recorded_by",
    "audit_head",
    "simulated",
)


def long_columns(record: TrialRecord) -> tuple[str, ...]:
    if record.allocation is None:
        return BASE_COLUMNS
    i = BASE_COLUMNS.index("pack") + 1
    return (*BASE_COLUMNS[:i], "arm", *BASE_COLUMNS[i:])


def long_rows(record: TrialRecord) -> Iterator[dict[str, Any]]:
    """Rows ordered by day, version, item; a void gives one empty-valued row per item."""
    schedule = record.schedule
    current = {(v.day, v.version) for v in record.current().values()}
    for version in sorted(record.versions, key=lambda v: (v.day, v.version)):
        plan = schedule.day(version.day)
        base: dict[str, Any] = {
            "trial_id": record.trial_id,
            "participant": record.participant,
            "date": version.day.isoformat(),
            "study_day": (version.day - schedule.start).days + 1,
            "phase": plan.kind.value,
            "period": plan.period or "",
            "pack": plan.pack or "",
            "counts_for_analysis": int(plan.counts_for_analysis),
            "version": version.version,
            "kind": version.kind.value,
            "reason": version.reason,
            "current": int((version.day, version.version) in current),
            "late": int(version.late),
            "recorded_at": version.recorded_at.isoformat(),
            "recorded_by": version.recorded_by,
            "audit_head": record.audit_head,
            "simulated": int(record.simulated),
        }
        if record.allocation is not None:
            arm = arm_of(record, plan.period) if plan.period else None
            base["arm"] = arm.value if arm else ""
        answered = version.values.as_dict() if version.values else {}
        for item in (*ITEMS, *(k for k in SELF_REPORT_ITEMS if k in answered)):  # optional items when answered
            yield {**base, "item": item, "value": _value(version, item)}


def _value(version: DiaryVersion, item: str) -> Any:
    if version.values is None:
        return ""
    value = version.values.as_dict()[item]
    return ";".join(value) if isinstance(value, list) else value


def long_csv(record: TrialRecord) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=long_columns(record), lineterminator="\n")
    writer.writeheader()
    writer.writerows(long_rows(record))
    return out.getvalue()


def write_long_csv(record: TrialRecord, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(long_csv(record), encoding="utf-8")
    return path
