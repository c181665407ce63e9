"""Clinic measurements as secondary outcomes, compared by the design's periods after unblinding.

Each period contributes one value per item (the mean of its visits, ``core.clinic``). Within each
cycle with both periods measured, the difference is magnesium minus comparator; the exact
randomization test (``randomization_test``, one value per period) is computed over the design's
possible orders. Only an unblinded allocation is accepted; before that, the periods' values are
shown by pack number only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from magtrial.core.allocation import Allocation, Arm
from magtrial.core.analysis.randomization import RandomizationTest, randomization_test
from magtrial.core.clinic import MEASUREMENT_ITEMS
from magtrial.core.schedule import Schedule
from magtrial.errors import ValidationError


@dataclass(frozen=True)
class SecondaryResult:
    """Magnesium minus comparator for one clinic measurement.

    ``cycle_differences``: per cycle with both periods measured. ``test``: None when fewer than
    two periods of each arm were measured (no test has any meaning then).
    """

    item: str
    unit: str
    cycle_differences: tuple[tuple[int, float], ...]
    mean_difference: float | None
    test: RandomizationTest | None

    @property
    def text(self) -> str:
        spec = MEASUREMENT_ITEMS[self.item]
        if self.mean_difference is None:
            return f"{spec.label}: no cycle has both periods measured, so there is no comparison."
        better = "higher" if not spec.exam else "smaller"
        out = (
            f"{spec.label}: magnesium minus comparator {self.mean_difference:+.1f} {self.unit} on average over "
            f"{len(self.cycle_differences)} cycle(s) ({better} is better)."
        )
        if self.test is not None:
            out += f" Randomization test two-sided p = {self.test.p_two_sided:.3g}"
            out += f" (smallest possible {self.test.min_p_two_sided:.3g})."
        return out


def compare_measurements(
    by_period: dict[str, dict[int, float]], schedule: Schedule, allocation: Allocation
) -> list[SecondaryResult]:
    """One result per measured item; ``by_period`` is ``measurements_by_period``'s answer."""
    cycles = max((p.cycle for p in schedule.periods), default=0)
    results = []
    for item, values in sorted(by_period.items()):
        diffs = []
        for cycle in range(1, cycles + 1):
            pair = {
                allocation.arm_of_period(p.number): values.get(p.number) for p in schedule.periods if p.cycle == cycle
            }
            mg, comp = pair.get(Arm.MAGNESIUM), pair.get(Arm.COMPARATOR)
            if mg is not None and comp is not None:
                diffs.append((cycle, mg - comp))
        periods = sorted(values)
        first = tuple(allocation.arm_of_period(p.number) is Arm.MAGNESIUM for p in schedule.periods)
        arms = [first[p - 1] for p in periods]
        test = None
        if arms.count(True) >= 2 and arms.count(False) >= 2:
            try:
                test = randomization_test(
                    np.array([values[p] for p in periods]), np.array(periods), first, allocation.design, cycles
                )
            except ValidationError:
                test = None
        mean = sum(d for _, d in diffs) / len(diffs) if diffs else None
        results.append(SecondaryResult(item, MEASUREMENT_ITEMS[item].unit, tuple(diffs), mean, test))
    return results
