"""From a ``TrialRecord`` to the arrays the model and the randomization test use.

One row per *analysis day with a diary entry*: days in a period after its carry-over window
(``DayPlan.counts_for_analysis``). Run-in, washout and carry-over days never enter the model; run-in
days are kept aside for the "30 % of run-in pain" threshold. Missing days are simply absent: the
model keeps the calendar day of each row, so gaps enter the AR(1) errors as ``rho ** gap``.

The two groups are magnesium and comparator, so the arrays exist only for a record that carries
its allocation: after unblinding, or for the unblinded pharmacist (audited). A blinded record is
refused with ``Forbidden``: any comparison between packs shown before unblinding (even "these packs
vs those", unnamed) would halve what the participant has to guess and bias the entries still to come.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from magtrial.core.allocation import Arm
from magtrial.core.diary import DoseTaken
from magtrial.core.record import TrialRecord
from magtrial.core.schedule import Schedule
from magtrial.errors import Forbidden, ValidationError

SEALED = (
    "the comparison between packs is shown only after unblinding (or to the unblinded pharmacist, "
    "audited); before that magtrial shows completeness, adherence and safety"
)


class Outcome(StrEnum):
    AVERAGE_PAIN = "average_pain"
    WORST_PAIN = "worst_pain"
    SLEEP_INTERFERENCE = "sleep_interference"

    @property
    def label(self) -> str:
        return {"average_pain": "average pain", "worst_pain": "worst pain", "sleep_interference": "sleep interference"}[
            self.value
        ]


@dataclass(frozen=True)
class Labels:
    """Names of the two groups; ``first`` is the group whose effect is ``first - second``."""

    first: str = "magnesium"
    second: str = "comparator"


def require_allocation(record: TrialRecord) -> None:
    """Refuse a blinded record: no comparison between packs before unblinding."""
    if record.allocation is None:
        raise Forbidden(f"trial {record.trial_id} is blinded: {SEALED}")


@dataclass(frozen=True)
class AnalysisData:
    """Analysis days of one outcome.

    Attributes
    ----------
    y : float array, the outcome (0-10).
    day : int array, calendar day number from the trial start (strictly increasing).
    first : bool array, True on magnesium days.
    period : int array, 1-based period (= pack) number.
    full_dose : bool array, True when the full dose was taken that day.
    group_of_period : per period, True when it belongs to the first group.
    run_in : float array, the outcome on run-in days (for a relative threshold).
    """

    y: np.ndarray
    day: np.ndarray
    first: np.ndarray
    period: np.ndarray
    full_dose: np.ndarray
    group_of_period: tuple[bool, ...]
    run_in: np.ndarray

    @property
    def n(self) -> int:
        return int(self.y.size)

    def subset(self, mask: np.ndarray) -> AnalysisData:
        return AnalysisData(
            self.y[mask],
            self.day[mask],
            self.first[mask],
            self.period[mask],
            self.full_dose[mask],
            self.group_of_period,
            self.run_in,
        )


def group_of_periods(record: TrialRecord) -> tuple[bool, ...]:
    """Per period, whether it held magnesium; ``Forbidden`` for a blinded record."""
    require_allocation(record)
    assert record.allocation is not None
    return tuple(arm is Arm.MAGNESIUM for arm in record.allocation.sequence)


def build_data(record: TrialRecord, outcome: Outcome | str = Outcome.AVERAGE_PAIN) -> AnalysisData:
    """Collect analysis days of ``outcome`` from the record's current diary entries (unblinded only)."""
    groups = group_of_periods(record)
    outcome = _outcome(outcome)
    entries = record.current()
    start = record.start_date
    schedule = record.schedule
    run_in_end = schedule.start + dt.timedelta(days=schedule.run_in_days)
    periods = _analysis_periods(schedule)
    y, day, first, period, full, run_in = [], [], [], [], [], []
    for date in sorted(entries):
        entry = entries[date]
        if entry.values is None or not schedule.start <= date <= schedule.end:
            continue
        value = float(getattr(entry.values, outcome.value))
        if date < run_in_end:
            run_in.append(value)
            continue
        number = periods.get(date)
        if number is None:  # washout, or a carry-over window
            continue
        y.append(value)
        day.append((date - start).days)
        first.append(groups[number - 1])
        period.append(number)
        full.append(entry.values.dose_taken is DoseTaken.FULL)
    return AnalysisData(
        np.asarray(y, float),
        np.asarray(day, int),
        np.asarray(first, bool),
        np.asarray(period, int),
        np.asarray(full, bool),
        groups,
        np.asarray(run_in, float),
    )


def _analysis_periods(schedule: Schedule) -> dict[dt.date, int | None]:
    """Per date in a period, the period's number when the day counts for analysis, else None.

    What ``Schedule.day`` says of each date (the first period holding it decides), built once per
    record rather than as a ``DayPlan`` per calendar day (issue 13: a tenth of ``analyze()``).
    """
    out: dict[dt.date, int | None] = {}
    for p in schedule.periods:
        for offset in range((p.end - p.start).days + 1):
            date = p.start + dt.timedelta(days=offset)
            out.setdefault(date, p.number if date >= p.analysis_start else None)
    return out


def check_data(data: AnalysisData, labels: Labels, what: str = "the analysis") -> None:
    """Refuse data the model cannot say anything sensible about, with the reason and the fix."""
    n_first, n_second = int(data.first.sum()), int((~data.first).sum())
    if data.n < 6:
        raise ValidationError(
            f"{what} needs at least 6 diary days that count for analysis; this trial has "
            f"{data.n}. Keep filling in the diary (run-in, washout and the first days of "
            "each period do not count)."
        )
    for name, count in ((labels.first, n_first), (labels.second, n_second)):
        if count == 0:
            raise ValidationError(
                f"{what}: no analysis day on {name} has a diary entry yet, so the two "
                "groups cannot be compared. Wait until both have been taken."
            )
        if count < 2:
            raise ValidationError(
                f"{what}: only {count} analysis day on {name}; at least 2 per group are needed to compare them."
            )
    if np.ptp(data.y) == 0:
        raise ValidationError(
            f"{what}: every analysis day has the same value ({data.y[0]:g}), so there is "
            "no day-to-day variation to estimate an effect from."
        )


def _outcome(outcome: Outcome | str) -> Outcome:
    try:
        return Outcome(outcome)
    except ValueError:
        raise ValidationError(
            f"outcome must be one of {', '.join(o.value for o in Outcome)}; got {outcome!r}"
        ) from None
