"""Agreement with an independent engine: PyMC NUTS on the same hierarchical model and likelihoods.

PyMC model (non-centred):  mu ~ N(0, 2.5), tau ~ HalfNormal(1), z_i ~ N(0, 1), beta_i = mu + tau z_i;
likelihood either y_i ~ N(beta_i, se_i) (the same normal curves the engine reads on its grid) or
d_ij ~ StudentT(3, beta_i, sigma_i) (the same heavy-tailed curves). Tolerance: posterior means within
0.05 NRS points (MCMC error of the means here is about 0.005).
"""

from __future__ import annotations

import numpy as np
import pytest

from magtrial.core.pooling import pool
from magtrial.core.pooling.simulate import STUDENT_DF, simulate_pool

DATASETS = [  # (shape, n, mu, tau, seed)
    ("normal", 40, -0.8, 0.7, 1),
    ("normal", 40, -1.5, 0.2, 2),
    ("normal", 15, 0.3, 1.0, 3),
    ("student", 40, -1.0, 0.5, 4),
    ("student", 25, -0.3, 0.9, 5),
]


def pymc_fit(sim, shape: str, seed: int) -> tuple[float, float]:
    pm = pytest.importorskip("pymc")
    n = len(sim.diffs)
    with pm.Model():
        mu = pm.Normal("mu", 0.0, 2.5)
        tau = pm.HalfNormal("tau", 1.0)
        z = pm.Normal("z", 0.0, 1.0, shape=n)
        beta = mu + tau * z
        if shape == "normal":
            y = np.array([d.mean() for d in sim.diffs])
            se = sim.sigma / np.sqrt([d.size for d in sim.diffs])
            pm.Normal("y", beta, se, observed=y)
        else:
            idx = np.concatenate([np.full(d.size, i) for i, d in enumerate(sim.diffs)])
            pm.StudentT("d", nu=STUDENT_DF, mu=beta[idx], sigma=sim.sigma[idx], observed=np.concatenate(sim.diffs))
        idata = pm.sample(
            draws=3000,
            tune=1500,
            chains=2,
            cores=1,
            target_accept=0.95,
            random_seed=seed,
            progressbar=False,
            compute_convergence_checks=False,
        )
    post = idata.posterior
    return float(post["mu"].mean()), float(post["tau"].mean())


@pytest.mark.slow
def test_posterior_means_agree_with_pymc_nuts_on_five_data_sets():
    diffs = []
    for shape, n, mu, tau, seed in DATASETS:
        sim = simulate_pool(n, mu, tau, np.random.default_rng(seed), shape=shape, cycles=(4,))
        ours = pool(sim.summaries, persons=False)
        ref_mu, ref_tau = pymc_fit(sim, shape, seed)
        diffs.append((abs(ours.mu.mean - ref_mu), abs(ours.tau.mean - ref_tau)))
        print(f"{shape} n={n}: mu {ours.mu.mean:.3f} vs {ref_mu:.3f}; tau {ours.tau.mean:.3f} vs {ref_tau:.3f}")
    worst = np.max(diffs)
    print(f"max |diff| = {worst:.4f}")
    assert worst < 0.05
