"""The trial calendar: run-in, periods (one pack each), washouts, and which days count.

The schedule never knows arms: it speaks of periods and packs, so every blinded view can use it
as is. The allocation maps a period to its arm only where unblinding is allowed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from magtrial.core.protocol import Protocol
from magtrial.core.versions import governing
from magtrial.errors import ValidationError


class DayKind(StrEnum):
    BEFORE = "before-start"
    RUN_IN = "run-in"
    PERIOD = "period"
    WASHOUT = "washout"
    AFTER = "after-end"


@dataclass(frozen=True)
class Period:
    number: int  # 1-based; also the pack number
    cycle: int  # 1-based
    start: dt.date
    end: dt.date  # inclusive
    analysis_start: dt.date  # first day after the carry-over window

    @property
    def pack(self) -> int:
        return self.number

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class DayPlan:
    date: dt.date
    kind: DayKind
    period: int | None = None
    day_in_period: int | None = None  # 1-based
    counts_for_analysis: bool = False

    @property
    def pack(self) -> int | None:
        return self.period

    def instruction(self) -> str:
        """What to do today, in words that never reveal an arm."""
        if self.kind is DayKind.BEFORE:
            return "The trial has not started yet."
        if self.kind is DayKind.RUN_IN:
            return "Run-in: take no trial product; fill in the diary each day."
        if self.kind is DayKind.WASHOUT:
            return "Washout: take no trial product; keep filling in the diary."
        if self.kind is DayKind.AFTER:
            return "The trial has ended. Thank you: talk to your clinician about the results."
        return (
            f"Period {self.period}, day {self.day_in_period}: take pack {self.pack} as prescribed; fill in the diary."
        )


@dataclass(frozen=True)
class Schedule:
    start: dt.date
    run_in_days: int
    periods: tuple[Period, ...]

    @property
    def end(self) -> dt.date:
        return self.periods[-1].end

    @property
    def total_days(self) -> int:
        return (self.end - self.start).days + 1

    def period(self, number: int) -> Period:
        if not 1 <= number <= len(self.periods):
            raise ValidationError(f"period must be 1-{len(self.periods)}, got {number}")
        return self.periods[number - 1]

    def day(self, date: dt.date) -> DayPlan:
        if date < self.start:
            return DayPlan(date, DayKind.BEFORE)
        if date > self.end:
            return DayPlan(date, DayKind.AFTER)
        if date < self.start + dt.timedelta(days=self.run_in_days):
            return DayPlan(date, DayKind.RUN_IN)
        for p in self.periods:
            if p.start <= date <= p.end:
                return DayPlan(
                    date,
                    DayKind.PERIOD,
                    p.number,
                    (date - p.start).days + 1,
                    counts_for_analysis=date >= p.analysis_start,
                )
        return DayPlan(date, DayKind.WASHOUT)

    def days(self) -> Iterator[DayPlan]:
        for offset in range(self.total_days):
            yield self.day(self.start + dt.timedelta(days=offset))


def build_schedule(protocol: Protocol, start: dt.date | None = None) -> Schedule:
    start = start or protocol.start_date
    if start is None:
        raise ValidationError("the trial needs a start date")
    periods = []
    cursor = start + dt.timedelta(days=protocol.run_in_days)
    ruling = governing(protocol)  # an amendment changes periods from a number on, never before
    for number in range(1, protocol.n_periods + 1):
        rules = ruling[number - 1]
        end = cursor + dt.timedelta(days=rules.period_days - 1)
        periods.append(
            Period(
                number=number,
                cycle=(number + 1) // 2,
                start=cursor,
                end=end,
                analysis_start=cursor + dt.timedelta(days=rules.carryover_days),
            )
        )
        cursor = end + dt.timedelta(days=1 + rules.washout_days)
    return Schedule(start=start, run_in_days=protocol.run_in_days, periods=tuple(periods))
