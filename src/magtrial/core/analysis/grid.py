"""The closed-form coefficient integrals of the AR(1) model at a batch of (rho, sigma, tau) nodes.

Given (rho, sigma, tau) the model is Gaussian-linear in the coefficients, so their integral is one
Cholesky factorisation per node of the augmented cross-product ``[[Lambda, h], [h', c]]`` (data plus
prior). With the effect as the last coefficient, that single factor ``L`` gives everything the fit
needs: ``log det Lambda`` from its diagonal, the residual quadratic form as the last pivot squared,
and the conditional posterior of beta as ``mean = L[p, p-1] / L[p-1, p-1]`` and
``var = 1 / L[p-1, p-1]**2`` (the last row and column of a triangular inverse). One batched call
replaces the ``solve`` and ``slogdet`` of two right-hand sides each (issue 13).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.linalg.lapack import dpttrf as _pttrf
from scipy.linalg.lapack import dpttrs as _pttrs
from scipy.special import betaln

if TYPE_CHECKING:
    from magtrial.core.analysis.model import Priors

_LOG2PI = float(np.log(2 * np.pi))
_LOG2 = float(np.log(2.0))
_SQRT2 = float(np.sqrt(2.0))
_SHARE_FLOOR = 0.5  # smallest latent share of the GLS variance used to place the sigma nodes


@dataclass(frozen=True)
class Design:
    """``m`` is ``[level, (drift), (period indicators), group, y]``: the effect is the last coefficient."""

    m: np.ndarray  # n x (P + 1)
    mt: np.ndarray  # its transpose, contiguous: (P + 1) x n
    gap: np.ndarray  # n - 1 calendar gaps
    gap_values: np.ndarray  # the distinct gaps (a few): rho ** gap is computed for these only
    gap_index: np.ndarray  # gap == gap_values[gap_index]
    gap_counts: np.ndarray  # how often each distinct gap occurs
    prior_mean: np.ndarray  # P
    prior_var: np.ndarray  # P; period entries filled with tau**2 per node
    fixed: np.ndarray  # columns of ``m`` in the GLS scale: level, drift, group and y
    n_random: int

    @property
    def n(self) -> int:
        return int(self.m.shape[0])

    @property
    def p(self) -> int:
        return int(self.m.shape[1] - 1)


@dataclass(frozen=True)
class Grid:
    logw: np.ndarray  # (R, S, T): log prior x likelihood x quadrature weight (rho weight excluded)
    mean: np.ndarray  # conditional posterior mean of beta
    var: np.ndarray
    sigma: np.ndarray  # (R, S)


@dataclass(frozen=True)
class Terms:
    """What every batch of nodes shares: the prior block per tau node and the constant log terms."""

    prior: np.ndarray  # (T, P+1, P+1): prior precision, precision x mean, mean' precision mean
    const: np.ndarray  # (T,): -n/2 log 2 pi - 1/2 log det prior covariance + tau quadrature weight
    w: float  # rounding variance
    sigma_scale: float
    rho_beta: float
    whitened_rounding: bool  # sigma nodes centred on the GLS scale less w D (else less w)


def terms(
    n: int,
    prior_mean: np.ndarray,
    prior_var: np.ndarray,
    n_random: int,
    tau: np.ndarray,
    tau_logw: np.ndarray,
    priors: Priors,
    whitened_rounding: bool,
) -> Terms:
    p = prior_mean.size
    var = np.broadcast_to(prior_var, (tau.size, p)).copy()  # (T, P)
    if n_random:
        var[:, p - 1 - n_random : p - 1] = np.maximum(tau[:, None] ** 2, 1e-12)
    prior = np.zeros((tau.size, p + 1, p + 1))
    idx = np.arange(p)
    prior[:, idx, idx] = 1.0 / var
    prior[:, idx, p] = prior[:, p, idx] = prior_mean / var
    prior[:, p, p] = (prior_mean**2 / var).sum(-1)
    const = -0.5 * n * _LOG2PI - 0.5 * np.log(var).sum(-1) + tau_logw
    prior.flags.writeable = const.flags.writeable = False
    return Terms(prior, const, priors.rounding_var, priors.sigma_scale, priors.rho_beta, whitened_rounding)


def evaluate(d: Design, t: Terms, rho: np.ndarray, hermite: tuple[np.ndarray, np.ndarray]) -> Grid:
    """Marginal likelihood and beta's conditional posterior at every (rho, sigma, tau) node."""
    n, p, w = d.n, d.p, t.w
    phi_g = np.power(rho[:, None], d.gap_values)  # integer gaps, so negative rho is fine
    s2_g = 1.0 - phi_g * phi_g
    log_jac = -0.5 * np.log(s2_g) @ d.gap_counts
    phi = phi_g[:, d.gap_index]  # (R, n-1)
    s = np.sqrt(s2_g)[:, d.gap_index]
    # Whitened [A, y], one row per column of the design (days contiguous): (m_i - phi_i m_{i-1}) / s_i.
    mw = np.empty((rho.size, p + 1, n))
    mw[:, :, 0] = d.mt[:, 0]
    rest = mw[:, :, 1:]
    np.multiply(phi[:, None, :], d.mt[:, :-1], out=rest)
    np.subtract(d.mt[:, 1:], rest, out=rest)
    rest *= (1.0 / s)[:, None, :]
    cross = np.matmul(mw, mw.transpose(0, 2, 1))  # (R, P+1, P+1)
    # GLS residual scale of the fixed part centres the sigma nodes for each rho.
    sub = cross if d.fixed.size == p + 1 else cross[:, d.fixed[:, None], d.fixed[None, :]]
    rss = np.linalg.cholesky(sub + _ridge(d.fixed.size))[:, -1, -1] ** 2
    dof = max(n - d.fixed.size + 1, 1)
    sig_hat2 = np.maximum(rss, 1e-6 * n) / dof
    width = 1.4 / np.sqrt(2.0 * max(dof, 2))  # posterior SD of log scale, roughly
    centre = 0.5 * np.log(sig_hat2)
    if w > 0:
        # The GLS scale S includes the whitened rounding error: sigma**2 = S**2 - w D (D the mean
        # of diag W W'), so centre on that and widen by d log sigma / d log S = S**2 / sigma**2
        # (capped at 2: sigma near 0).
        share = np.maximum(
            1.0 - w * (_rounding_share(phi_g, s2_g, d) if t.whitened_rounding else 1.0) / sig_hat2, _SHARE_FLOOR
        )
        centre = centre + 0.5 * np.log(share)
        width = width / share
    else:
        width = np.full(rho.size, width)
    xi, base = hermite  # base: log Gauss-Hermite weight + xi**2 + log half-normal constant
    log_sigma = centre[:, None] + (_SQRT2 * width)[:, None] * xi  # (R, S)
    sigma2 = np.exp(2.0 * log_sigma)
    sig_logw = base + np.log(_SQRT2 * width)[:, None] + log_sigma - (0.5 / t.sigma_scale**2) * sigma2
    if t.rho_beta == 1.0:
        rho_logp = log_jac - _LOG2
    else:
        u = (rho + 1) / 2
        rho_logp = log_jac + (t.rho_beta - 1) * np.log(u * (1 - u)) - betaln(t.rho_beta, t.rho_beta) - np.log(2.0)
    if w > 0:
        cross_k, logdet_k = rounding_cross(mw, phi, s, sigma2, w)
    else:  # K = sigma**2 I
        cross_k = cross[:, None] / sigma2[:, :, None, None]
        logdet_k = 2.0 * n * log_sigma
    low = np.linalg.cholesky(cross_k[:, :, None] + t.prior)  # (R, S, T, P+1, P+1)
    diag = np.diagonal(low, axis1=-2, axis2=-1)
    piv = diag[..., p - 1]
    log_ml = t.const - np.log(np.prod(diag[..., :p], axis=-1)) - 0.5 * diag[..., p] ** 2
    logw = log_ml + (sig_logw - 0.5 * logdet_k + rho_logp[:, None])[:, :, None]
    return Grid(logw=logw, mean=low[..., p, p - 1] / piv, var=1.0 / (piv * piv), sigma=np.sqrt(sigma2))


def _rounding_share(phi_g: np.ndarray, s2_g: np.ndarray, d: Design) -> np.ndarray:
    """Mean variance of the whitened rounding errors per unit ``w``: the diagonal of ``W W'``.

    At high rho whitening amplifies the rounding error ((1 + phi**2) / (1 - phi**2) times), so
    the GLS scale holds far more of it than ``w`` (issue 13: centring on ``S**2 - w`` put the sigma
    nodes off the posterior at rho near 0.9 and needed 16 of them).
    """
    return np.asarray((1.0 + ((1.0 + phi_g * phi_g) / s2_g) @ d.gap_counts) / d.n)


@functools.cache
def _ridge(k: int) -> np.ndarray:
    return 1e-9 * np.eye(k)


def rounding_cross(
    mw: np.ndarray, phi: np.ndarray, s: np.ndarray, sigma2: np.ndarray, w: float
) -> tuple[np.ndarray, np.ndarray]:
    """``M' V^-1 M`` and ``log det K`` per (rho, sigma) node for AR(1) errors plus noise of variance ``w``.

    With ``W`` the AR(1) whitening (lower bidiagonal, ``W R W' = I``), the covariance
    ``V = sigma**2 R + w I`` is ``W^-1 K W^-T`` with ``K = sigma**2 I + w W W'``, which is tridiagonal.
    So ``M' V^-1 M = (W M)' K^-1 (W M)`` and ``log det V = log det K - 2 log det W``.

    Every node's ``K`` is one block of a single block-diagonal tridiagonal matrix, which LAPACK
    factors (``dpttrf``, ``K = L D L'``) and solves (``dpttrs``) in one call each: O(n) per node in
    compiled code. ``mw`` is the whitened ``[A, y]`` per rho, (R, P+1, n); ``sigma2`` is (R, S).
    """
    n_rho, k, n = mw.shape
    n_sig = sigma2.shape[1]
    # W W': diagonal (1 + phi_i**2) / s_i**2 (1 on the first day), off-diagonal -phi_i / (s_i s_{i-1}).
    diag = np.ones((n_rho, n))
    diag[:, 1:] = (1.0 + phi * phi) / (s * s)
    off = -w * phi / s
    off[:, 1:] /= s[:, :-1]
    kd = sigma2[:, :, None] + w * diag[:, None, :]  # (R, S, n)
    ke = np.zeros((n_rho, n_sig, n))  # last entry of each block 0: blocks do not touch
    ke[:, :, :-1] = off[:, None, :]
    d_fac, e_fac, info = _pttrf(kd.ravel(), ke.ravel()[:-1], overwrite_d=1, overwrite_e=1)
    if info != 0:
        raise ArithmeticError(f"rounding covariance not positive definite (LAPACK dpttrf info {info})")
    rhs = np.empty((k, n_rho, n_sig, n))  # Fortran order for LAPACK: no copy on the way in
    rhs[...] = mw.transpose(1, 0, 2)[:, :, None, :]
    x, info = _pttrs(d_fac, e_fac, rhs.reshape(k, -1).T, overwrite_b=1)
    if info != 0:
        raise ArithmeticError(f"LAPACK dpttrs info {info}")
    xt = x.T.reshape(k, n_rho, n_sig, n).transpose(1, 0, 2, 3)  # (R, P+1, S, n), (S, n) contiguous
    cross = np.matmul(xt, mw.transpose(0, 2, 1)[:, None]).transpose(0, 2, 1, 3)  # (R, S, P+1, P+1)
    return cross, _sum_log(d_fac.reshape(n_rho * n_sig, n)).reshape(n_rho, n_sig)


def _sum_log(d: np.ndarray) -> np.ndarray:
    """Row sums of ``log d`` for positive ``d`` as logs of products of 16 (a log costs 20 products).

    The pivots of ``K`` lie between ``sigma**2`` and ``sigma**2 + w (1 + phi**2) / (1 - phi**2)``, so a
    product of 16 stays far inside the floating-point range.
    """
    n_rows, n = d.shape
    m = n - n % 16
    out: np.ndarray = np.log(d[:, m:]).sum(axis=1)
    if m:
        out += np.log(d[:, :m].reshape(n_rows, m // 16, 16).prod(axis=2)).sum(axis=1)
    return out
