"""The "responders among the people pooled" step of a large pool, from Chebyshev nodes (see ``smooth``).

The share of pooled people whose own effect is <= -1 needs, per grid cell c, only two sums over people:
F1_c = sum_i p_ic and F2_c = sum_i p_ic^2, with p_ic = P(beta_i <= -1 | mu_c, tau_c, y_i). Both are smooth in
(mu, tau), so they are interpolated from exact values at the nodes and checked at grid cells to ``TOL`` times
the number of people (the share and its SD then move by at most about 1e-8). Every person's own estimate
(``persons=True``) still takes the row-by-row path.
"""

from __future__ import annotations

import numpy as np

from magtrial.core.pooling.engine import (
    ACCURATE_REL_ERROR,
    SMOOTH_MIN_ROWS,
    GridPosterior,
    below_weights,
    kernel_weights,
)
from magtrial.core.pooling.lowrank import maybe_factor, products
from magtrial.core.pooling.results import RESPONDER_THRESHOLD
from magtrial.core.pooling.smooth import tensor_sums

TOL = 1e-8


def responder_sums(lik: np.ndarray, grid: np.ndarray, mu: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """(F1, F2) at each cell (mu[c], tau[c]), products in float64: shape (2, cells)."""
    W = kernel_weights(grid, mu, tau)
    fac = maybe_factor(W, lik.shape[0])
    v = below_weights(grid, RESPONDER_THRESHOLD)
    out = np.zeros((2, W.shape[1]))
    tiny = np.finfo(np.float32).tiny
    for start in range(0, lik.shape[0], 1024):
        block = lik[start : start + 1024]
        both = products(block, W, fac, weights=v, rel_error=ACCURATE_REL_ERROR)
        m, below = both[: block.shape[0]], both[block.shape[0] :]
        p = below / np.maximum(m, tiny)
        out[0] += p.sum(axis=0)
        out[1] += np.einsum("ij,ij->j", p, p)
    return out


def smooth_responders(lik: np.ndarray, grid: np.ndarray, post: GridPosterior) -> np.ndarray | None:
    """(F1, F2) at the cells of ``post.cells`` (same order), or None for a small pool or a failed check."""
    n = lik.shape[0]
    if n < SMOOTH_MIN_ROWS:
        return None
    got = tensor_sums(lambda m, t: responder_sums(lik, grid, m, t), post.mu_nodes, post.tau_nodes, TOL * n)
    if got is None:
        return None
    w = post.mass.ravel()
    keep = w > 1e-12 * w.max()  # as ``GridPosterior.cells``
    return np.asarray(got.reshape(2, -1)[:, keep])
