"""Frozen copy of ``core/planning._batched_posterior`` before issue 13 (one batched product per rho over
every day), the peer of ``benchmarks/bench_plan_scale.py`` and the reference of ``tests/test_planning_fast.py``.
Do not optimise this file."""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp, ndtr

from magtrial.core.analysis.model import Priors
from magtrial.core.planning import DesignSpec, PlanResult, _layout, _simulate


def simulate_design(spec: DesignSpec, n_trials: int, *, seed: int = 2026, chunk: int = 1000) -> PlanResult:
    """``planning.simulate_design`` with the old posterior (same simulation, same seed, same chunks)."""
    rng = np.random.default_rng(seed)
    layout = _layout(spec)
    stats = np.zeros(5)
    done = 0
    while done < n_trials:
        b = min(chunk, n_trials - done)
        y, first, observed = _simulate(spec, layout, b, rng)
        mean, lo, hi, p_mcid = _batched_posterior(y, first, observed, layout["day"], spec.mcid, Priors(), 16)
        stats += [
            np.sum(p_mcid > 0.8),
            np.sum(hi < 0),
            np.sum(hi - lo),
            np.sum(mean),
            np.sum((lo <= spec.effect) & (spec.effect <= hi)),
        ]
        done += b
    s = stats / n_trials
    return PlanResult(spec, n_trials, float(s[0]), float(s[1]), float(s[2]), float(s[3]), float(s[4]))


def _batched_posterior(
    y: np.ndarray, first: np.ndarray, observed: np.ndarray, day: np.ndarray, mcid: float, priors: Priors, n_rho: int
) -> tuple[np.ndarray, ...]:
    """Approximate per-trial posterior of beta, for many trials at once.

    Same model and priors as ``analysis.model`` (level, effect, drift; AR(1) over calendar days with
    gaps), without its rounding term (``priors.rounding_var`` is ignored: with it, posterior means move
    by up to about 0.07 points at rho 0.7, too little to change a power estimate). Sigma is fixed at
    its GLS estimate for each rho instead of integrated, and rho is summed over an equally spaced grid.
    The result is a normal mixture per trial; its mean, a normal-approximation 95 % interval (mixture
    mean +- 1.96 mixture SD) and P(beta <= -mcid) are returned. ``tests/test_planning.py`` checks it
    against the exact ``fit_effect``.
    """
    b, n = y.shape
    idx = np.where(observed, np.arange(n)[None, :], -1)
    last = np.maximum.accumulate(idx, axis=1)
    prev = np.concatenate([np.full((b, 1), -1), last[:, :-1]], axis=1)
    has_prev = observed & (prev >= 0)
    gap = np.where(has_prev, day[None, :] - day[np.maximum(prev, 0)], 1).astype(float)
    x = (
        np.stack(
            [np.ones((b, n)), np.where(first, 0.5, -0.5), np.broadcast_to((day - day.mean()) / 7.0, (b, n))], axis=-1
        )
        * observed[..., None]
    )
    yy = y * observed
    pidx = np.maximum(prev, 0)
    x_prev = np.take_along_axis(x, pidx[..., None], axis=1) * has_prev[..., None]
    y_prev = np.take_along_axis(yy, pidx, axis=1) * has_prev
    n_obs = observed.sum(axis=1)
    # Per-row products, so that each rho only needs three weights per row and one batched matmul:
    # G = sum(a uu' + b (uv' + vu') + c vv'), with u = x_i, v = x_prev, a = 1/s^2, b = -phi/s^2, c = phi^2/s^2.
    iu = np.triu_indices(3)
    u, v, yi, yp = x, x_prev, yy, y_prev
    t_a = np.concatenate(
        [(u[..., :, None] * u[..., None, :])[..., iu[0], iu[1]], u * yi[..., None], (yi * yi)[..., None]], axis=-1
    )
    uv = u[..., :, None] * v[..., None, :]
    t_b = np.concatenate(
        [
            (uv + np.swapaxes(uv, -1, -2))[..., iu[0], iu[1]],
            u * yp[..., None] + v * yi[..., None],
            (2 * yi * yp)[..., None],
        ],
        axis=-1,
    )
    t_c = np.concatenate(
        [(v[..., :, None] * v[..., None, :])[..., iu[0], iu[1]], v * yp[..., None], (yp * yp)[..., None]], axis=-1
    )
    terms = np.concatenate([t_a, t_b, t_c], axis=1)  # (b, 3n, 10)
    rho = np.linspace(-0.95, 0.95, n_rho)
    prior_mean = np.array([priors.level_mean, 0.0, 0.0])
    prior_prec = 1.0 / np.array([priors.level_sd, priors.effect_sd, priors.drift_sd]) ** 2
    rhs = np.zeros((b, 3, 2))
    rhs[:, 1, 1] = 1.0
    logw, means, variances = [], [], []
    gap_int = np.where(has_prev, gap, 0).astype(int)  # 0 = no previous observed day, so phi = 0
    weights = np.empty((b, 1, 3 * n))
    for r in rho:
        powers = np.power(r, np.arange(gap_int.max() + 1, dtype=float))
        powers[0] = 0.0
        phi = powers[gap_int]
        s2_row = 1.0 - phi**2
        inv = observed / s2_row
        weights[:, 0, :n] = inv
        np.multiply(-phi, inv, out=weights[:, 0, n : 2 * n])
        np.multiply(phi**2, inv, out=weights[:, 0, 2 * n :])
        sums = (weights @ terms)[:, 0, :]
        g = np.empty((b, 3, 3))
        g[:, iu[0], iu[1]] = sums[:, :6]
        g[:, iu[1], iu[0]] = sums[:, :6]
        bv, c = sums[:, 6:9], sums[:, 9]
        log_jac = -0.5 * (np.log(s2_row) * observed).sum(axis=1)
        coef = np.linalg.solve(g + 1e-9 * np.eye(3), bv[..., None])[..., 0]
        s2 = np.maximum(c - np.einsum("bp,bp->b", bv, coef), 1e-6) / np.maximum(n_obs - 3, 1)
        lam = g / s2[:, None, None] + np.diag(prior_prec)
        h = bv / s2[:, None] + prior_mean * prior_prec
        rhs[:, :, 0] = h
        sol = np.linalg.solve(lam, rhs)
        mu, var_b = sol[:, :, 0], sol[:, 1, 1]
        _, logdet = np.linalg.slogdet(lam)
        quad = c / s2 + (prior_mean**2 * prior_prec).sum() - np.einsum("bp,bp->b", h, mu)
        log_ml = -0.5 * n_obs * np.log(s2) + log_jac - 0.5 * logdet - 0.5 * quad
        logw.append(log_ml + (priors.rho_beta - 1) * np.log(1 - r**2))  # Beta(a, a) on (rho + 1) / 2
        means.append(mu[:, 1])
        variances.append(var_b)
    lw = np.array(logw)
    w = np.exp(lw - logsumexp(lw, axis=0))
    m, v = np.array(means), np.array(variances)
    mean = (w * m).sum(axis=0)
    sd = np.sqrt(np.maximum((w * (v + m**2)).sum(axis=0) - mean**2, 0.0))
    p_mcid = (w * ndtr((-mcid - m) / np.sqrt(v))).sum(axis=0)
    return mean, mean - 1.96 * sd, mean + 1.96 * sd, p_mcid
