"""Exact Bayesian AR(1) model of one person's daily scores, integrated without MCMC.

Model
-----
For analysis day ``i`` (calendar day ``t_i``, group indicator ``x_i`` = +1/2 on the first group,
i.e. magnesium, and -1/2 on the other)::

    y_i = level + beta * x_i + drift * (t_i - mean t) / 7 + u_period(i) + e_i + r_i
    e   ~ stationary AR(1) over calendar days: Var e_i = sigma**2, Corr(e_i, e_j) = rho ** |t_i - t_j|
    r_i ~ N(0, w) independent, w = 1/12 by default

so a missing day is a gap ``dt`` whose transition is ``rho ** dt`` (the exact AR(1) likelihood for
irregular times). ``beta`` is the mean difference first group minus second (negative = less pain).
``r`` is the rounding error of whole-number scores: a continuous score rounded to the nearest
integer is off by a nearly uniform amount on (-1/2, 1/2), variance 1/12, independent from day to
day (Sheppard's correction). It matters most at high autocorrelation and small day-to-day SD, where
a plain AR(1) model reads the rounding as weaker autocorrelation and gives intervals that are too
narrow. ``Priors(rounding_var=0)`` is the plain AR(1) model (for continuous data).

Priors (weakly informative on the 0-10 scale, all independent)::

    beta    ~ N(0, 2.5**2)             a 5-point effect either way is already extreme
    level   ~ N(5, 5**2)
    drift   ~ N(0, 0.25**2) per week   optional (default on)
    u_p     ~ N(0, tau**2)             optional period random effects (default off)
    tau     ~ half-normal(scale 1)
    sigma   ~ half-normal(scale 3)     the SD of a 0-10 score cannot exceed 5
    rho     ~ uniform on (-1, 1)       as in nof1ins; Beta(a, a) on (rho + 1) / 2 via ``rho_beta``

The autocorrelation prior was Beta(2, 2) (density (3/4)(1 - rho**2)) until issue 12: it pulls rho
towards 0, and at a true rho of 0.75-0.8 that made 95 % intervals cover only about 93 % of the time
(validation/calibration.py). The uniform prior brings coverage to 94-96 % from rho 0 to 0.8.

Integration
-----------
Given (rho, sigma, tau) the model is Gaussian-linear in (level, beta, drift, u): whitening by the
AR(1) transition makes the AR(1) part iid, the rounding term leaves a tridiagonal covariance that
one banded factorisation over the days handles (``grid.rounding_cross``), and the coefficients
integrate out in closed form: one Cholesky factor of the augmented cross-product gives the marginal
likelihood and the normal conditional posterior of beta (``grid``). The remaining parameters are
integrated by deterministic quadrature: Gauss-Legendre in rho on the interval where a coarse first
pass puts the log posterior within 20 of its peak, Gauss-Hermite in log sigma centred at each rho's
GLS scale less the rounding variance (from 20 days on, less the rounding variance as whitening
amplifies it), Gauss-Legendre in tau. ``Quadrature.for_days`` sets the node counts: the counts of
before issue 13 up to 19 days, fewer from 20 and fewer still from 70 days, where the posterior is
near normal (a 16-week diary: 14 rho x 7 sigma nodes instead of 40 x 16). The posterior of beta is
then a finite mixture of normals; means, quantiles (Newton steps on the mixture CDF) and tail
probabilities are exact up to quadrature error. No random numbers.

Quadrature error, measured as the largest change when every node count is doubled over 40 simulated
whole-number diaries per length (``python -m validation.quadrature``, 2026-11-24): posterior mean
under 0.001 points at any length; P(beta < 0) under 0.0005; the 95 % interval limits up to 0.012
points at the minimum of 6 analysis days, under 0.003 from 8 to 20 days (0.0021 at 12, 0.0013 at 20),
0.0011 at 30 and under 0.001 from 40 days (at most 0.0004 from 70 to 120; a 16-week diary has
about 80). The fit before issue 13 (``benchmarks/fit_reference.py``, ``--reference``) measured the
same at 6-12 days, 0.0029 at 20 and 0.0007 at 82. With period effects the 12 tau nodes are the
larger error: 0.012 in a limit at 56 days, in both fits (``tests/test_fit_agreement.py``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np

from magtrial.core.analysis.grid import Design, Terms, evaluate, terms
from magtrial.core.analysis.posterior import EffectPosterior
from magtrial.errors import ValidationError

__all__ = ["EffectPosterior", "Priors", "Quadrature", "fit_effect"]

_LOG2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True)
class Priors:
    """Prior settings (NRS points); see the module docstring for the model."""

    effect_sd: float = 2.5
    level_mean: float = 5.0
    level_sd: float = 5.0
    drift_sd: float = 0.25  # points per week
    sigma_scale: float = 3.0  # half-normal
    rho_beta: float = 1.0  # (rho + 1)/2 ~ Beta(a, a); 1 = uniform on (-1, 1)
    period_sd_scale: float = 1.0  # half-normal on tau
    rounding_var: float = 1.0 / 12.0  # known measurement error of whole-number scores; 0 = none


@dataclass(frozen=True)
class Quadrature:
    """Numbers of nodes; ``doubled()`` is used to show the answer does not depend on them.

    ``rho_coarse`` x ``sigma_coarse`` nodes find the rho interval holding the posterior (log density
    within ``window`` of its peak), ``rho`` x ``sigma`` (x ``tau``) nodes integrate on it.
    ``for_days(n)`` is the default: a short diary's posterior is broad and skewed and needs many
    nodes; from ``MEDIUM_DAYS`` and more so from ``LONG_DAYS`` days on it is near normal in
    (rho, log sigma) and far fewer give the same accuracy (issue 13; ``python -m validation.quadrature``).
    """

    rho_coarse: int = 40
    rho: int = 40
    sigma: int = 16
    tau: int = 12
    sigma_coarse: int = 4
    window: float = 20.0
    whitened_rounding: bool = False  # centre sigma on the GLS scale less the whitened rounding variance

    def doubled(self) -> Quadrature:
        return replace(
            self,
            rho_coarse=2 * self.rho_coarse,
            rho=2 * self.rho,
            sigma=2 * self.sigma,
            tau=2 * self.tau,
            sigma_coarse=2 * self.sigma_coarse,
        )

    @staticmethod
    def for_days(n: int) -> Quadrature:
        """The default nodes for a diary of ``n`` analysis days."""
        if n < MEDIUM_DAYS:
            return Quadrature()
        if n < LONG_DAYS:
            return Quadrature(rho_coarse=12, rho=24, sigma=10, sigma_coarse=1, whitened_rounding=True)
        return Quadrature(rho_coarse=12, rho=14, sigma=7, sigma_coarse=1, whitened_rounding=True)


MEDIUM_DAYS, LONG_DAYS = 20, 70


def fit_effect(
    y: np.ndarray,
    day: np.ndarray,
    first: np.ndarray,
    period: np.ndarray | None = None,
    *,
    drift: bool = True,
    period_effects: bool = False,
    priors: Priors = Priors(),
    quadrature: Quadrature | None = None,
) -> EffectPosterior:
    """Posterior of the effect ``beta`` (first group minus second) under the AR(1) model above.

    Parameters
    ----------
    y : outcome per analysis day.
    day : calendar day number per row, strictly increasing (gaps allowed).
    first : True on days of the first group (magnesium).
    period : period number per row; needed when ``period_effects``.
    drift, period_effects : include a linear drift / period random effects.
    priors, quadrature : prior settings and node counts (None: ``Quadrature.for_days(len(y))``).

    Returns
    -------
    EffectPosterior : mixture-of-normals posterior of beta, with ``effect_likelihood()``.
    """
    y = np.asarray(y, float)
    day = np.asarray(day, float)
    first = np.asarray(first, bool)
    if y.ndim != 1 or y.shape != day.shape or y.shape != first.shape:
        raise ValidationError("y, day and group must be 1-D arrays of the same length")
    gap = np.diff(day)
    if y.size < 4 or gap.min() <= 0:
        raise ValidationError("the model needs at least 4 days in strictly increasing calendar order")
    design = _design(y, day, gap, first, period, drift, period_effects, priors)
    q = Quadrature.for_days(y.size) if quadrature is None else quadrature
    tau_nodes, shared = _terms(design.n, tuple(design.prior_mean), tuple(design.prior_var), design.n_random, q, priors)
    rho_c = _gauss("legendre", q.rho_coarse)[0]  # on (-1, 1)
    coarse = evaluate(design, shared, rho_c, _hermite(q.sigma_coarse, priors.sigma_scale))  # support only
    per_rho = _logsumexp(coarse.logw.reshape(rho_c.size, -1), axis=1)  # no rho quadrature weight yet
    a, b = _window(rho_c, per_rho, q.window)
    rho, rho_w = _legendre(a, b, q.rho)
    fine = evaluate(design, shared, rho, _hermite(q.sigma, priors.sigma_scale))
    logw = fine.logw + np.log(rho_w)[:, None, None]
    top = logw.max()
    w = np.exp(logw - top)
    total = w.sum()
    w /= total
    sel = w > 1e-14  # components below this share change no reported digit
    return EffectPosterior(
        weights=w[sel] / w[sel].sum(),
        means=fine.mean[sel],
        sds=np.sqrt(fine.var[sel]),
        prior_sd=priors.effect_sd,
        log_evidence=float(top + np.log(total)),
        rho_mean=float(w.sum(axis=(1, 2)) @ rho),
        sigma_mean=float(np.sum(w.sum(axis=2) * fine.sigma)),
        tau_mean=float(w.sum(axis=(0, 1)) @ tau_nodes) if design.n_random else None,
        n_days=int(y.size),
    )


def _design(
    y: np.ndarray,
    day: np.ndarray,
    gap: np.ndarray,
    first: np.ndarray,
    period: np.ndarray | None,
    drift: bool,
    period_effects: bool,
    priors: Priors,
) -> Design:
    n_random = 0
    indicators = np.zeros((y.size, 0))
    if period_effects:
        if period is None:
            raise ValidationError("period effects need the period of each day")
        period = np.asarray(period)
        levels = np.unique(period)
        indicators = period[:, None] == levels[None, :]
        n_random = levels.size
    p = 2 + int(drift) + n_random  # level, [drift], [periods], group
    m = np.empty((y.size, p + 1))
    m[:, 0] = 1.0
    mean, var = [priors.level_mean], [priors.level_sd**2]
    if drift:
        np.subtract(day, day.mean(), out=m[:, 1])
        m[:, 1] /= 7.0
        mean.append(0.0)
        var.append(priors.drift_sd**2)
    if n_random:
        m[:, p - 1 - n_random : p - 1] = indicators
        mean.extend([0.0] * n_random)
        var.extend([1.0] * n_random)
    m[:, p - 1] = np.where(first, 0.5, -0.5)
    m[:, p] = y
    mean.append(0.0)
    var.append(priors.effect_sd**2)
    fixed = np.array([*range(p - 1 - n_random), p - 1, p])
    values, index, counts = _distinct(gap)
    return Design(
        m,
        np.ascontiguousarray(m.T),
        gap,
        values,
        index,
        counts,
        np.array(mean),
        np.array(var),
        fixed,
        n_random,
    )


def _distinct(gap: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct gaps, the index of each gap among them and their counts (``np.unique``, faster for whole days)."""
    whole = gap.astype(np.intp)
    if np.array_equal(whole, gap) and whole.max() < 1000:
        tally = np.bincount(whole)
        present = np.flatnonzero(tally)
        return present.astype(float), (np.cumsum(tally > 0) - 1)[whole], tally[present].astype(float)
    values, index, counts = np.unique(gap, return_inverse=True, return_counts=True)
    return values, index, counts.astype(float)


def _window(rho: np.ndarray, log_p: np.ndarray, drop: float) -> tuple[float, float]:
    """The rho interval where the coarse log posterior is within ``drop`` of its maximum.

    Each end is where the line between the last node inside and the first node outside crosses the
    threshold (the interval is -1 or 1 where no node outside exists): with a concave log posterior
    the line lies below it, so the cut is where the posterior is at most ``exp(-drop)`` of its peak
    or lower, wherever the coarse nodes fall (issue 13: a whole coarse spacing each side made the
    window, and so the fine nodes, several times wider than the posterior).
    """
    level = log_p.max() - drop
    keep = np.flatnonzero(log_p > level)
    i, j = int(keep[0]), int(keep[-1])
    a = -1.0 if i == 0 else float(rho[i] - (rho[i] - rho[i - 1]) * (log_p[i] - level) / (log_p[i] - log_p[i - 1]))
    b = (
        1.0
        if j == rho.size - 1
        else float(rho[j] + (rho[j + 1] - rho[j]) * (log_p[j] - level) / (log_p[j] - log_p[j + 1]))
    )
    return a, b


def _legendre(a: float, b: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = _gauss("legendre", n)
    return a + (b - a) * (x + 1) / 2, w * (b - a) / 2


@functools.cache
def _gauss(kind: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss nodes and weights, computed once per size: numpy's eigenvalue solve costs more than a fit."""
    rule = np.polynomial.legendre.leggauss if kind == "legendre" else np.polynomial.hermite.hermgauss
    x, w = rule(n)
    x.flags.writeable = w.flags.writeable = False
    return x, w


@functools.cache
def _hermite(n: int, sigma_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Hermite nodes in log sigma with the node-independent part of their log weight (prior constant)."""
    xi, wh = _gauss("hermite", n)
    base = np.log(wh) + xi**2 + np.log(2.0) - 0.5 * _LOG2PI - np.log(sigma_scale)
    base.flags.writeable = False
    return xi, base


def _logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    top = x.max(axis=axis, keepdims=True)
    return np.asarray(np.log(np.exp(x - top).sum(axis=axis)) + top.squeeze(axis))


@functools.lru_cache(maxsize=64)
def _terms(
    n: int, mean: tuple[float, ...], var: tuple[float, ...], n_random: int, q: Quadrature, priors: Priors
) -> tuple[np.ndarray, Terms]:
    """The tau nodes and what every node shares, once per model shape (they do not depend on the data)."""
    tau, tau_logw = _tau_nodes(n_random, q.tau, priors.period_sd_scale)
    tau.flags.writeable = False
    return tau, terms(n, np.array(mean), np.array(var), n_random, tau, tau_logw, priors, q.whitened_rounding)


def _tau_nodes(n_random: int, n: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    if not n_random:
        return np.zeros(1), np.zeros(1)
    tau, w = _legendre(0.0, 4.5 * scale, n)
    log_prior = np.log(2.0) - 0.5 * _LOG2PI - np.log(scale) - 0.5 * (tau / scale) ** 2
    return tau, np.log(w) + log_prior
