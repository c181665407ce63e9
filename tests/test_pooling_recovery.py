"""Recovery by simulation: 95 % intervals cover the true mu, tau and responder shares at about 95 %."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr

from magtrial.core.pooling import pool
from magtrial.core.pooling.simulate import simulate_pool

REPS = 200  # binomial SE of a 95 % rate over 200 repetitions: 1.5 points


def coverage(shape: str, mu: float, tau: float, seed: int, reps: int = REPS, n: int = 500) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    hits = {"mu": 0, "tau": 0, "responders_population": 0, "responders_enrolled": 0}
    true_share = float(ndtr((-1.0 - mu) / tau))
    for _ in range(reps):
        sim = simulate_pool(n, mu, tau, rng, shape=shape)
        res = pool(sim.summaries, persons=False)
        realised = float(np.mean(sim.beta <= -1.0))
        for key, est, truth in (
            ("mu", res.mu, mu),
            ("tau", res.tau, tau),
            ("responders_population", res.responders_population, true_share),
            ("responders_enrolled", res.responders_enrolled, realised),
        ):
            hits[key] += est.lower <= truth <= est.upper
    return {k: v / reps for k, v in hits.items()}


@pytest.mark.slow
@pytest.mark.parametrize(("shape", "mu", "tau", "seed"), [("normal", -0.8, 0.7, 101), ("student", -1.2, 0.5, 202)])
def test_intervals_cover_the_truth_at_the_nominal_rate(shape, mu, tau, seed):
    rates = coverage(shape, mu, tau, seed)
    print(shape, rates)
    # 95 % nominal; with 200 repetitions a rate outside 0.90-0.99 would be a 3-SE departure
    for key, rate in rates.items():
        assert 0.90 <= rate <= 0.99, (key, rate)
