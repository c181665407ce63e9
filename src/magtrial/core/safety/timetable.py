"""Magnesium dose times that keep every medicine's spacing rule, within waking hours.

Times are treated on a 24-hour clock that wraps, so an evening medicine also constrains the
next morning's magnesium. Spacing may be directional (gabapentin: at least 2 h *after*
magnesium, per its label) or symmetric; see ``Interaction``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from magtrial.core.safety.model import DoseTime, Timetable
from magtrial.errors import SafetyInputError

DAY_MIN = 24 * 60
DEFAULT_WAKE = dt.time(7, 0)
DEFAULT_SLEEP = dt.time(22, 0)
STEP_MIN = 15  # proposed times fall on quarter hours: easy to remember, fine enough to fit gaps


@dataclass(frozen=True)
class Spacing:
    """One dose of one medicine and how far magnesium must keep from it."""

    drug: str
    time: dt.time
    drug_before_mg_min: int  # least minutes from this dose to a later magnesium dose
    drug_after_mg_min: int  # least minutes from a magnesium dose to this later dose
    rule_id: str

    def allows(self, mg_time: dt.time) -> bool:
        drug_after = (_minutes(self.time) - _minutes(mg_time)) % DAY_MIN
        drug_before = (_minutes(mg_time) - _minutes(self.time)) % DAY_MIN
        return drug_after >= self.drug_after_mg_min and drug_before >= self.drug_before_mg_min

    def describe(self) -> str:
        at = f"{self.drug} {self.time:%H:%M}"
        before, after = self.drug_before_mg_min, self.drug_after_mg_min
        if before == after:
            return f"{at}: no magnesium within {_hours(before)} of it"
        parts = []
        if after:
            parts.append(f"no magnesium in the {_hours(after)} before it")
        if before:
            parts.append(f"no magnesium in the {_hours(before)} after it")
        return f"{at}: " + "; ".join(parts)


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def _time(minutes: int) -> dt.time:
    return dt.time(minutes // 60, minutes % 60)


def _hours(minutes: int) -> str:
    return f"{minutes / 60:g} h"


def violations(times: Sequence[dt.time], spacings: Sequence[Spacing]) -> list[str]:
    """Each (dose time, rule) pair that breaks a spacing rule, in words; empty when all hold."""
    return [f"magnesium at {t:%H:%M} breaks '{s.describe()}'" for t in times for s in spacings if not s.allows(t)]


def _windows(allowed: list[int]) -> list[str]:
    """Runs of consecutive allowed grid times as 'HH:MM-HH:MM', for a readable reason."""
    runs: list[list[int]] = []
    for m in allowed:
        if runs and m - runs[-1][-1] == STEP_MIN:
            runs[-1].append(m)
        else:
            runs.append([m])
    return [f"{_time(r[0]):%H:%M}" + (f"-{_time(r[-1]):%H:%M}" if len(r) > 1 else "") for r in runs]


def _spread(allowed: list[int], n: int) -> list[int] | None:
    """n allowed times with the widest possible smallest gap (greedy placement, binary search on the gap)."""
    if len(allowed) < n:
        return None
    if n == 1:
        return [allowed[0]]

    def place(gap: int) -> list[int] | None:
        picked = [allowed[0]]
        for m in allowed[1:]:
            if m - picked[-1] >= gap:
                picked.append(m)
                if len(picked) == n:
                    return picked
        return None

    low, high = STEP_MIN, allowed[-1] - allowed[0]
    best = place(low)
    while low < high:
        mid = (low + high + 1) // 2
        found = place(mid)
        if found:
            low, best = mid, found
        else:
            high = mid - 1
    return best


def propose_timetable(
    doses_per_day: int,
    spacings: Sequence[Spacing],
    wake: dt.time = DEFAULT_WAKE,
    sleep: dt.time = DEFAULT_SLEEP,
    label: str = "magnesium",
) -> Timetable:
    """Dose times between ``wake`` and ``sleep`` (inclusive) that satisfy every spacing rule.

    Doses are spread as far apart as the free times allow. When no set of times works, the
    timetable is empty, ``feasible`` is False and ``reason`` says which rules close the day.
    """
    if not 1 <= doses_per_day <= 6:
        raise SafetyInputError(f"doses per day must be 1-6, got {doses_per_day}")
    if _minutes(sleep) - _minutes(wake) < STEP_MIN:
        raise SafetyInputError(
            f"waking hours must start before they end (wake {wake:%H:%M}, "
            f"sleep {sleep:%H:%M}); overnight windows are not supported"
        )
    constraints = tuple(s.describe() for s in spacings if s.drug_before_mg_min or s.drug_after_mg_min)
    grid = range(_minutes(wake), _minutes(sleep) + 1, STEP_MIN)
    allowed = [m for m in grid if all(s.allows(_time(m)) for s in spacings)]
    picked = _spread(allowed, doses_per_day)
    if picked is None:
        if not allowed:
            reason = "every time is within the spacing of: " + "; ".join(constraints)
        else:
            reason = (
                f"{doses_per_day} doses are needed but only {', '.join(_windows(allowed))} "
                f"{'is' if len(allowed) == 1 else 'are'} free"
            )
        return Timetable(doses=(), feasible=False, reason=reason, constraints=constraints, wake=wake, sleep=sleep)
    doses = tuple(DoseTime(_time(m), f"{label}: dose {i} of {doses_per_day}") for i, m in enumerate(picked, 1))
    reason = "no medicine needs spacing" if not constraints else "keeps every spacing rule"
    return Timetable(doses=doses, feasible=True, reason=reason, constraints=constraints, wake=wake, sleep=sleep)
