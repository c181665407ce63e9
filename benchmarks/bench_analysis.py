"""Per-person analysis speed: magtrial's exact quadrature vs PyMC NUTS on the same model and data.

Run: ``.venv/bin/python benchmarks/bench_analysis.py`` (or ``python -m benchmarks analysis``).
Prints one table from one run: the median time of ``analyze`` / ``fit_effect`` on a simulated
16-week diary (4 cycles x 2 x 14 days, 3-day carry-over windows, 10 % missing days), PyMC's NUTS
time on the same data (2 chains x (1000 tune + 1000 draws), 1 core, compile time separate), their
ratio, and the time ``simulate_design`` takes for 10,000 simulated trials.

``pymc_model`` is the same model and priors written independently in PyMC; the agreement test
(tests/test_analysis_pymc.py) reuses it.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
import warnings

import numpy as np

from magtrial.core.allocation import Allocation, Arm
from magtrial.core.analysis import analyze, build_data, fit_effect
from magtrial.core.diary import DiaryVersion, VersionKind
from magtrial.core.protocol import Condition, Product, Protocol
from magtrial.core.record import TrialRecord
from magtrial.core.schedule import build_schedule
from magtrial.core.sim import Participant, simulate_diary

START = dt.date(2026, 1, 5)


def simulated_record(seed: int = 1, effect: float = -1.0, rho: float = 0.4) -> TrialRecord:
    """A 16-week trial (7-day run-in, 4 AB/BA cycles of 14-day periods), unblinded."""
    protocol = Protocol(
        condition=Condition.DIABETIC_NEUROPATHY,
        product=Product(name="Mg glycinate", salt="glycinate", elemental_mg_per_unit=100),
        cycles=4,
        period_days=14,
        run_in_days=7,
        start_date=START,
    )
    rng = np.random.default_rng(seed)
    seq = tuple(
        a
        for _ in range(4)
        for a in ((Arm.MAGNESIUM, Arm.COMPARATOR) if rng.random() < 0.5 else (Arm.COMPARATOR, Arm.MAGNESIUM))
    )
    allocation = Allocation(protocol.design, seq, "0" * 64)
    days = simulate_diary(build_schedule(protocol, START), allocation, Participant(effect=effect, rho=rho), rng)
    at = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    versions = tuple(DiaryVersion(d.date, 1, VersionKind.ORIGINAL, d.values, at, "p") for d in days if d.values)
    return TrialRecord("BENCH", "P-1", protocol, START, "", at, "unblinded", versions, allocation)


def pymc_model(y: np.ndarray, day: np.ndarray, first: np.ndarray, rho_beta: float = 1.0):
    """magtrial's model (drift on, no period effects) in PyMC, with data in ``pm.Data``.

    The plain AR(1) model (``Priors(rounding_var=0)``): conditional likelihood for irregular days,
    e_0 ~ N(0, s^2), e_i | e_{i-1} ~ N(phi_i e_{i-1}, s^2 (1 - phi_i^2)), phi_i = rho ** gap_i (sign
    handled for odd gaps). magtrial's default adds a rounding term (variance 1/12) that this peer
    leaves out; the timing compares like with like only roughly (magtrial does more work).
    ``rho_beta``: Beta(a, a) prior on (rho + 1) / 2 (1 = uniform, the default since issue 12).
    """
    import pymc as pm
    import pytensor.tensor as pt

    with pm.Model() as model:
        y_d = pm.Data("y", y)
        x_d = pm.Data("x", np.where(first, 0.5, -0.5))
        t_d = pm.Data("t", (day - day.mean()) / 7.0)
        gap_d = pm.Data("gap", np.diff(day).astype(float))
        level = pm.Normal("level", 5.0, 5.0)
        beta = pm.Normal("beta", 0.0, 2.5)
        drift = pm.Normal("drift", 0.0, 0.25)
        sigma = pm.HalfNormal("sigma", 3.0)
        u = pm.Beta("u", rho_beta, rho_beta)
        rho = pm.Deterministic("rho", 2.0 * u - 1.0)
        e = y_d - (level + beta * x_d + drift * t_d)
        odd = pt.eq(pt.mod(gap_d, 2.0), 1.0)
        phi = pt.switch(odd & pt.lt(rho, 0.0), -1.0, 1.0) * pt.abs(rho) ** gap_d
        first_term = pm.logp(pm.Normal.dist(0.0, sigma), e[0])
        rest = pm.logp(pm.Normal.dist(phi * e[:-1], sigma * pt.sqrt(1.0 - phi**2)), e[1:])
        pm.Potential("ar1", first_term + pt.sum(rest))
    return model


def _median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    record = simulated_record()
    data = build_data(record)
    t_analyze = _median_time(lambda: analyze(record), 41)
    t_fit = _median_time(lambda: fit_effect(data.y, data.day, data.first, data.period), 101)
    post = fit_effect(data.y, data.day, data.first, data.period)

    import logging

    import pymc as pm

    logging.getLogger("pymc").setLevel(logging.ERROR)
    warnings.simplefilter("ignore", RuntimeWarning)  # NUTS proposals at the rho = +-1 edge are rejected
    t0 = time.perf_counter()
    model = pymc_model(data.y, data.day, data.first)
    with model:
        pm.sample(
            draws=50, tune=50, chains=1, cores=1, random_seed=0, progressbar=False, compute_convergence_checks=False
        )
    t_compile = time.perf_counter() - t0

    def nuts():
        with model:
            return pm.sample(
                draws=1000,
                tune=1000,
                chains=2,
                cores=1,
                random_seed=1,
                progressbar=False,
                compute_convergence_checks=False,
            )

    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        trace = nuts()
        runs.append(time.perf_counter() - t0)
    t_pymc = statistics.median(runs)
    draws = trace.posterior["beta"].values.ravel()

    from magtrial.core.planning import DesignSpec, simulate_design

    spec = DesignSpec(cycles=4, period_days=14, effect=-1.0, sd=1.5, rho=0.4, missing_rate=0.1)
    simulate_design(spec, n_trials=500)  # warm-up
    t_plan = _median_time(lambda: simulate_design(spec, n_trials=10_000), 3)

    print(f"command: {' '.join([os.path.relpath(sys.executable), *sys.orig_argv[1:]])}")
    print(f"data: 16-week diary, {data.n} analysis days; machine: {os.cpu_count()} cores")
    print(f"{'task':<58}{'median':>12}{'target':>12}")
    print(f"{'magtrial analyze(record) (main + full-dose fits + test)':<58}{t_analyze * 1e3:>10.1f}ms{'':>12}")
    print(f"{'magtrial fit_effect (exact posterior of beta)':<58}{t_fit * 1e3:>10.1f}ms{'<= 20 ms':>12}")
    print(f"{'PyMC NUTS 2x(1000+1000), 1 core, excl. compile':<58}{t_pymc:>11.2f}s{'':>12}")
    print(f"{'PyMC model compile + first sample':<58}{t_compile:>11.2f}s{'':>12}")
    print(f"{'ratio PyMC NUTS / magtrial fit_effect':<58}{t_pymc / t_fit:>11.0f}x{'>= 100x':>12}")
    print(f"{'ratio PyMC NUTS / magtrial analyze':<58}{t_pymc / t_analyze:>11.0f}x{'':>12}")
    print(f"{'planning: simulate_design, 10,000 trials':<58}{t_plan:>11.2f}s{'<= 5 s':>12}")
    lo, hi = post.interval()
    print(
        f"beta: magtrial {post.mean:+.3f} [{lo:+.3f}, {hi:+.3f}]; PyMC {draws.mean():+.3f} "
        f"[{np.quantile(draws, 0.025):+.3f}, {np.quantile(draws, 0.975):+.3f}]"
    )


if __name__ == "__main__":
    main()
