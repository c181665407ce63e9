"""The exact randomization test: reference set, attainable minimum, and exactness under the null."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from magtrial.core.allocation import Arm
from magtrial.core.analysis import randomization_test
from magtrial.core.protocol import Design


def _days(n_periods, per_period=10):
    period = np.repeat(np.arange(1, n_periods + 1), per_period)
    return period


def test_reference_set_is_every_ab_ba_order():
    period = _days(8)
    y = np.random.default_rng(0).normal(size=period.size)
    observed = (True, False) * 4
    test = randomization_test(y, period, observed, Design.PAIRED, 4)
    assert test.n_sequences == 16
    # Independent recomputation: every choice of AB/BA per cycle, statistic = difference of day means.
    stats = []
    for flips in itertools.product((False, True), repeat=4):
        first = np.array([(i % 2 == 0) != flips[i // 2] for i in range(8)])
        on = first[period - 1]
        stats.append(y[on].mean() - y[~on].mean())
    assert sorted(stats) == pytest.approx(list(test.distribution))
    obs = y[np.array(observed)[period - 1]].mean() - y[~np.array(observed)[period - 1]].mean()
    assert test.statistic == pytest.approx(obs)
    assert test.p_lower == pytest.approx(np.mean(np.array(stats) <= obs + 1e-12))


def test_four_cycles_cannot_go_below_one_sixteenth():
    period = _days(8)
    observed = (True, False, False, True, True, False, False, True)
    y = np.where(np.array(observed)[period - 1], 2.0, 6.0) + 0.01 * np.arange(period.size) % 3
    test = randomization_test(y, period, observed, Design.PAIRED, 4)
    assert test.p_lower == pytest.approx(1 / 16) == test.min_p_lower
    assert test.p_two_sided == pytest.approx(2 / 16) == test.min_p_two_sided
    assert "cannot be smaller than 0.0625" in test.text


def test_counterbalanced_design_has_two_orders():
    period = _days(4)
    y = np.arange(period.size, dtype=float)
    test = randomization_test(y, period, (True, False, False, True), Design.COUNTERBALANCED, 2)
    assert test.n_sequences == 2 and test.min_p_lower == 0.5


def test_null_p_values_are_exact_for_continuous_data():
    """Under the sharp null the one-sided p-value is uniform on {1/16, ..., 1}: P(p <= k/16) = k/16."""
    rng = np.random.default_rng(3)
    period = _days(8, per_period=7)
    hits = np.zeros(16)
    n = 3000
    for _ in range(n):
        flips = rng.random(4) < 0.5
        ab, ba = (Arm.MAGNESIUM, Arm.COMPARATOR), (Arm.COMPARATOR, Arm.MAGNESIUM)
        seq = tuple(arm is Arm.MAGNESIUM for c in range(4) for arm in (ba if flips[c] else ab))
        # drifting, autocorrelated scores: the test needs no model for them
        y = np.cumsum(rng.normal(size=period.size)) * 0.3 + rng.normal(size=period.size)
        p = randomization_test(y, period, seq, Design.PAIRED, 4).p_lower
        hits[int(round(p * 16)) - 1] += 1
    cdf = np.cumsum(hits) / n
    expected = np.arange(1, 17) / 16
    # binomial tolerance: 4 SD
    assert np.all(np.abs(cdf - expected) <= 4 * np.sqrt(expected * (1 - expected) / n) + 1e-12)


def test_no_cycle_with_both_periods_divides_by_the_orders_where_the_statistic_exists():
    """Diary days only in period 1 (cycle 1) and period 4 (cycle 2): the statistic exists for the 8 of 16
    orders that put those two periods in different groups, and those 8 split into two groupings of 4
    orders each (cycles 3 and 4, without diary days, do not change the grouping). So the one-sided p is
    1/2 or 1, never 1/4, and the smallest attainable one-sided p is 1/2."""
    period = np.repeat([1, 4], 10)
    observed = (True, False, True, False, True, False, True, False)  # period 1 magnesium, period 4 comparator
    y = np.where(period == 1, 2.0, 6.0) + 0.01 * np.arange(period.size)
    test = randomization_test(y, period, observed, Design.PAIRED, 4)
    assert test.n_sequences == 8 and test.n_possible == 16
    assert test.p_lower == pytest.approx(0.5) == test.min_p_lower
    assert test.p_two_sided == pytest.approx(1.0) == test.min_p_two_sided
    assert "8 of the 16 orders" in test.text


def test_cycles_without_diary_days_raise_the_smallest_attainable_p():
    """Only cycles 1 and 2 have diary days (both periods): 4 distinct groupings, each reached by 4 of the
    16 orders, so the smallest one-sided p is 4/16 = 1/4 and the observed extreme reaches it."""
    period = np.repeat([1, 2, 3, 4], 10)
    observed = (True, False, False, True, True, False, True, False)
    y = np.where(np.array(observed)[period - 1], 2.0, 6.0) + 0.01 * np.arange(period.size)
    test = randomization_test(y, period, observed, Design.PAIRED, 4)
    assert test.n_sequences == 16
    assert test.p_lower == pytest.approx(0.25) == test.min_p_lower
    assert test.min_p_two_sided == pytest.approx(0.5)
