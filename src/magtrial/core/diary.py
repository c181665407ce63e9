"""Diary entries and the rules for adding, correcting and voiding them.

Entries are append-only versions. Version 1 is the original; a correction is a new version with a
reason; a void is a version marked "entered in error" with a reason. Nothing is overwritten: the
current entry for a day is simply its latest version, unless that version is a void.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo

import pydantic
from pydantic import Field

from magtrial.core.diary_vocabulary import SIDE_EFFECTS as SIDE_EFFECTS  # the CLI's help reads it alone
from magtrial.core.inputs import INPUT_CONFIG, Count, Name, Text, kind, shown, validate, validated
from magtrial.errors import Conflict, DiaryError, NotFound


class DoseTaken(StrEnum):
    FULL = "full"
    PARTIAL = "partial"
    NONE = "none"


class Severity(StrEnum):
    """The optional self-report items' taps."""

    NONE = "none"
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


SELF_REPORT_ITEMS = {
    "touch_pain": "Pain from light touch (clothes, bedsheets, a breeze)",
    "temperature_pain": "Pain or discomfort from cold or warmth",
}
"""Optional diary items, in our own words (no licensed questionnaire text); absent when not asked."""


class VersionKind(StrEnum):
    ORIGINAL = "original"
    CORRECTION = "correction"
    VOID = "void"


SCORE_FIELDS = ("average_pain", "worst_pain", "sleep_interference")


@validated(DiaryError)
@pydantic.dataclasses.dataclass(frozen=True, config=INPUT_CONFIG)
class DiaryValues:
    """One day's answers. Types, unknown keys and text length are checked by pydantic (one line naming
    the field); ``__post_init__`` checks the 0-10 ranges, worst >= average and the side-effect names."""

    average_pain: Count
    worst_pain: Count
    sleep_interference: Count
    dose_taken: DoseTaken = DoseTaken.FULL
    side_effects: Annotated[frozenset[Name], Field(max_length=len(SIDE_EFFECTS))] = field(default_factory=frozenset)
    side_effect_other: Text = ""
    rescue_medication: Text = ""
    note: Text = ""
    touch_pain: Severity | None = None
    temperature_pain: Severity | None = None

    def __post_init__(self) -> None:
        for name in SCORE_FIELDS:
            value = getattr(self, name)
            if not 0 <= value <= 10:
                raise DiaryError(f"{name.replace('_', ' ')} must be 0-10, got {value}")
        if self.worst_pain < self.average_pain:
            raise DiaryError(f"worst pain ({self.worst_pain}) cannot be lower than average pain ({self.average_pain})")
        unknown = set(self.side_effects) - set(SIDE_EFFECTS)
        if unknown:
            raise DiaryError(
                f"unknown side effect(s) {', '.join(sorted(unknown))}; known: {', '.join(SIDE_EFFECTS)} "
                "(describe anything else in 'other')"
            )

    def as_dict(self) -> dict[str, object]:
        return {
            "average_pain": self.average_pain,
            "worst_pain": self.worst_pain,
            "sleep_interference": self.sleep_interference,
            "dose_taken": self.dose_taken.value,
            "side_effects": sorted(self.side_effects),
            "side_effect_other": self.side_effect_other,
            "rescue_medication": self.rescue_medication,
            "note": self.note,
        } | {name: getattr(self, name).value for name in SELF_REPORT_ITEMS if getattr(self, name) is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> DiaryValues:
        """From plain keys (a stored JSON row, a form); an error is one line naming the key."""
        if not isinstance(data, Mapping):
            raise DiaryError(f"diary values must be a table of keys, got {shown(data)} ({kind(data)})")
        return validate(cls, dict(data), DiaryError)


@dataclass(frozen=True)
class DiaryVersion:
    day: dt.date
    version: int
    kind: VersionKind
    values: DiaryValues | None  # None for a void
    recorded_at: dt.datetime  # UTC
    recorded_by: str
    late: bool = False
    reason: str = ""


def current_entries(versions: Iterable[DiaryVersion]) -> dict[dt.date, DiaryVersion]:
    """The latest non-void version per day: the values analysis and reports use."""
    latest: dict[dt.date, DiaryVersion] = {}
    for v in versions:
        if v.day not in latest or v.version > latest[v.day].version:
            latest[v.day] = v
    return {day: v for day, v in sorted(latest.items()) if v.kind is not VersionKind.VOID}


def is_late(day: dt.date, recorded_at: dt.datetime, timezone: str, late_after_hours: int) -> bool:
    """Late when recorded more than ``late_after_hours`` after the day ended in the participant's zone."""
    end_of_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=ZoneInfo(timezone))
    return recorded_at - end_of_day > dt.timedelta(hours=late_after_hours)


def check_day(
    day: dt.date, now: dt.datetime, timezone: str, first_day: dt.date | None = None, last_day: dt.date | None = None
) -> None:
    """Refuse future days (in the participant's zone) and days outside the trial calendar."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    if day > today:
        raise DiaryError(
            f"{day.isoformat()} is in the future (today is {today.isoformat()}); "
            "diary entries can only be made for today or earlier"
        )
    if first_day and day < first_day:
        raise DiaryError(f"{day.isoformat()} is before the trial starts ({first_day.isoformat()})")
    if last_day and day > last_day:
        raise DiaryError(f"{day.isoformat()} is after the trial ends ({last_day.isoformat()})")


def next_version(existing: list[DiaryVersion], day: dt.date, kind: VersionKind, reason: str) -> int:
    """Check the version step is allowed and return its number; raises with the reason it is not."""
    same_day = [v for v in existing if v.day == day]
    latest = max(same_day, key=lambda v: v.version) if same_day else None
    has_current = latest is not None and latest.kind is not VersionKind.VOID
    if kind is VersionKind.ORIGINAL:
        if has_current:
            raise Conflict(f"there is already an entry for {day.isoformat()}; correct it (with a reason) instead")
    else:
        if not has_current:
            verb = "correct" if kind is VersionKind.CORRECTION else "void"
            raise NotFound(f"there is no current entry for {day.isoformat()} to {verb}")
        if not reason.strip():
            raise DiaryError(f"a {kind.value} needs a reason")
    return (latest.version + 1) if latest else 1
