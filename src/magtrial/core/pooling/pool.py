"""Entry points: pool unblinded N-of-1 trials, by subgroup, and under alternative priors."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
from scipy.special import ndtr

from magtrial.core.pooling.bulk import subgroup_keys
from magtrial.core.pooling.engine import GridPosterior, Prior, adaptive_posterior, below_weights, kernel_weights
from magtrial.core.pooling.inputs import PoolingData, TrialSummary, collect
from magtrial.core.pooling.lowrank import maybe_factor, products
from magtrial.core.pooling.responders import smooth_responders
from magtrial.core.pooling.results import (
    MIN_SUBGROUP_TRIALS,
    RESPONDER_THRESHOLD,
    Estimate,
    PersonEstimate,
    PoolResult,
    SubgroupResult,
    node_estimate,
    too_small_warning,
    weighted_estimate,
)
from magtrial.errors import ValidationError

SUBGROUP_KEYS = ("condition", "route", "salt", "dose_band")


def pool(
    summaries: Iterable[TrialSummary],
    *,
    prior: Prior | None = None,
    outcome: str = "average_pain",
    persons: bool = True,
    chunk_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> PoolResult:
    """Pool completed N-of-1 trials with a normal random-effects model on their likelihood curves.

    Parameters
    ----------
    summaries : iterable of TrialSummary
        One per trial, read in chunks of ``chunk_size``. Summaries whose trial is not unblinded are
        never pooled (they are counted in ``result.excluded``), nor are other outcomes.
    prior : Prior, optional
        Defaults to mu ~ N(0, 2.5^2), tau ~ half-normal(1).
    persons : bool
        Also return each person's shrunken effect (posterior of beta_i given all data).
    progress : callable, optional
        Called with the number of summaries read in each chunk (for a progress bar).

    Returns
    -------
    PoolResult

    Notes
    -----
    Model: L_i(beta) = p(data_i | beta_i = beta); beta_i ~ N(mu, tau^2); the posterior of (mu, tau) is
    computed by quadrature on an adaptive grid, with int L_i(beta) N(beta; mu, tau^2) dbeta exact for the
    piecewise-linear curve (see ``engine``). A flat (short, noisy) curve adds little; a sharp one a lot.
    """
    data = collect(summaries, outcome=outcome, chunk_size=chunk_size, progress=progress)
    return pool_data(data, prior=prior, persons=persons)


def row_moments(lik: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of each curve normalised on ``grid`` (for the start of the grid search)."""
    m, v = np.empty(lik.shape[0]), np.empty(lik.shape[0])
    for a in range(0, lik.shape[0], 4096):  # in blocks: the normalised copy of 100,000 curves would be 160 MB
        w = lik[a : a + 4096] / lik[a : a + 4096].sum(axis=1, keepdims=True)
        m[a : a + 4096] = w @ grid
        v[a : a + 4096] = np.maximum(w @ grid**2 - m[a : a + 4096] ** 2, 1e-6)
    return m, v


def _start(m: np.ndarray, v: np.ndarray) -> tuple[float, float, float]:
    """Moment-based (DerSimonian-Laird) start for the grid from each curve's mean and variance."""
    wt = 1 / v
    mu_fe = float(wt @ m / wt.sum())
    q = float(wt @ (m - mu_fe) ** 2)
    denom = wt.sum() - (wt**2).sum() / wt.sum()
    tau2 = max(0.0, (q - (m.size - 1)) / denom) if denom > 0 else 0.0
    wr = 1 / (v + tau2)
    return float(wr @ m / wr.sum()), float(np.sqrt(1 / wr.sum())), float(np.sqrt(tau2))


def pool_data(
    data: PoolingData,
    *,
    prior: Prior | None = None,
    persons: bool = True,
    label: str = "all trials",
    enrolled: bool = True,
) -> PoolResult:
    """``pool`` on curves already collected (used for subgroups and sensitivity runs).

    ``enrolled=False`` skips the share of responders among the pooled people (two matrix products).
    """
    prior = prior or Prior()
    if data.n == 0:
        raise ValidationError(
            "no unblinded trials to pool"
            + (f" (skipped: {', '.join(f'{v} {k}' for k, v in data.excluded.items())})" if data.excluded else "")
        )
    active = np.flatnonzero(data.lik.max(axis=0) > 1e-14)
    lo, hi = max(active[0] - 1, 0), min(active[-1] + 2, data.grid.size)
    grid, lik = data.grid[lo:hi], data.lik[:, lo:hi]
    moments = row_moments(lik, grid) if data.moments is None else data.moments  # subgroups: computed once
    post = adaptive_posterior(lik, grid, prior, _start(*moments))
    return _summarise(post, grid, lik, data, prior, persons, label, enrolled or persons)


def _summarise(
    post: GridPosterior,
    grid: np.ndarray,
    lik: np.ndarray,
    data: PoolingData,
    prior: Prior,
    persons: bool,
    label: str,
    enrolled: bool = True,
) -> PoolResult:
    mu_est = node_estimate(post.mu_nodes, post.mass.sum(axis=1))
    tau_est = node_estimate(post.tau_nodes, post.mass.sum(axis=0), lower_bound=0.0)
    mu, tau, w = post.cells
    with np.errstate(divide="ignore", over="ignore"):
        frac = np.where(
            tau > 0,
            ndtr((RESPONDER_THRESHOLD - mu) / np.where(tau > 0, tau, 1.0)),
            (mu < RESPONDER_THRESHOLD).astype(float),
        )
    responders_pop = weighted_estimate(frac, w)
    # Predictive for a new person on the whole effect grid (a wider grid than the active one).
    full = data.grid
    q = kernel_weights(full, mu, tau) @ w
    predictive = node_estimate(full, q)
    below = below_weights(full, RESPONDER_THRESHOLD)
    p_new_responder = float(below @ q / q.sum())
    p_new_benefit = float(below_weights(full, 0.0) @ q / q.sum())

    smooth = None if persons or not enrolled else smooth_responders(lik, grid, post)
    if smooth is not None:
        total_mean, within_var, per_cell = float(smooth[0] @ w), float((smooth[0] - smooth[1]) @ w), smooth[0]
        person_rows: list[PersonEstimate] = []
    else:
        total_mean, within_var, per_cell, person_rows = _enrolled(grid, lik, data, mu, tau, w, persons, enrolled)
    n = lik.shape[0]
    between_var = float(w @ (per_cell - per_cell @ w) ** 2)
    share = total_mean / n
    sd = np.sqrt(within_var + between_var) / n
    share_est = Estimate(share, float(sd), max(0.0, share - 1.96 * sd), min(1.0, share + 1.96 * sd))
    return PoolResult(
        n_trials=n,
        mu=mu_est,
        tau=tau_est,
        responders_population=responders_pop,
        responders_enrolled=share_est if enrolled else None,
        predictive=predictive,
        p_new_benefit=p_new_benefit,
        p_new_responder=p_new_responder,
        prior=prior,
        excluded=dict(data.excluded),
        persons=tuple(person_rows),
        grid_edge_mass=post.edge_mass,
        label=label,
    )


def _enrolled(
    grid: np.ndarray,
    lik: np.ndarray,
    data: PoolingData,
    mu: np.ndarray,
    tau: np.ndarray,
    w: np.ndarray,
    persons: bool,
    enrolled: bool,
) -> tuple[float, float, np.ndarray, list[PersonEstimate]]:
    """P(beta_i <= -1 | cell, y_i) for every row and cell: sums over rows per cell, and each person's estimate."""
    W = kernel_weights(grid, mu, tau)
    fac = maybe_factor(W, lik.shape[0]) if enrolled else None  # the responders step through the factor
    W = W.astype(lik.dtype)
    v = below_weights(grid, RESPONDER_THRESHOLD)
    person_rows: list[PersonEstimate] = []
    total_mean = 0.0
    within_var = 0.0
    per_cell = np.zeros(w.size)
    step = 2048 if fac is None else 1024  # float64 products through the factor: smaller blocks
    for start in range(0, lik.shape[0] if enrolled else 0, step):
        block = lik[start : start + step]
        if fac is None:
            m, below = block @ W, (block * v) @ W
        else:
            both = products(block, W, fac, weights=v)
            m, below = both[: block.shape[0]], both[block.shape[0] :]
        m = np.maximum(m, np.finfo(lik.dtype).tiny)
        p_ic = below / m  # P(beta_i <= -1 | mu_c, tau_c, y_i)
        p_i = p_ic @ w
        total_mean += p_i.sum()
        within_var += float((p_ic * (1 - p_ic)).sum(axis=0) @ w)
        per_cell += p_ic.sum(axis=0)
        if persons:
            node_mass = block * ((w / m) @ W.T)
            person_rows.extend(_persons(grid, node_mass, p_i, block, data.trial_ids[start : start + step]))
    return total_mean, within_var, per_cell, person_rows


def _persons(
    grid: np.ndarray, node_mass: np.ndarray, p_resp: np.ndarray, own: np.ndarray, ids: list[str]
) -> list[PersonEstimate]:
    node_mass = node_mass / node_mass.sum(axis=1, keepdims=True)
    mean = node_mass @ grid
    sd = np.sqrt(np.maximum(node_mass @ grid**2 - mean**2, 0.0))
    h = grid[1] - grid[0]
    cdf = np.cumsum(node_mass, axis=1)
    bounds = []
    for a in (0.025, 0.975):
        k = np.minimum((cdf < a).sum(axis=1), grid.size - 1)  # first node whose cdf reaches a
        prev = np.where(k > 0, cdf[np.arange(len(k)), k - 1], 0.0)
        mk = node_mass[np.arange(len(k)), k]
        bounds.append(grid[k] - h / 2 + h * (a - prev) / np.maximum(mk, 1e-300))
    ow = own / own.sum(axis=1, keepdims=True)
    own_mean = ow @ grid
    own_sd = np.sqrt(np.maximum(ow @ grid**2 - own_mean**2, 0.0))
    return [
        PersonEstimate(
            ids[i],
            Estimate(float(mean[i]), float(sd[i]), float(bounds[0][i]), float(bounds[1][i])),
            float(p_resp[i]),
            (float(own_mean[i]), float(own_sd[i])),
        )
        for i in range(len(ids))
    ]


def pool_subgroups(
    data: PoolingData,
    by: Sequence[str] = SUBGROUP_KEYS,
    *,
    prior: Prior | None = None,
    min_trials: int = MIN_SUBGROUP_TRIALS,
    workers: int = 2,
) -> list[SubgroupResult]:
    """Pool each subgroup on its own (a separate mu and tau per level).

    A level with fewer than ``min_trials`` trials gets no estimate, only a warning: with so few people
    the between-person SD is set by its prior, not by data.
    """
    if data.n and data.moments is None:
        data = replace(data, moments=row_moments(data.lik, data.grid))  # each curve's moments once for all levels
    top = data.lik.max(axis=0) if data.n else None  # column maxima once: see ``rows.RowSubset.max``
    jobs: list[tuple[str, str, np.ndarray]] = []
    for key in by:
        keys = subgroup_keys(data.covariates, key)
        jobs.extend((key, level, np.flatnonzero(keys == level)) for level in sorted(set(keys.tolist())))

    def one(job: tuple[str, str, np.ndarray]) -> SubgroupResult:
        key, level, rows = job
        if rows.size < min_trials:
            return SubgroupResult(key, level, int(rows.size), None, too_small_warning(int(rows.size)))
        sub = data.subset(rows, view=True, top=top)
        return SubgroupResult(
            key,
            level,
            int(rows.size),
            pool_data(sub, prior=prior, persons=False, label=f"{key} = {level}", enrolled=False),
        )

    if workers <= 1 or len(jobs) < 2:
        return [one(j) for j in jobs]
    # Levels are independent and numpy releases the GIL in its loops: two at a time use both cores (the
    # curves are shared, not copied, so memory grows by a few blocks only). Same results, same order.
    with ThreadPoolExecutor(max_workers=workers) as pool_:
        return list(pool_.map(one, jobs))


def default_sensitivity_priors() -> list[Prior]:
    return [
        Prior(),
        Prior(tau_scale=0.5),
        Prior(tau_scale=2.0),
        Prior(tau_family="half-cauchy", tau_scale=1.0),
        Prior(mu_sd=10.0),
    ]


def prior_sensitivity(data: PoolingData, priors: Sequence[Prior] | None = None) -> list[PoolResult]:
    """Re-run the pool under other priors (Zucker 2010: variance priors can move the answer)."""
    return [
        pool_data(data, prior=p, persons=False, label=p.describe(), enrolled=False)
        for p in (priors or default_sensitivity_priors())
    ]
