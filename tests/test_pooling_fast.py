"""Issue 13: the fast pooling paths give the numbers of the implementation before it.

The reference is that implementation kept verbatim in ``benchmarks/pool_reference`` (per-row objects,
per-row interpolation, full float32 products). Tolerances: the bulk read is bit for bit; the low-rank
products are within 1e-6 relative of a float64 product (their proven bound); pooled results within 1e-5.
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
from magtrial.core.pooling.engine import beta_grid, kernel_weights
from magtrial.core.pooling.lowrank import REL_ERROR, factor, products
from magtrial.core.pooling.simulate import CONDITIONS, ROUTES, SALTS
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
