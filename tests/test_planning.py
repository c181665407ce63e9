"""Design planning: the batched approximation against the exact model, and the plan's behaviour."""

from __future__ import annotations

import numpy as np
import pytest

from magtrial.core.analysis import fit_effect
from magtrial.core.analysis.model import Priors
from magtrial.core.planning import DesignSpec, _batched_posterior, _layout, _simulate, plan, simulate_design
from magtrial.core.protocol import Design
from magtrial.errors import ValidationError


@pytest.mark.parametrize(
    "spec",
    [
        DesignSpec(rho=0.4, effect=-1.0),
        DesignSpec(rho=0.7, effect=-2.0, drift_per_week=0.1, missing_rate=0.25, washout_days=3),
    ],
)
def test_batched_analysis_agrees_with_the_exact_model(spec):
    layout = _layout(spec)
    y, first, observed = _simulate(spec, layout, 60, np.random.default_rng(1))
    mean, lo, hi, p_mcid = _batched_posterior(y, first, observed, layout["day"], 1.0, Priors(), 16)
    exact = []
    for i in range(60):
        keep = observed[i]
        # the batched approximation leaves out the model's rounding term (see its docstring)
        post = fit_effect(y[i, keep], layout["day"][keep], first[i, keep], priors=Priors(rounding_var=0.0))
        exact.append((post.mean, *post.interval(), post.cdf(-1.0)))
    exact = np.array(exact)
    assert np.max(np.abs(mean - exact[:, 0])) < 0.05
    assert np.median(np.abs((hi - lo) / (exact[:, 2] - exact[:, 1]) - 1)) < 0.05
    assert np.max(np.abs(p_mcid - exact[:, 3])) < 0.06


def test_power_grows_with_cycles_and_width_shrinks():
    p = plan(DesignSpec(effect=-1.5, sd=1.5, rho=0.3), cycles=(2, 4, 6), n_trials=1500)
    power = [r.power_interval for r in p.results]
    width = [r.mean_width for r in p.results]
    assert power[0] < power[1] < power[2]
    assert width[0] > width[1] > width[2]
    assert "6 cycles (24 weeks)" in p.text and "not a promise" in p.text
    assert [row["cycles"] for row in p.summary] == [2, 4, 6]


def test_no_effect_rarely_gives_an_interval_below_zero():
    r = simulate_design(DesignSpec(effect=0.0, rho=0.5), n_trials=3000)
    # one-sided at 2.5 % nominal; 4 binomial SDs of slack
    assert r.power_interval <= 0.025 + 4 * np.sqrt(0.025 * 0.975 / 3000)
    assert abs(r.mean_estimate) < 0.05


def test_counterbalanced_design_and_progress_callback():
    calls = []
    r = simulate_design(
        DesignSpec(design=Design.COUNTERBALANCED, cycles=2, effect=-2.0),
        n_trials=2500,
        chunk=1000,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(1000, 2500), (2000, 2500), (2500, 2500)]
    assert r.power_interval > 0.3


def test_simulation_is_reproducible_from_its_seed():
    a = simulate_design(DesignSpec(), n_trials=500, seed=7)
    b = simulate_design(DesignSpec(), n_trials=500, seed=7)
    assert a == b


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"cycles": 0}, "cycles"),
        ({"sd": 0}, "SD"),
        ({"rho": 0.99}, "autocorrelation"),
        ({"design": Design.COUNTERBALANCED, "cycles": 3}, "even"),
        ({"missing_rate": 0.9}, "missing"),
    ],
)
def test_bad_design_is_refused(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        DesignSpec(**kwargs)
