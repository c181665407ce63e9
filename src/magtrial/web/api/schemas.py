"""Response models shared by several API modules; built from the core's values, never from tables.

Request bodies reuse the core's own validated input types (``Protocol``, ``DiaryValues``,
``SafetyProfile``' parts), so the API, the CLI and the pages refuse the same input with the same
message. Responses are plain models so the OpenAPI schema says exactly what comes back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict

from magtrial.core.diary import DiaryValues, DiaryVersion
from magtrial.core.safety.model import Finding, Level


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class In(BaseModel):
    """Request bodies: unknown keys are refused (a typo must not be silently dropped)."""

    model_config = ConfigDict(extra="forbid")


class FindingOut(Out):
    rule_id: str
    level: str  # ok, caution, needs-clinician, blocked, stop-seek-care
    message: str
    source: str
    day: dt.date | None = None
    period: int | None = None
    urgent: bool  # stop-seek-care: show first and prominently
    flag_clinician: bool

    @classmethod
    def of(cls, f: Finding) -> FindingOut:
        return cls(
            rule_id=f.rule_id,
            level=f.level.value,
            message=f.message,
            source=f.source,
            day=f.day,
            period=f.period,
            urgent=f.urgent,
            flag_clinician=f.flag_clinician,
        )

    @classmethod
    def of_dict(cls, d: dict[str, Any]) -> FindingOut:
        """A finding stored with a trial (``service.safety.finding_dict``)."""
        level = Level(d["level"])
        return cls(
            rule_id=d["rule_id"],
            level=level.value,
            message=d["message"],
            source=d.get("source", ""),
            day=d.get("day"),
            period=d.get("period"),
            urgent=level is Level.STOP,
            flag_clinician=level >= Level.NEEDS_CLINICIAN,
        )


class DiaryValuesOut(Out):
    average_pain: int
    worst_pain: int
    sleep_interference: int
    dose_taken: str
    side_effects: list[str]
    side_effect_other: str
    rescue_medication: str
    note: str

    @classmethod
    def of(cls, v: DiaryValues | None) -> DiaryValuesOut | None:
        return None if v is None else cls(**v.as_dict())  # type: ignore[arg-type]


class DiaryVersionOut(Out):
    day: dt.date
    version: int
    kind: str  # original, correction, void
    values: DiaryValuesOut | None  # None for a void
    recorded_at: dt.datetime
    recorded_by: str
    late: bool
    reason: str

    @classmethod
    def of(cls, v: DiaryVersion) -> DiaryVersionOut:
        return cls(
            day=v.day,
            version=v.version,
            kind=v.kind.value,
            values=DiaryValuesOut.of(v.values),
            recorded_at=v.recorded_at,
            recorded_by=v.recorded_by,
            late=v.late,
            reason=v.reason,
        )
