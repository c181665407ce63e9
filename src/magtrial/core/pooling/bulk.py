"""Pooling inputs as column arrays: curves read in bulk and put on the common grid all at once.

``collect`` takes one ``TrialSummary`` object per trial and interpolates each curve on its own; at 100,000
trials the objects and the per-row ``np.interp`` cost more than pooling. ``collect_curves`` takes
``CurveBatch`` columns (the store's bulk reader gives them) and gives the same ``PoolingData``: same rows,
same exclusions, the same interpolation as ``EffectLikelihood.on`` (``tests/test_pooling_fast.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from magtrial.core.pooling.engine import beta_grid
from magtrial.core.pooling.inputs import DOSE_BANDS, POOLABLE_STATUS, Covariates, PoolingData


@dataclass(frozen=True)
class CovariateColumns(Sequence[Covariates]):
    """Subgroup keys of many trials as arrays; indexing gives a ``Covariates`` for code that wants one."""

    condition: np.ndarray  # object arrays of str
    route: np.ndarray
    salt: np.ndarray
    elemental_mg_per_day: np.ndarray  # float, NaN when unknown

    def __len__(self) -> int:
        return len(self.condition)

    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        if isinstance(i, slice):
            return self.take(np.arange(len(self))[i])
        mg = float(self.elemental_mg_per_day[i])
        return Covariates(str(self.condition[i]), str(self.route[i]), str(self.salt[i]), None if np.isnan(mg) else mg)

    def take(self, rows: np.ndarray) -> CovariateColumns:
        return CovariateColumns(
            self.condition[rows], self.route[rows], self.salt[rows], self.elemental_mg_per_day[rows]
        )

    def keys(self, by: str) -> np.ndarray:
        """``Covariates.key(by)`` for every trial at once."""
        if by == "condition":
            return self.condition
        if by == "route":
            return np.where(self.route == "oral", "oral", "transdermal").astype(object)
        if by == "route_detail":
            return self.route
        if by == "salt":
            return self.salt
        if by == "dose_band":
            out = np.full(len(self), "unknown", dtype=object)
            mg = self.elemental_mg_per_day
            for lo, hi, label in DOSE_BANDS:
                with np.errstate(invalid="ignore"):
                    out[np.isfinite(mg) & (lo <= mg) & (mg < hi)] = label
            return out
        raise ValueError(f"unknown subgroup key {by!r}: use condition, route, route_detail, salt or dose_band")

    @classmethod
    def concat(cls, parts: Sequence[CovariateColumns]) -> CovariateColumns:
        if not parts:
            empty = np.empty(0, dtype=object)
            return cls(empty, empty, empty, np.empty(0))
        fields = ("condition", "route", "salt", "elemental_mg_per_day")
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))


def subgroup_keys(covariates: Sequence[Covariates], by: str) -> np.ndarray:
    """Each trial's level of ``by``, from columns when there are columns."""
    if isinstance(covariates, CovariateColumns):
        return covariates.keys(by)
    return np.array([c.key(by) for c in covariates], dtype=object)


try:  # the C function behind np.interp (same results); the public name if numpy ever moves it
    from numpy._core.multiarray import interp as _compiled_interp
except ImportError:  # pragma: no cover
    _compiled_interp = np.interp


@dataclass(frozen=True)
class CurveBatch:
    """Stored curves of many trials: (n, K) grids and log-likelihoods (any float dtype), plus columns."""

    trial_ids: list[str]
    status: list[str]
    outcome: str
    covariates: CovariateColumns
    grid: np.ndarray
    log_lik: np.ndarray


def curves_on_grid(x: np.ndarray, y: np.ndarray, grid: np.ndarray, ids: Sequence[str] = ()) -> np.ndarray:
    """exp of each row's log-likelihood, shifted to max 0, interpolated on ``grid``: (n, G) float64.

    Row by row this is ``np.exp(EffectLikelihood(x[i], y[i]).on(grid))`` (linear between knots, 50 below
    the end value outside the curve's range), bit for bit. Checks, shifts and ``exp`` run on the whole
    block; only ``np.interp`` runs per row: a fully vectorised interpolation (one ``searchsorted`` over
    all rows and gathers) measured 1.5-3x slower, its (n, G) temporaries falling out of cache.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    bad = (np.diff(x, axis=1) <= 0).any(axis=1) | ~np.isfinite(y).all(axis=1) | ~np.isfinite(x).all(axis=1)
    if x.shape[1] < 3 or bad.any():
        who = ids[int(np.flatnonzero(bad)[0])] if bad.any() and len(ids) else "?"
        raise ValueError(f"trial {who}: a stored curve needs >= 3 strictly ascending, finite points")
    y = y - y.max(axis=1, keepdims=True)
    left, right = y[:, 0] - 50.0, y[:, -1] - 50.0
    out = np.empty((x.shape[0], grid.size))
    interp = _compiled_interp  # np.interp's own kernel: its Python wrapper's checks doubled the cost per row
    for i in range(x.shape[0]):
        out[i] = interp(grid, x[i], y[i], left[i], right[i])
    return np.exp(out, out=out)


def collect_curves(
    batches: Iterable[CurveBatch],
    outcome: str = "average_pain",
    progress: Callable[[int], None] | None = None,
    dtype: type = np.float32,
    block: int = 4096,
    expected: int = 0,
) -> PoolingData:
    """``collect`` for column batches: same rows kept, same exclusions counted, same curve values.

    ``expected`` (a row count from the store) lets the curves go straight into one array instead of
    blocks joined at the end, which would hold them twice (the peak memory of ``magtrial pool``).
    """
    grid = beta_grid()
    buffer: np.ndarray = np.empty((expected, grid.size), dtype=dtype)
    filled = 0
    rows: list[np.ndarray] = []
    ids: list[str] = []
    covs: list[CovariateColumns] = []
    seen: set[str] = set()
    excluded: dict[str, int] = {}
    for b in batches:
        keep = np.ones(len(b.trial_ids), dtype=bool)
        for i, (tid, status) in enumerate(zip(b.trial_ids, b.status, strict=True)):
            reason = None
            if status != POOLABLE_STATUS:
                reason = "blinded" if status != "stopped" else "stopped before unblinding"
            elif b.outcome != outcome:
                reason = "other outcome"
            elif tid in seen:
                reason = "duplicate trial"
            if reason:
                excluded[reason] = excluded.get(reason, 0) + 1
                keep[i] = False
                continue
            seen.add(tid)
        pick = np.flatnonzero(keep)
        kept_ids = [b.trial_ids[i] for i in pick]
        for start in range(0, pick.size, block):
            part = pick[start : start + block]
            lik = curves_on_grid(b.grid[part], b.log_lik[part], grid, kept_ids[start : start + block])
            if not rows and filled + len(part) <= expected:
                buffer[filled : filled + len(part)] = lik
                filled += len(part)
            else:  # more rows than expected (trials unblinded meanwhile): blocks from here on
                rows.append(lik.astype(dtype))
        ids.extend(kept_ids)
        covs.append(b.covariates.take(pick))
        if progress is not None:
            progress(len(b.trial_ids))
    lik = np.concatenate([buffer[:filled], *rows]) if rows else buffer[:filled]
    return PoolingData(grid, lik, ids, CovariateColumns.concat(covs), excluded)  # type: ignore[arg-type]
