"""Shared by the analysis tests: simulated whole-number AR(1) diaries and the rounding term in separate blocks."""

from __future__ import annotations

import numpy as np

from magtrial.core.analysis.grid import rounding_cross


def ar1_diary(seed, n, rho, sd, gaps, gap_rate=0.15, max_gap=3):
    """Whole-number scores 0-10, AR(1) over calendar days, a 1-point effect, weekly alternation.

    With ``gaps`` about ``gap_rate`` of the days are followed by 1 to ``max_gap`` missing days. Returns
    (y, day, first, period) with one period per week.
    """
    rng = np.random.default_rng(seed)
    day = np.cumsum(1 + (rng.random(n) < gap_rate) * rng.integers(1, max_gap + 1, n)) if gaps else np.arange(n)
    first = (day // 7) % 2 == 0
    e = np.zeros(n)
    e[0] = rng.normal()
    for i in range(1, n):
        phi = rho ** (day[i] - day[i - 1])
        e[i] = phi * e[i - 1] + np.sqrt(1 - phi**2) * rng.normal()
    y = np.clip(np.round(5 + np.where(first, -0.5, 0.5) + sd * e), 0, 10)
    if np.ptp(y) == 0:  # a flat diary has no scale to estimate
        y[0] += 1
    return y, day, first, day // 7


def rounding_blocks(a_w, y_w, phi, s, sigma, w):
    """``grid.rounding_cross`` on a separate whitened design and outcome: ``G = A' V^-1 A``, ``b = A' V^-1 y``,
    ``c = y' V^-1 y`` and ``log det K`` per (rho, sigma) node (the form the dense and loop references take)."""
    p = a_w.shape[2]
    m_w = np.concatenate([a_w, y_w[..., None]], axis=2).transpose(0, 2, 1)
    cross, logdet = rounding_cross(np.ascontiguousarray(m_w), phi, s, sigma**2, w)
    return cross[..., :p, :p], cross[..., :p, p], cross[..., p, p], logdet
