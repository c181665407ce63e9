"""Sums over trials on a (mu, tau) grid from a few exact cells, by Chebyshev interpolation, checked.

Why: every grid round evaluated sum_i log m_i(mu_c, tau_c) at every cell c of a 49 x 41 (or finer) grid, n x cells
values, which was most of ``magtrial pool`` at 100,000 trials. Over the small box a large pool's grid spans, such a
sum over many smooth terms is smooth in (mu, tau) (Bernstein-von Mises: a quadratic plus terms shrinking like
n^(-k/2)), so a tensor Chebyshev interpolant from (d+1)^2 exact values, d = 12, reproduces it to the noise of the
exact sum (measured 5e-9 on 100,000 trials, against 50 across the box).

Nothing is taken on trust, though this is a check, not a proof: the interpolant is compared with exact values at
25 check cells of the grid itself (``CHECK_FRACTIONS`` in each axis, away from the nodes; a polynomial's error is
spread over the box, not hidden between cells), and when any differs by more than ``tol`` (the caller's
bound, e.g. 1e-7 in the log posterior) the caller gets None and computes every cell exactly, as before. Nodes and
check cells are evaluated in one call (each call reads every curve once, which is what it costs), so an error
they share goes unseen: the caller must compute them exactly (``engine.accurate_log_marginals``). Near tau = 0
with sharp curves the sum has kinks (linear interpolation of the curves) and this falls back by itself.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

DEGREE = 12
CHECK_FRACTIONS = (0.09, 0.3, 0.52, 0.73, 0.94)


def chebyshev_nodes(lo: float, hi: float, degree: int) -> np.ndarray:
    """Chebyshev-Lobatto points on [lo, hi] (both ends included); degree 0 gives the midpoint."""
    if degree == 0 or hi == lo:
        return np.array([(lo + hi) / 2])
    return np.asarray((lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * np.arange(degree + 1) / degree))


def interpolation_matrix(nodes: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Rows of barycentric weights: ``interpolation_matrix(nodes, x) @ f(nodes)`` is the interpolant at x."""
    if nodes.size == 1:
        return np.ones((x.size, 1))
    w = (-1.0) ** np.arange(nodes.size)
    w[0] *= 0.5
    w[-1] *= 0.5
    diff = x[:, None] - nodes[None, :]
    hit = diff == 0
    diff[hit] = 1.0
    m = w / diff
    m /= m.sum(axis=1, keepdims=True)
    rows, cols = np.nonzero(hit)
    m[rows] = 0.0
    m[rows, cols] = 1.0
    return np.asarray(m)


def _checks(nodes: np.ndarray) -> np.ndarray:
    """Indices of check nodes of one axis (all of a short axis)."""
    if nodes.size <= len(CHECK_FRACTIONS):
        return np.arange(nodes.size)
    return np.unique(np.round(np.array(CHECK_FRACTIONS) * (nodes.size - 1)).astype(int))


def tensor_sums(
    exact: Callable[[np.ndarray, np.ndarray], np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    tol: np.ndarray | float,
    degree: int = DEGREE,
) -> np.ndarray | None:
    """Values of ``exact`` at every (x[a], y[b]) from Chebyshev nodes, or None when the check fails.

    Parameters
    ----------
    exact : callable
        ``exact(xs, ys)`` for flat arrays of cells returns a (k, cells) array of k smooth sums.
    x, y : arrays
        The grid's axes (ascending). An axis of one value is not interpolated.
    tol : float or (k,) array
        Largest accepted |interpolant - exact| at the check cells, per sum.

    Returns
    -------
    (k, len(x), len(y)) array, or None.
    """
    tol = np.asarray(tol, dtype=float).reshape(-1, 1, 1)
    cx, cy = x[_checks(x)], y[_checks(y)]
    nx = chebyshev_nodes(x[0], x[-1], degree if x.size > 1 else 0)
    ny = chebyshev_nodes(y[0], y[-1], degree if y.size > 1 else 0)
    if nx.size * ny.size + cx.size * cy.size >= x.size * y.size // 2:
        return None  # no cheaper than computing every cell
    mx, my = np.meshgrid(nx, ny, indexing="ij")
    gx, gy = np.meshgrid(cx, cy, indexing="ij")
    both = exact(np.concatenate([mx.ravel(), gx.ravel()]), np.concatenate([my.ravel(), gy.ravel()]))
    values = both[:, : mx.size].reshape(-1, nx.size, ny.size)
    truth = both[:, mx.size :].reshape(-1, cx.size, cy.size)
    a, b = interpolation_matrix(nx, cx), interpolation_matrix(ny, cy)
    if not np.all(np.abs(np.einsum("ia,kab,jb->kij", a, values, b) - truth) <= tol):
        return None
    a, b = interpolation_matrix(nx, x), interpolation_matrix(ny, y)
    return np.asarray(np.einsum("ia,kab,jb->kij", a, values, b))
