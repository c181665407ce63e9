"""Deterministic quadrature for the normal random-effects model on likelihood curves.

Model
-----
Each person i contributes a likelihood curve L_i(beta) = p(diary_i | beta_i = beta) (every nuisance
parameter already integrated out, no prior on beta). The population model is

    beta_i ~ N(mu, tau^2),    mu ~ N(m0, s0^2),    tau ~ half-normal(scale) or half-Cauchy(scale).

The marginal likelihood of one person at one (mu, tau) is m_i(mu, tau) = int L_i(beta) N(beta; mu, tau^2)
dbeta. Curves live on one uniform grid b_0 < ... < b_{G-1} (spacing h) and are read as piecewise linear,
L(beta) = sum_g L_g hat_g(beta) with hat functions hat_g. Then m_i = sum_g L_ig W_g(mu, tau) with the
closed form

    W_g(mu, tau) = E[hat_g(X)],  X ~ N(mu, tau^2)
                 = hat_g(mu) + tau * (psi(z_{g-1}) - 2 psi(z_g) + psi(z_{g+1})) / h,
    z_j = |mu - b_j| / tau,       psi(z) = phi(z) - z * Phi(-z),

which is exact for the piecewise-linear curve, continuous down to tau = 0 (where it is plain linear
interpolation) and has no cancellation in the tails. All people at all (mu, tau) cells are then one
matrix product ``L @ W``; the posterior on the (mu, tau) grid is exp(sum_i log m_i + log prior).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from magtrial.core.pooling.lowrank import maybe_factor, products, sum_log_rows
from magtrial.core.pooling.smooth import tensor_sums
from magtrial.errors import ValidationError

# One common effect grid (NRS points, magnesium minus comparator). A 0-10 scale cannot move further.
BETA_LO, BETA_HI, BETA_STEP = -10.0, 10.0, 0.05
_SQRT2PI = np.sqrt(2.0 * np.pi)


def beta_grid() -> np.ndarray:
    n = int(round((BETA_HI - BETA_LO) / BETA_STEP)) + 1
    return np.linspace(BETA_LO, BETA_HI, n)


@dataclass(frozen=True)
class Prior:
    """Priors of the population model (NRS points).

    Defaults: mu ~ N(0, 2.5^2), weakly informative on a 0-10 scale (same as the per-person analysis);
    tau ~ half-normal(1), i.e. a 95 % prior belief that people differ by less than about 2 points in SD.
    Zucker et al. 2010 found Bayesian N-of-1 meta-analyses "highly sensitive" to variance priors, so
    ``prior_sensitivity`` re-runs the pool under alternatives (half-Cauchy, wider scales).
    """

    mu_mean: float = 0.0
    mu_sd: float = 2.5
    tau_scale: float = 1.0
    tau_family: str = "half-normal"  # or "half-cauchy"

    def __post_init__(self) -> None:
        if self.mu_sd <= 0 or self.tau_scale <= 0:
            raise ValidationError("prior scales must be positive")
        if self.tau_family not in ("half-normal", "half-cauchy"):
            raise ValidationError("tau_family must be 'half-normal' or 'half-cauchy'")

    def log_density(self, mu: np.ndarray, tau: np.ndarray) -> np.ndarray:
        lp = -0.5 * ((mu - self.mu_mean) / self.mu_sd) ** 2
        if self.tau_family == "half-normal":
            return lp - 0.5 * (tau / self.tau_scale) ** 2
        return lp - np.log1p((tau / self.tau_scale) ** 2)

    def describe(self) -> str:
        return f"mu ~ N({self.mu_mean:g}, {self.mu_sd:g}^2), tau ~ {self.tau_family}(scale {self.tau_scale:g})"


def _psi(z: np.ndarray) -> np.ndarray:
    return np.asarray(np.exp(-0.5 * z * z) / _SQRT2PI - z * ndtr(-z))


def kernel_weights(grid: np.ndarray, mu: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """W[g, c] = E[hat_g(X)] for X ~ N(mu[c], tau[c]^2); ``grid`` uniform. Shape (G, C).

    Columns sum to 1 up to the mass outside the grid.
    """
    grid = np.asarray(grid, dtype=float)
    h = grid[1] - grid[0]
    mu = np.asarray(mu, dtype=float)[None, :]
    tau = np.asarray(tau, dtype=float)[None, :]
    ext = np.concatenate(([grid[0] - h], grid, [grid[-1] + h]))[:, None]
    hat = np.clip(1.0 - np.abs(grid[:, None] - mu) / h, 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = np.minimum(np.abs(mu - ext) / tau, 40.0)  # psi(40) underflows to 0; avoids overflow
        psi = np.where(tau > 0, _psi(z), 0.0)
    smooth = tau * (psi[:-2] - 2.0 * psi[1:-1] + psi[2:]) / h
    return np.asarray(np.clip(hat + smooth, 0.0, None))


def below_weights(grid: np.ndarray, threshold: float) -> np.ndarray:
    """Share of each hat function's mass at or below ``threshold`` (for P(beta <= threshold))."""
    h = grid[1] - grid[0]
    # hat_g integrates to h; the part below t of a triangle on [b-h, b+h]
    u = np.clip((threshold - (grid - h)) / h, 0.0, 2.0)
    return np.asarray(np.where(u <= 1.0, 0.5 * u * u, 1.0 - 0.5 * (2.0 - u) ** 2))


@dataclass(frozen=True)
class GridPosterior:
    """Posterior on a (mu, tau) grid: ``mass`` sums to 1 over cells (mu_nodes x tau_nodes)."""

    mu_nodes: np.ndarray
    tau_nodes: np.ndarray
    mass: np.ndarray  # (len(mu_nodes), len(tau_nodes))
    log_evidence: float
    edge_mass: float  # posterior mass in the outermost cells: small means the grid covers it

    @property
    def cells(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Flattened (mu, tau, weight) of cells with non-negligible weight."""
        mu, tau = np.meshgrid(self.mu_nodes, self.tau_nodes, indexing="ij")
        w = self.mass.ravel()
        keep = w > 1e-12 * w.max()
        return mu.ravel()[keep], tau.ravel()[keep], w[keep] / w[keep].sum()


def _cell_widths(nodes: np.ndarray, lower: float | None) -> np.ndarray:
    edges = np.concatenate(
        (
            [nodes[0] - (nodes[1] - nodes[0]) / 2],
            (nodes[1:] + nodes[:-1]) / 2,
            [nodes[-1] + (nodes[-1] - nodes[-2]) / 2],
        )
    )
    if lower is not None:
        edges = np.clip(edges, lower, None)
    return np.diff(edges)


def log_marginals(lik: np.ndarray, grid: np.ndarray, mu: np.ndarray, tau: np.ndarray, block: int = 4096) -> np.ndarray:
    """sum_i log m_i(mu_c, tau_c) for each cell c; ``lik`` is (n, G) likelihood values on ``grid``."""
    W = kernel_weights(grid, mu, tau)
    fac = maybe_factor(W, lik.shape[0])  # many trials: a low-rank factor with a bound (see ``lowrank``)
    W = W.astype(lik.dtype)
    total = np.zeros(W.shape[1])
    tiny = np.finfo(lik.dtype).tiny
    step = block if fac is None else block // 4  # the factor's products are float64: smaller blocks, same memory
    for start in range(0, lik.shape[0], step):
        m = products(lik[start : start + step], W, fac)
        np.maximum(m, tiny, out=m)
        total += np.log(m).sum(axis=0, dtype=float) if fac is None else sum_log_rows(m)
    return total


# Pools of at least this many trials interpolate the sum of log marginals from Chebyshev nodes (``smooth``),
# accepted when it matches exact cells to SMOOTH_TOL in the log posterior (relative 1e-7 in every cell's mass).
SMOOTH_MIN_ROWS = 2048
SMOOTH_TOL = 1e-7
# The exact values the interpolant is built on and checked against use the low-rank factor only for rows it
# gives to 1e-10 of each m_ic: with the pooling default (1e-6) their own error, summed over thousands of rows,
# reached 4e-7 with threaded BLAS, above SMOOTH_TOL, and the nodes and check cells shared it unseen.
ACCURATE_REL_ERROR = 1e-10


def accurate_log_marginals(lik: np.ndarray, grid: np.ndarray, mu: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """``log_marginals`` with float64 products throughout: the exact values the interpolation is built on.

    (float32 products, fine for thousands of cells whose noise averages out, leave ~1e-3 noise in a sum over
    100,000 trials, far above ``SMOOTH_TOL``.) Returns shape (1, cells).
    """
    W = kernel_weights(grid, mu, tau)
    fac = maybe_factor(W, lik.shape[0])
    total = np.zeros(W.shape[1])
    tiny = np.finfo(np.float32).tiny
    for start in range(0, lik.shape[0], 1024):
        m = products(lik[start : start + 1024], W, fac, rel_error=ACCURATE_REL_ERROR)
        np.maximum(m, tiny, out=m)
        total += sum_log_rows(m)
    return total[None, :]


def smooth_log_marginals(
    lik: np.ndarray, grid: np.ndarray, mu_nodes: np.ndarray, tau_nodes: np.ndarray
) -> np.ndarray | None:
    """The (mu, tau) table of sum_i log m_i from Chebyshev nodes, or None (small pool, or the check failed)."""
    if lik.shape[0] < SMOOTH_MIN_ROWS:
        return None
    got = tensor_sums(lambda m, t: accurate_log_marginals(lik, grid, m, t), mu_nodes, tau_nodes, SMOOTH_TOL)
    return None if got is None else got[0]


def _line_log_marginals(
    lik: np.ndarray, grid: np.ndarray, nodes: np.ndarray, fixed: float, along_tau: bool
) -> np.ndarray | None:
    """``smooth_log_marginals`` along one line of cells (tau at a fixed mu, or mu at a fixed tau), or None."""
    if lik.shape[0] < SMOOTH_MIN_ROWS:
        return None
    one = np.array([fixed])
    if along_tau:
        got = tensor_sums(lambda m, t: accurate_log_marginals(lik, grid, t, m), nodes, one, SMOOTH_TOL)
    else:
        got = tensor_sums(lambda m, t: accurate_log_marginals(lik, grid, m, t), nodes, one, SMOOTH_TOL)
    return None if got is None else got[0, :, 0]


def grid_posterior(
    lik: np.ndarray, grid: np.ndarray, prior: Prior, mu_nodes: np.ndarray, tau_nodes: np.ndarray
) -> GridPosterior:
    mu, tau = np.meshgrid(mu_nodes, tau_nodes, indexing="ij")
    logp = smooth_log_marginals(lik, grid, mu_nodes, tau_nodes)
    if logp is None:
        logp = log_marginals(lik, grid, mu.ravel(), tau.ravel()).reshape(mu.shape)
    logp += prior.log_density(mu, tau)
    area = np.outer(_cell_widths(mu_nodes, None), _cell_widths(tau_nodes, 0.0))
    top = logp.max()
    mass = np.exp(logp - top) * area
    z = mass.sum()
    mass /= z
    # Normalising constants of the prior are left out: log_evidence is only comparable across one prior.
    edge = mass[0, :].sum() + mass[-1, :].sum() + mass[:, -1].sum()
    if tau_nodes[0] > 0:
        edge += mass[:, 0].sum()
    return GridPosterior(mu_nodes, tau_nodes, mass, float(top + np.log(z)), float(edge))


def _line(
    lik: np.ndarray, grid: np.ndarray, prior: Prior, lo: float, hi: float, fixed: float, along_tau: bool, n: int = 121
) -> tuple[float, float]:
    """Conditional posterior mean and SD of tau (mu fixed) or mu (tau fixed), zooming until resolved."""
    mean, sd = (lo + hi) / 2, (hi - lo) / 4
    for zoom in range(6):
        nodes = np.linspace(lo, hi, n)
        other = np.full(n, fixed)
        mu, tau = (other, nodes) if along_tau else (nodes, other)
        # the first tau range (0 to several prior scales) is too wide for a polynomial: exact cells at once
        logp = None if along_tau and zoom == 0 else _line_log_marginals(lik, grid, nodes, fixed, along_tau)
        if logp is None:
            logp = log_marginals(lik, grid, mu, tau)
        logp = logp + prior.log_density(mu, tau)
        mass = np.exp(logp - logp.max()) * _cell_widths(nodes, 0.0 if along_tau else None)
        mass /= mass.sum()
        mean = float(mass @ nodes)
        sd = float(np.sqrt(max(mass @ (nodes - mean) ** 2, 1e-16)))
        step = nodes[1] - nodes[0]
        at_edge = mass[-1] > 1e-4 or (mass[0] > 1e-4 and not (along_tau and lo == 0.0))
        if at_edge:
            lo, hi = mean - 3 * (hi - lo), mean + 3 * (hi - lo)
        elif sd < 5 * step:
            lo, hi = mean - 10 * max(sd, step / 4), mean + 10 * max(sd, step / 4)
        else:
            break
        if along_tau:
            lo = max(lo, 0.0)
    return mean, sd


def _support(nodes: np.ndarray, mass: np.ndarray, floor: float = 1e-10) -> tuple[float, float]:
    keep = np.flatnonzero(mass > floor)
    step = nodes[1] - nodes[0]
    return float(nodes[keep[0]] - step), float(nodes[keep[-1]] + step)


def adaptive_posterior(
    lik: np.ndarray,
    grid: np.ndarray,
    prior: Prior,
    start: tuple[float, float, float],
    n_mu: int = 49,
    n_tau: int = 41,
    max_rounds: int = 10,
    max_nodes: int = 241,
) -> GridPosterior:
    """Fit the grid to the posterior, then integrate on it.

    ``start`` = (mu guess, its SD, tau guess), e.g. from DerSimonian-Laird. Two cheap line searches
    (tau at the mu guess, then mu at that tau) give a first grid of +-7 SD. Each round then
    (1) extends an axis whose end node still holds mass (> 1e-8), (2) trims it to where the marginal
    mass exceeds 1e-10, and (3) adds nodes until no node holds more than 16 % of a marginal (about
    2.5 nodes per SD of a normal peak, so several nodes across every mode of a multimodal posterior).
    """
    mu0, sd0, tau0 = start
    t_mean, t_sd = _line(lik, grid, prior, 0.0, max(3.0 * tau0, tau0 + 3.0 * prior.tau_scale, 1.0), mu0, True)
    half = 12 * max(sd0, 0.01)
    m_mean, m_sd = _line(lik, grid, prior, mu0 - half, mu0 + half, t_mean, False)
    mu_lo, mu_hi = m_mean - 7 * m_sd, m_mean + 7 * m_sd
    tau_lo, tau_hi = max(0.0, t_mean - 7 * t_sd), t_mean + 7 * t_sd
    if tau_lo < 2 * t_sd:
        tau_lo = 0.0
    post = None
    for _ in range(max_rounds):
        mu_nodes = np.linspace(mu_lo, mu_hi, n_mu)
        tau_nodes = np.linspace(tau_lo, tau_hi, n_tau)
        post = grid_posterior(lik, grid, prior, mu_nodes, tau_nodes)
        pm, pt = post.mass.sum(axis=1), post.mass.sum(axis=0)
        moved = False
        if pm[0] > 1e-8 or pm[-1] > 1e-8:
            width = mu_hi - mu_lo
            mu_lo -= width if pm[0] > 1e-8 else 0.0
            mu_hi += width if pm[-1] > 1e-8 else 0.0
            moved = True
        if pt[-1] > 1e-8 or (tau_lo > 0 and pt[0] > 1e-8):
            width = tau_hi - tau_lo
            tau_hi += width if pt[-1] > 1e-8 else 0.0
            tau_lo = max(0.0, tau_lo - width) if tau_lo > 0 and pt[0] > 1e-8 else tau_lo
            moved = True
        if moved:
            continue
        new_mu = _support(mu_nodes, pm)
        new_tau = _support(tau_nodes, pt)
        new_tau = (0.0 if tau_lo == 0.0 else max(new_tau[0], 0.0), new_tau[1])
        if new_mu[1] - new_mu[0] < 0.7 * (mu_hi - mu_lo) or new_tau[1] - new_tau[0] < 0.7 * (tau_hi - tau_lo):
            (mu_lo, mu_hi), (tau_lo, tau_hi) = new_mu, new_tau
            continue
        fine_mu, fine_tau = pm.max() <= 0.16, pt.max() <= 0.16
        if fine_mu and fine_tau:
            return post
        if (n_mu >= max_nodes or fine_mu) and (n_tau >= max_nodes or fine_tau):
            return post
        n_mu = n_mu if fine_mu else min(int(n_mu * 1.6), max_nodes)
        n_tau = n_tau if fine_tau else min(int(n_tau * 1.6), max_nodes)
    assert post is not None
    return post
