"""Recovery of known mu, tau and responder shares by the pooling engine over repeated simulations.

Run: ``.venv/bin/python validation/pooling_recovery.py [reps]`` (default 200 repetitions of 500 trials,
two likelihood shapes). Prints the share of 95 % intervals that cover the truth, the mean bias and the
mean interval width. Truths: the population share Phi((-1 - mu) / tau) for ``responders_population``;
the realised share of the 500 simulated people with beta_i <= -1 for ``responders_enrolled``.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from scipy.special import ndtr

from magtrial.core.pooling import pool
from magtrial.core.pooling.simulate import simulate_pool

SCENARIOS = (("normal", -0.8, 0.7, 101), ("student", -1.2, 0.5, 202), ("normal", 0.0, 0.3, 303))


def run(shape: str, mu: float, tau: float, seed: int, reps: int, n: int = 500) -> None:
    rng = np.random.default_rng(seed)
    keys = ("mu", "tau", "responders_population", "responders_enrolled")
    hits = dict.fromkeys(keys, 0)
    bias = dict.fromkeys(keys, 0.0)
    width = dict.fromkeys(keys, 0.0)
    share = float(ndtr((-1.0 - mu) / tau))
    t0 = time.perf_counter()
    for _ in range(reps):
        sim = simulate_pool(n, mu, tau, rng, shape=shape)
        res = pool(sim.summaries, persons=False)
        truths = {
            "mu": mu,
            "tau": tau,
            "responders_population": share,
            "responders_enrolled": float(np.mean(sim.beta <= -1.0)),
        }
        for key in keys:
            est = getattr(res, key)
            hits[key] += est.lower <= truths[key] <= est.upper
            bias[key] += (est.mean - truths[key]) / reps
            width[key] += (est.upper - est.lower) / reps
    print(f"{shape:8s} mu={mu:+.1f} tau={tau:.1f}  n={n} x {reps} reps  ({time.perf_counter() - t0:.0f} s)")
    for key in keys:
        print(f"    {key:22s} coverage {hits[key] / reps:.3f}  bias {bias[key]:+.4f}  width {width[key]:.3f}")


if __name__ == "__main__":
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    for scenario in SCENARIOS:
        run(*scenario, reps=reps)
