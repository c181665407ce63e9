"""Issue 13: the faster per-person fit gives the same numbers as before.

``grid.rounding_cross`` now factors every (rho, sigma) node's tridiagonal covariance in one LAPACK call
instead of a Python loop over the days; the Gauss nodes are computed once per size. The loop is kept
here as the reference, and whole fits are compared with numbers the loop version printed
(commit ccdc0e3, ``fit_effect`` with the nodes that were then the default, ``Quadrature()``) on the
diaries below. Since the second issue-13 pass the rho window ends where the coarse posterior crosses
exp(-20) of its peak rather than one coarse node further, which moves these numbers by up to 6e-6;
long diaries now default to fewer nodes (``tests/test_fit_agreement.py`` holds those to the old fit).
"""

from __future__ import annotations

import numpy as np
import pytest

from magtrial.core.analysis import Priors, Quadrature, fit_effect
from tests.ar1_support import ar1_diary, rounding_blocks

# (seed, days, rho, sd, gaps, period effects, drift) -> diaries of whole-number scores.
CASES = [
    (1, 82, 0.4, 1.5, True, False, True),
    (2, 82, 0.85, 0.6, True, False, True),
    (3, 20, 0.0, 1.0, False, False, True),
    (4, 8, 0.3, 1.2, True, False, False),
    (5, 56, 0.6, 1.0, True, True, True),
    (6, 112, -0.3, 2.0, True, False, True),
]
# mean, sd, 95 % lower, upper, P(beta <= 0), log evidence, rho mean, sigma mean; rounding 1/12 then 0.
BEFORE = [
    [-1.300777122, 0.389424978, -2.058963219, -0.525408372, 0.999173766, -157.531881383, 0.263119415, 1.53221203],
    [-1.298840654, 0.390010553, -2.057965108, -0.522127099, 0.999147358, -157.55579859, 0.257140814, 1.560404289],
    [-0.850702232, 0.13373473, -1.114977238, -0.588487149, 0.999999989, -71.929801656, 0.431957988, 0.450158217],
    [-0.848532596, 0.13443423, -1.114038519, -0.584775522, 0.999999985, -72.542477298, 0.303385748, 0.535405518],
    [-1.54075322, 0.698630822, -2.934982982, -0.122829013, 0.981636646, -41.187942611, -0.065998969, 1.591914143],
    [-1.539956521, 0.701194916, -2.938845957, -0.116481935, 0.981325854, -41.26499904, -0.06071728, 1.62223652],
    [0.324298667, 1.210737127, -1.664802942, 3.16734066, 0.449563095, -17.440767744, -0.098657033, 1.842840377],
    [0.316210898, 1.223332613, -1.66996203, 3.207119683, 0.459916106, -17.494161084, -0.102218619, 1.886564199],
    [-0.985008937, 0.379491441, -1.743963088, -0.237059792, 0.99236533, -75.960123016, 0.589204064, 0.925371145],
    [-0.986830673, 0.379348269, -1.744607139, -0.238661276, 0.992469152, -75.923692, 0.547186305, 0.962156069],
    [-0.711943127, 0.316368908, -1.333647346, -0.089168559, 0.987094571, -241.399651508, -0.219600463, 1.951233516],
    [-0.712541693, 0.316170357, -1.333790833, -0.090046288, 0.987180489, -241.432834867, -0.215323403, 1.973124127],
]


@pytest.mark.parametrize("index", range(len(CASES)))
@pytest.mark.parametrize("rounding", [1 / 12, 0.0])
def test_fit_gives_the_numbers_of_the_loop_version(index, rounding):
    seed, n, rho, sd, gaps, period_effects, drift = CASES[index]
    y, day, first, period = ar1_diary(seed, n, rho, sd, gaps, gap_rate=0.1, max_gap=2)
    post = fit_effect(
        y,
        day,
        first,
        period,
        drift=drift,
        period_effects=period_effects,
        priors=Priors(rounding_var=rounding),
        quadrature=Quadrature(),
    )
    got = [post.mean, post.sd, *post.interval(), post.cdf(0.0), post.log_evidence, post.rho_mean, post.sigma_mean]
    expected = BEFORE[2 * index + (rounding == 0.0)]
    # Printed to 9 decimals; the interval limits were brentq roots with xtol 1e-7; the window moved (above).
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


def _loop_reference(a_w, y_w, phi, s, sigma, w):
    """The pre-issue-13 implementation: bidiagonal Cholesky of K, one Python step per day."""
    n_rho, n, p = a_w.shape
    s_prev = np.concatenate([np.ones((n_rho, 1)), s[:, :-1]], axis=1)
    diag = np.concatenate([np.ones((n_rho, 1)), (1.0 + phi**2) / s**2], axis=1)
    off = -phi / (s * s_prev)
    kd = (sigma**2)[None] + w * diag.T[:, :, None]
    ko = w * off.T[:, :, None]
    m = np.concatenate([a_w, y_w[..., None]], axis=2).transpose(1, 0, 2)[:, :, None, :]
    chol = np.empty_like(kd)
    low = np.zeros_like(kd)
    chol[0] = np.sqrt(kd[0])
    for i in range(1, n):
        low[i] = ko[i - 1] / chol[i - 1]
        chol[i] = np.sqrt(kd[i] - low[i] ** 2)
    z = np.empty(kd.shape + (p + 1,))
    z[0] = m[0] / chol[0][..., None]
    for i in range(1, n):
        z[i] = (m[i] - low[i][..., None] * z[i - 1]) / chol[i][..., None]
    logdet = 2.0 * np.log(chol).sum(axis=0)
    zt = z.reshape(n, -1, p + 1).transpose(1, 2, 0)
    cross = np.matmul(zt, zt.transpose(0, 2, 1)).reshape(kd.shape[1:] + (p + 1, p + 1))
    return cross[..., :p, :p], cross[..., :p, p], cross[..., p, p], logdet


@pytest.mark.parametrize("rho_edge", [0.0, 0.999])
def test_lapack_factorisation_matches_the_day_by_day_loop(rho_edge):
    rng = np.random.default_rng(7)
    n, p = 60, 3
    day = np.cumsum(rng.integers(1, 4, n)).astype(float)
    rho = np.concatenate([rng.uniform(-0.95, 0.95, 9), [rho_edge]])
    phi = np.power(rho[:, None], np.diff(day)[None, :])
    s = np.sqrt(1.0 - phi**2)
    a_w = rng.normal(size=(rho.size, n, p))
    y_w = rng.normal(size=(rho.size, n))
    sigma = np.exp(rng.normal(0, 0.7, size=(rho.size, 5)))
    for got, want in zip(
        rounding_blocks(a_w, y_w, phi, s, sigma, 1 / 12), _loop_reference(a_w, y_w, phi, s, sigma, 1 / 12), strict=True
    ):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def _build_data_day_by_day(record, outcome):
    """The pre-issue-13 ``build_data`` loop: one ``DayPlan`` per calendar day from ``Schedule.days()``."""
    from magtrial.core.analysis.data import group_of_periods
    from magtrial.core.diary import DoseTaken

    groups, entries, start = group_of_periods(record), record.current(), record.start_date
    y, day, first, period, full, run_in = [], [], [], [], [], []
    for plan in record.schedule.days():
        entry = entries.get(plan.date)
        if entry is None or entry.values is None:
            continue
        value = float(getattr(entry.values, outcome.value))
        if plan.kind.value == "run-in":
            run_in.append(value)
        if not plan.counts_for_analysis or plan.period is None:
            continue
        y.append(value)
        day.append((plan.date - start).days)
        first.append(groups[plan.period - 1])
        period.append(plan.period)
        full.append(entry.values.dose_taken is DoseTaken.FULL)
    return y, day, first, period, full, run_in


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_build_data_gives_the_arrays_of_the_day_by_day_loop(seed):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks.bench_analysis import simulated_record
    from magtrial.core.analysis import Outcome, build_data

    record = simulated_record(seed=seed, rho=0.8)  # 10 % of days missing
    for outcome in Outcome:
        data = build_data(record, outcome)
        got = (data.y, data.day, data.first, data.period, data.full_dose, data.run_in)
        for g, want in zip(got, _build_data_day_by_day(record, outcome), strict=True):
            np.testing.assert_array_equal(g, np.asarray(want))
