"""Pooling speed: 10,000 unblinded trials streamed from the store vs PyMC NUTS on the same data.

Run: ``.venv/bin/python benchmarks/bench_pooling.py [n_trials]`` (or ``python -m benchmarks pooling``).
One run prints the median time to pool 10,000 trials
(a) streamed from a temporary SQLite store through ``magtrial.store.curves.read_curves`` (column batches)
    and quadrature, population estimate,
(b) from curves already in memory, (c) with every person's shrunken estimate, (d) the four subgroup splits;
then PyMC NUTS on the same model and per-person normal likelihoods, in the marginal form
y_i ~ N(mu, se_i^2 + tau^2) (the fastest fair PyMC model for normal curves; 2 chains x (1000 tune + 1000
draws), 1 core, compile included), the ratio of the two, and both posterior means.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import tempfile
import time

import numpy as np

from magtrial.core.pooling import collect, pool_data, pool_subgroups
from magtrial.core.pooling.simulate import simulate_pool

N = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 10_000
MU, TAU = -0.8, 0.7


def build_store(url: str, sim) -> None:
    from magtrial.store import summaries
    from magtrial.store.db import Database
    from magtrial.store.models import TrialRow

    db = Database(url)
    db.migrate()
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with db.transaction() as s:
        for k, item in enumerate(sim.summaries):
            status = "unblinded" if k % 50 else "active"  # every 50th trial still blinded: never streamed
            s.add(
                TrialRow(
                    id=item.trial_id,
                    participant=f"P-{k}",
                    clinician="bench",
                    protocol="{}",
                    start_date=dt.date(2026, 1, 5),
                    status=status,
                    commitment="0" * 64,
                    created_at=now,
                    created_by="bench",
                    flags="[]",
                )
            )
            c = item.covariates
            summaries.save_summary(
                s,
                trial_id=item.trial_id,
                outcome="average_pain",
                method="sim",
                likelihood=item.likelihood,
                n_days=112,
                condition=c.condition,
                route=c.route,
                salt=c.salt,
                elemental_mg_per_day=c.elemental_mg_per_day,
                at=now,
            )
    db.dispose()


def pool_from_store(url: str):
    from magtrial.core.pooling.bulk import collect_curves
    from magtrial.store import curves
    from magtrial.store.db import Database

    db = Database(url)
    with db.reader() as s:  # the bulk column reader ``magtrial pool`` uses (issue 13)
        res = pool_data(collect_curves(curves.read_curves(s, "average_pain")), persons=False)
    db.dispose()
    return res


def pymc_fit(sim, persons: bool = False):
    """PyMC NUTS; ``persons=True`` keeps every beta_i (non-centred), as curves that are not normal need."""
    import pymc as pm

    y = np.array([d.mean() for d in sim.diffs])
    se = sim.sigma / np.sqrt([d.size for d in sim.diffs])
    t0 = time.perf_counter()
    with pm.Model():
        mu = pm.Normal("mu", 0.0, 2.5)
        tau = pm.HalfNormal("tau", 1.0)
        if persons:
            z = pm.Normal("z", 0.0, 1.0, shape=y.size)
            pm.Normal("y", mu + tau * z, se, observed=y)
        else:
            pm.Normal("y", mu, pm.math.sqrt(se**2 + tau**2), observed=y)
        idata = pm.sample(
            draws=1000, tune=1000, chains=2, cores=1, random_seed=1, progressbar=False, compute_convergence_checks=False
        )
    return time.perf_counter() - t0, float(idata.posterior["mu"].mean()), float(idata.posterior["tau"].mean())


def median_time(fn, runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    print(f"command: {' '.join(sys.orig_argv)}   (cores: {os.cpu_count()})")
    sim = simulate_pool(N, MU, TAU, np.random.default_rng(2026), n_grid=201)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite"
        t0 = time.perf_counter()
        build_store(url, sim)
        print(
            f"store: {N} summaries written in {time.perf_counter() - t0:.1f} s "
            f"({os.path.getsize(f'{tmp}/bench.sqlite') / 1e6:.0f} MB; every 50th trial left blinded)"
        )
        t_store, res = median_time(lambda: pool_from_store(url), 3)
    unblinded = [s for k, s in enumerate(sim.summaries) if k % 50]
    data = collect(unblinded)
    t_mem, res_mem = median_time(lambda: pool_data(data, persons=False), 5)
    t_persons, _ = median_time(lambda: pool_data(data, persons=True), 3)
    t_groups, groups = median_time(lambda: pool_subgroups(data), 3)
    print(
        f"magtrial pool, streamed from store  : median {t_store:6.2f} s over 3 runs  "
        f"(n pooled = {res.n_trials}; mu {res.mu.mean:+.3f}, tau {res.tau.mean:.3f})"
    )
    print(f"magtrial pool, curves in memory     : median {t_mem:6.2f} s over 5 runs")
    print(f"magtrial pool, with person estimates: median {t_persons:6.2f} s over 3 runs")
    print(
        f"magtrial subgroups (condition, route, salt, dose band; {len(groups)} levels): "
        f"median {t_groups:6.2f} s over 3 runs"
    )
    keep = np.array([k % 50 != 0 for k in range(N)])
    sub = type(sim)(
        [s for s, k in zip(sim.summaries, keep, strict=True) if k],
        sim.beta[keep],
        [d for d, k in zip(sim.diffs, keep, strict=True) if k],
        sim.sigma[keep],
    )
    t_pymc, pm_mu, pm_tau = pymc_fit(sub)
    print(f"PyMC NUTS (marginal model, incl. compile): {t_pymc:6.2f} s  (mu {pm_mu:+.3f}, tau {pm_tau:.3f})")
    print(f"ratio PyMC / magtrial (streamed)    : {t_pymc / t_store:6.1f}x")
    t_full, full_mu, full_tau = pymc_fit(sub, persons=True)
    print(
        f"PyMC NUTS (every beta_i, non-centred, incl. compile): {t_full:6.2f} s  (mu {full_mu:+.3f}, "
        f"tau {full_tau:.3f})"
    )
    print(f"ratio PyMC with persons / magtrial with person estimates: {t_full / t_persons:6.1f}x")
    print(
        f"|diff| mu {abs(pm_mu - res_mem.mu.mean):.4f}, tau {abs(pm_tau - res_mem.tau.mean):.4f}; "
        f"truth mu {MU}, tau {TAU}"
    )


if __name__ == "__main__":
    main()
