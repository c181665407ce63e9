"""Per-person analysis speed: magtrial's exact quadrature vs PyMC NUTS on the same model and data.

Run: ``.venv/bin/python benchmarks/bench_analysis.py`` (or ``python -m benchmarks analysis``).
On a simulated 16-week diary (4 cycles x 2 x 14 days, 3-day carry-over windows, 10 % missing days)
magtrial and PyMC run alternately (``harness.interleave``, ABBA), so machine load hits both alike;
each row gives magtrial's median, PyMC's median and the median and range of the per-round ratio.
Timed: ``fit_effect`` (the exact posterior of the effect, averaged over 20 calls per round) and
``analyze`` (main fit, full-dose fit and the exact randomization test), each against PyMC NUTS
2 chains x (1000 tune + 1000 draws), 1 core. PyMC's compile time is EXCLUDED from the ratio: the
model is compiled and sampled once before timing, and that time is its own row. ``fit_effect`` is
also timed against the fit before issue 13 (``benchmarks/fit_reference.py``, kept verbatim), in
alternation, with both answers printed side by side, and CPU medians of both fits and of
``analyze()`` are printed (the fairer figure when other jobs load the machine). Also timed, with
no peer: ``simulate_design`` for 10,000 simulated trials against its 5 s target.

``pymc_model`` is the same model and priors written independently in PyMC; the agreement test
(tests/test_analysis_pymc.py) reuses it.
"""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # `benchmarks.harness` when run as a script

from benchmarks import fit_reference  # noqa: E402
from benchmarks.harness import Row, interleave, report, timed  # noqa: E402
from magtrial.core.allocation import Allocation, Arm  # noqa: E402
from magtrial.core.analysis import EffectPosterior, analyze, build_data, fit_effect  # noqa: E402
from magtrial.core.diary import DiaryVersion, VersionKind  # noqa: E402
from magtrial.core.protocol import Condition, Product, Protocol  # noqa: E402
from magtrial.core.record import TrialRecord  # noqa: E402
from magtrial.core.schedule import build_schedule  # noqa: E402
from magtrial.core.sim import Participant, simulate_diary  # noqa: E402

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


def main(rounds: int = 5) -> None:
    import logging

    import pymc as pm

    from magtrial.core.planning import DesignSpec, simulate_design

    record = simulated_record()
    data = build_data(record)
    post = fit_effect(data.y, data.day, data.first, data.period)

    logging.getLogger("pymc").setLevel(logging.ERROR)
    warnings.simplefilter("ignore", RuntimeWarning)  # NUTS proposals at the rho = +-1 edge are rejected
    t0 = time.perf_counter()
    model = pymc_model(data.y, data.day, data.first)
    with model:
        pm.sample(
            draws=50, tune=50, chains=1, cores=1, random_seed=0, progressbar=False, compute_convergence_checks=False
        )
    t_compile = time.perf_counter() - t0
    traces = []

    def nuts() -> None:
        with model:
            traces.append(
                pm.sample(
                    draws=1000,
                    tune=1000,
                    chains=2,
                    cores=1,
                    random_seed=1,
                    progressbar=False,
                    compute_convergence_checks=False,
                )
            )

    print(f"command: {' '.join([os.path.relpath(sys.executable), *sys.orig_argv[1:]])}")
    print(f"data: 16-week diary, {data.n} analysis days; machine: {os.cpu_count()} cores; {rounds} ABBA rounds")
    fit = lambda: fit_effect(data.y, data.day, data.first, data.period)  # noqa: E731
    before = lambda: fit_reference.fit_effect(data.y, data.day, data.first, data.period)  # noqa: E731
    ours, peer = interleave(fit, before, rounds=max(rounds, 7), warmup=1, repeat=20)
    report(
        Row(
            "fit_effect against the fit before issue 13",
            ours,
            "benchmarks/fit_reference.py",
            peer,
            target="<= 1 ms",
            note="same diary, alternating",
        )
    )
    compare_with_reference(fit, before)
    ours, peer = interleave(fit, nuts, rounds=rounds, warmup=0, repeat=20)
    report(
        Row(
            "exact posterior fit_effect, 16-week diary",
            ours,
            "PyMC NUTS 2x(1000+1000), 1 core",
            peer,
            target="<= 1 ms",
            note="PyMC compile excluded",
        )
    )
    cpu = [cpu_median(lambda: analyze(record), 20) for _ in range(3)]
    print("analyze() CPU, median of 20 calls, 3 blocks: " + ", ".join(f"{c * 1e3:.2f} ms" for c in cpu))
    ours, peer = interleave(lambda: analyze(record), nuts, rounds=rounds, warmup=0, repeat=5)
    report(
        Row(
            "analyze(): main + full-dose fit + rand. test",
            ours,
            "PyMC NUTS (one fit only)",
            peer,
            target="<= 5 ms",
            note="PyMC compile excluded",
        )
    )
    report(Row("PyMC model compile + first 50+50 draws", [t_compile], note="once per model; not in the ratios"))
    spec = DesignSpec(cycles=4, period_days=14, effect=-1.0, sd=1.5, rho=0.4, missing_rate=0.1)
    simulate_design(spec, n_trials=500)  # warm-up
    plan_times = [timed(lambda: simulate_design(spec, n_trials=10_000)) for _ in range(3)]
    report(Row("planning: simulate_design, 10,000 trials", plan_times, target="<= 5 s"))
    draws = traces[-1].posterior["beta"].values.ravel()
    lo, hi = post.interval()
    print(
        f"beta: magtrial {post.mean:+.3f} [{lo:+.3f}, {hi:+.3f}]; PyMC {draws.mean():+.3f} "
        f"[{np.quantile(draws, 0.025):+.3f}, {np.quantile(draws, 0.975):+.3f}] "
        "(PyMC's model leaves out magtrial's rounding term)"
    )


def cpu_median(fn: Callable[[], object], calls: int) -> float:
    """Median CPU seconds of ``calls`` calls."""
    out = []
    for _ in range(calls):
        start = time.process_time()
        fn()
        out.append(time.process_time() - start)
    return statistics.median(out)


def compare_with_reference(fit: Callable[[], EffectPosterior], before: Callable[[], Any]) -> None:
    """The two fits' answers side by side, and CPU medians of both fits in alternating blocks of 20 calls."""
    new, old = fit(), before()
    for name, p in (("new fit", new), ("before", old)):
        lo, hi = p.interval()
        print(
            f"{name:<8} mean {p.mean:+.5f}  95% [{lo:+.5f}, {hi:+.5f}]  P(beta<0) {p.cdf(0.0):.6f}  "
            f"rho {p.rho_mean:.4f}  sigma {p.sigma_mean:.4f}  components {p.weights.size}"
        )
    times: dict[str, list[float]] = {"new": [], "before": []}
    for i in range(6):
        for who in ("new", "before") if i % 2 == 0 else ("before", "new"):
            times[who].append(cpu_median(fit if who == "new" else before, 20))
    print(
        "fit_effect CPU, median of 20 calls per block, 6 alternating blocks: "
        + ", ".join(
            f"{k} {statistics.median(v) * 1e3:.2f} ms ({min(v) * 1e3:.2f}-{max(v) * 1e3:.2f})" for k, v in times.items()
        )
    )


if __name__ == "__main__":
    main()
