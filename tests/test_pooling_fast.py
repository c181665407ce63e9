"""Issue 13: the fast pooling paths give the numbers of the implementation before it.

The reference is that implementation kept verbatim in ``benchmarks/pool_reference`` (per-row objects,
per-row interpolation, full float32 products). Tolerances: the bulk read is bit for bit; the low-rank
products are within 1e-6 relative of a float64 product (their proven bound); pooled results within 1e-5.
Pools of >= 2,048 trials take the Chebyshev path (``core/pooling/smooth.py``): its sums are held to every cell's
exact value (1e-7 in the log posterior) and its pooled results, subgroups and responders to the reference (2e-6).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from benchmarks.pool_reference import pool as reference
from benchmarks.pool_reference.io import read_store
from magtrial.core.likelihood import EffectLikelihood
from magtrial.core.pooling import pool_data, pool_subgroups
from magtrial.core.pooling.bulk import CovariateColumns, collect_curves, curves_on_grid
from magtrial.core.pooling.engine import (
    SMOOTH_TOL,
    accurate_log_marginals,
    beta_grid,
    kernel_weights,
    smooth_log_marginals,
)
from magtrial.core.pooling.inputs import Covariates, PoolingData
from magtrial.core.pooling.lowrank import REL_ERROR, factor, products
from magtrial.core.pooling.responders import responder_sums
from magtrial.core.pooling.rows import RowSubset
from magtrial.core.pooling.simulate import CONDITIONS, ROUTES, SALTS
from magtrial.core.pooling.smooth import tensor_sums
from magtrial.store import summaries
from magtrial.store.curves import read_curves
from magtrial.store.models import TrialRow

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def numbers(x, prefix=""):
    """Every number in a nested answer, by path."""
    if isinstance(x, dict):
        for k, v in x.items():
            yield from numbers(v, f"{prefix}.{k}")
    elif isinstance(x, list | tuple):
        for i, v in enumerate(x):
            yield from numbers(v, f"{prefix}[{i}]")
    elif isinstance(x, int | float) and not isinstance(x, bool):
        yield prefix, float(x)


def assert_same_answer(new, old, tol):
    a, b = dict(numbers(new)), dict(numbers(old))
    assert a.keys() == b.keys()
    worst = max((abs(a[k] - b[k]), k) for k in a)
    assert worst[0] <= tol, worst


def store_curves(db, n, rng, lengths=(201, 401)):
    """n trials with summaries of mixed curve lengths; every 7th blinded, every 11th simulated (demo)."""
    with db.transaction() as s:
        for k in range(n):
            status = "active" if k % 7 == 0 else "unblinded"
            s.add(
                TrialRow(
                    id=f"t-{k:05d}",
                    participant=f"P-{k}",
                    clinician="dr",
                    protocol="{}",
                    start_date=dt.date(2026, 1, 5),
                    status=status,
                    simulated=k % 11 == 0,
                    commitment="0" * 64,
                    created_at=NOW,
                    created_by="dr",
                    flags="[]",
                )
            )
            mean, sd = rng.normal(-0.8, 1.0), rng.uniform(0.2, 1.5)
            curve = EffectLikelihood.from_normal(mean, sd, n=lengths[k % len(lengths)])
            if k % 5 == 0:  # not every curve normal: a skewed one
                curve = EffectLikelihood(curve.grid, curve.log_lik - 0.3 * (curve.grid - mean) ** 3 / sd**3)
            summaries.save_summary(
                s,
                trial_id=f"t-{k:05d}",
                outcome="average_pain",
                method="test",
                likelihood=curve,
                n_days=100,
                condition=CONDITIONS[k % 4],
                route=ROUTES[(k // 4) % 4],
                salt=SALTS[(k // 16) % 4],
                elemental_mg_per_day=None if k % 13 == 0 else float((100, 200, 350, 250)[(k // 2) % 4]),
                at=NOW,
            )


def test_bulk_read_gives_the_rows_and_curves_of_the_object_stream(db):
    store_curves(db, 300, np.random.default_rng(1))
    with db.reader() as s:
        old = read_store(s)
        new = collect_curves(read_curves(s, batch=64))  # several batches, each with two curve lengths
    assert new.trial_ids == old.trial_ids and new.n == 300 - len({k for k in range(300) if k % 7 == 0 or k % 11 == 0})
    assert np.array_equal(new.lik, old.lik)  # bit for bit
    assert [new.covariates[i] for i in range(new.n)] == list(old.covariates)
    for by in ("condition", "route", "route_detail", "salt", "dose_band"):
        assert new.covariates.keys(by).tolist() == [c.key(by) for c in old.covariates]


def test_grid_step_equals_each_curves_own_interpolation():
    rng = np.random.default_rng(2)
    grid = beta_grid()
    x = np.sort(rng.uniform(-12, 12, (50, 31)), axis=1)
    x[0] = grid[100:131]  # knots exactly on grid points, and a curve ending exactly on one
    x[1] = np.linspace(grid[0], grid[-1], 31)
    y = rng.normal(0, 3, x.shape)
    expect = np.array([np.exp(EffectLikelihood(a, b).on(grid)) for a, b in zip(x, y, strict=True)])
    assert np.array_equal(curves_on_grid(x, y, grid), expect)
    with pytest.raises(ValueError, match="t-bad"):
        curves_on_grid(x[:, ::-1], y, grid, ids=["t-bad"] * 50)


def test_low_rank_products_stay_within_their_bound_even_for_far_away_curves():
    grid = beta_grid()
    rng = np.random.default_rng(3)
    centres = np.concatenate([rng.normal(-0.8, 0.8, 3000), [-9.0, 8.5, 6.0]])  # three far outliers
    sds = np.concatenate([rng.uniform(0.25, 1.2, 3000), [0.2, 0.2, 0.3]])
    lik = np.exp(-0.5 * ((grid[None, :] - centres[:, None]) / sds[:, None]) ** 2).astype(np.float32)
    mu, tau = np.meshgrid(np.linspace(-0.84, -0.76, 30), np.linspace(0.66, 0.74, 25), indexing="ij")
    W = kernel_weights(grid, mu.ravel(), tau.ravel())
    fac = factor(W)
    assert fac is not None and fac.rank < 40
    exact = lik.astype(float) @ W
    v = (grid <= -1.0).astype(float)
    got = products(lik, W.astype(np.float32), fac, weights=v)
    m = got[: lik.shape[0]]
    ok = exact > 1e-30
    assert np.max(np.abs(m[ok] / exact[ok] - 1)) < 2 * REL_ERROR + 1e-5  # direct float32 rows: ~1e-6
    assert np.max(np.abs(got[lik.shape[0] :] - (lik * v) @ W) / exact) < 4e-6


@pytest.mark.slow
def test_pooling_through_the_fast_paths_matches_the_reference(db):
    store_curves(db, 3000, np.random.default_rng(4), lengths=(201,))
    with db.reader() as s:
        old = read_store(s)
        new = collect_curves(read_curves(s))
    assert new.n > 2048  # large enough for the low-rank factor on the whole pool
    assert_same_answer(
        pool_data(new, persons=True).as_dict(persons=True), reference.pool_data(old).as_dict(persons=True), 1e-5
    )
    groups = [g.as_dict() for g in pool_subgroups(new)]
    assert_same_answer(groups, [g.as_dict() for g in reference.pool_subgroups(old)], 1e-5)


def test_covariate_columns_keep_unknown_doses_and_refuse_unknown_keys():
    cols = CovariateColumns(
        np.array(["crps-1", "other"], dtype=object),
        np.array(["oral", "transdermal-cream"], dtype=object),
        np.array(["citrate", "unknown"], dtype=object),
        np.array([120.0, np.nan]),
    )
    assert cols.keys("dose_band").tolist() == ["<150 mg/day", "unknown"]
    assert cols.keys("route").tolist() == ["oral", "transdermal"]
    assert cols[1].elemental_mg_per_day is None
    with pytest.raises(ValueError, match="unknown subgroup key"):
        cols.keys("colour")


def odd_pool(n: int = 2600) -> PoolingData:
    """In-memory pool with odd shapes: curves of 31, 201 and 401 points, skewed ones, two far outliers (+8),
    a salt level of 2 trials (a warning, no estimate) and a condition level of 6 (pooled, small-pool path)."""
    rng = np.random.default_rng(11)
    grid = beta_grid()
    rows, covs = [], []
    for k in range(n):
        mean, sd = (8.0, 0.3) if k in (7, 1500) else (rng.normal(-0.8, 0.7), rng.uniform(0.25, 1.2))
        curve = EffectLikelihood.from_normal(mean, sd, n=(31, 201, 401)[k % 3])
        if k % 5 == 0:
            curve = EffectLikelihood(curve.grid, curve.log_lik - 0.3 * (curve.grid - mean) ** 3 / sd**3)
        rows.append(np.exp(curve.on(grid)))
        condition = "rare" if k % 400 == 3 else CONDITIONS[k % 4]
        salt = "threonate" if k in (10, 20) else SALTS[(k // 16) % 4]
        covs.append(Covariates(condition, ROUTES[(k // 4) % 4], salt, None if k % 13 == 0 else 100.0 + k % 300))
    return PoolingData(grid, np.array(rows, dtype=np.float32), [f"t-{k}" for k in range(n)], covs, {})


def test_chebyshev_sums_equal_every_cells_exact_sum_and_fall_back_on_a_kink():
    data = odd_pool()
    lik = data.lik
    res = pool_data(data, persons=False, enrolled=False)  # the grid box of a pool: +-7 posterior SD
    mu_nodes = np.linspace(res.mu.mean - 7 * res.mu.sd, res.mu.mean + 7 * res.mu.sd, 49)
    tau_nodes = np.linspace(res.tau.mean - 7 * res.tau.sd, res.tau.mean + 7 * res.tau.sd, 41)
    got = smooth_log_marginals(lik, data.grid, mu_nodes, tau_nodes)
    mu, tau = np.meshgrid(mu_nodes, tau_nodes, indexing="ij")
    exact = accurate_log_marginals(lik, data.grid, mu.ravel(), tau.ravel())[0].reshape(mu.shape)
    assert got is not None and np.max(np.abs(got - exact)) <= 2 * SMOOTH_TOL
    # responders: F1, F2 at every cell within 1e-8 per person
    f = tensor_sums(lambda m, t: responder_sums(lik, data.grid, m, t), mu_nodes, tau_nodes, 1e-8 * data.n)
    both = responder_sums(lik, data.grid, mu.ravel(), tau.ravel()).reshape(2, *mu.shape)
    assert f is not None and np.max(np.abs(f - both)) <= 2e-8 * data.n
    # a function with a kink is not a polynomial: the check refuses it and the caller computes every cell
    kink = tensor_sums(lambda x, y: np.abs(x - 0.3)[None] + y[None], np.linspace(0, 1, 60), np.linspace(0, 1, 50), 1e-7)
    assert kink is None
    # a wide box (S varies by thousands across it): whatever the check accepts is still every cell's sum
    wide = np.linspace(-2, 1, 49)
    got = smooth_log_marginals(lik, data.grid, wide, tau_nodes)
    mu, tau = np.meshgrid(wide, tau_nodes, indexing="ij")
    exact = accurate_log_marginals(lik, data.grid, mu.ravel(), tau.ravel())[0].reshape(mu.shape)
    assert got is None or np.max(np.abs(got - exact)) <= 2 * SMOOTH_TOL
    # ... and the exact values are exact: plain float64 products, no factor (with the pooling factor's 1e-6 budget
    # they were 4e-7 off with threaded BLAS, and the nodes and check cells shared that error unseen)
    m = lik.astype(float) @ kernel_weights(data.grid, mu.ravel(), tau.ravel())
    plain = np.log(np.maximum(m, np.finfo(np.float32).tiny)).sum(axis=0).reshape(mu.shape)
    assert np.max(np.abs(exact - plain)) <= SMOOTH_TOL / 10
    assert got is None or np.max(np.abs(got - plain)) <= 2 * SMOOTH_TOL
    # a small pool never takes the interpolated path
    assert smooth_log_marginals(lik[:500], data.grid, mu_nodes, tau_nodes) is None


def test_large_odd_pool_with_subgroups_and_responders_matches_the_reference():
    data = odd_pool()
    new = pool_data(data, persons=False)
    old = reference.pool_data(data, persons=False)
    assert new.responders_enrolled is not None
    assert_same_answer(new.as_dict(), old.as_dict(), 2e-6)
    groups = pool_subgroups(data)
    levels = {(g.by, g.level): g for g in groups}
    assert levels[("salt", "threonate")].result is None and levels[("condition", "rare")].result is not None
    assert_same_answer([g.as_dict() for g in groups], [g.as_dict() for g in reference.pool_subgroups(data)], 2e-6)
    # two levels at a time gives the very same numbers as one at a time
    assert [g.as_dict() for g in pool_subgroups(data, workers=1)] == [g.as_dict() for g in groups]


def test_row_subset_reads_the_rows_it_names():
    rng = np.random.default_rng(5)
    base = rng.uniform(0, 1, (300, 40)).astype(np.float32)
    rows = np.flatnonzero(rng.uniform(size=300) < 0.4)
    view = RowSubset(base, rows)
    assert view.shape == (rows.size, 40) and view.dtype == np.float32
    assert np.array_equal(view[10:50], base[rows][10:50])
    window = view[:, 3:30]
    assert np.array_equal(window[0:200], base[rows][0:200, 3:30])
    assert np.array_equal(window.max(axis=0), base[rows][:, 3:30].max(axis=0))
    assert np.array_equal(np.asarray(window.take(np.array([2, 0]))), base[rows][[2, 0], 3:30])
    top = base.max(axis=0)
    assert np.all(RowSubset(base, rows, top=top).max(axis=0) >= view.max(axis=0))
    with pytest.raises(IndexError):
        view[:, ::2]


@pytest.mark.slow
def test_pool_store_of_a_few_thousand_trials_gives_the_reference_numbers(tmp_path):
    from benchmarks.pool_store import build, simulate
    from magtrial.store.db import Database

    url = f"sqlite:///{tmp_path / 'pool.sqlite3'}"
    build(url, simulate(4000, seed=3))
    db = Database(url)
    try:
        with db.reader() as s:
            old = read_store(s)
            new = collect_curves(read_curves(s), expected=summaries.count_summaries(s, "average_pain"))
    finally:
        db.dispose()
    assert new.n == old.n == 4000 - 80  # every 50th trial blinded
    assert_same_answer(pool_data(new, persons=False).as_dict(), reference.pool_data(old, persons=False).as_dict(), 2e-6)
    groups = [g.as_dict() for g in pool_subgroups(new)]
    assert_same_answer(groups, [g.as_dict() for g in reference.pool_subgroups(old)], 2e-6)
