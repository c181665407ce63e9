"""Issue 13: the faster planning posterior gives the numbers of the one before it (kept in benchmarks/).

Same simulated trials into both; the per-gap grouping only reorders sums, so agreement is to 1e-10.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import plan_reference
from magtrial.core.analysis.model import Priors
from magtrial.core.planning import DesignSpec, _batched_posterior, _layout, _simulate, simulate_design
from magtrial.core.protocol import Design


@pytest.mark.parametrize(
    "spec",
    [
        DesignSpec(),
        DesignSpec(rho=0.7, effect=-2.0, drift_per_week=0.1, missing_rate=0.5, washout_days=3, carryover=0.3),
        DesignSpec(design=Design.COUNTERBALANCED, cycles=2, missing_rate=0.0, rho=-0.5),
    ],
)
def test_posterior_step_matches_the_one_before(spec):
    layout = _layout(spec)
    y, first, observed = _simulate(spec, layout, 300, np.random.default_rng(5))
    new = _batched_posterior(y, first, observed, layout["day"], 1.0, Priors(), 16)
    old = plan_reference._batched_posterior(y, first, observed, layout["day"], 1.0, Priors(), 16)
    for a, b in zip(new, old, strict=True):
        assert np.max(np.abs(a - b)) < 1e-10


def test_long_runs_of_missing_days_take_the_other_grouping_path_with_the_same_numbers():
    spec = DesignSpec(cycles=4, period_days=28, carryover_days=0, missing_rate=0.1)
    layout = _layout(spec)
    y, first, observed = _simulate(spec, layout, 50, np.random.default_rng(6))
    observed[:5, 10:60] = False  # gaps of 50 days: more than the one-hot grouping takes
    new = _batched_posterior(y, first, observed, layout["day"], 1.0, Priors(), 8)
    old = plan_reference._batched_posterior(y, first, observed, layout["day"], 1.0, Priors(), 8)
    for a, b in zip(new, old, strict=True):
        assert np.max(np.abs(a - b)) < 1e-10


def test_a_whole_design_gives_the_same_summary():
    spec = DesignSpec(effect=-1.5)
    assert simulate_design(spec, 1500).summary == pytest.approx(plan_reference.simulate_design(spec, 1500).summary)
