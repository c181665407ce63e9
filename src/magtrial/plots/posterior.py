"""The posterior of the treatment effect with zero and the smallest worthwhile difference marked.

Takes a density on a grid (so it draws any engine's posterior) and the labels of the comparison
(magnesium minus comparator; there is no blinded posterior to draw).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def mixture_density(
    weights: np.ndarray, means: np.ndarray, sds: np.ndarray, grid: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Grid and density of a normal mixture (the analysis posterior's form)."""
    weights, means, sds = (np.asarray(a, float) for a in (weights, means, sds))
    if grid is None:
        mean = float(weights @ means)
        sd = float(np.sqrt(max(weights @ (sds**2 + means**2) - mean**2, 1e-12)))
        grid = np.linspace(mean - 4.5 * sd, mean + 4.5 * sd, 301)
    z = (grid[:, None] - means) / sds
    density = (np.exp(-0.5 * z**2) / (sds * np.sqrt(2 * np.pi))) @ weights
    return grid, density


def plot_posterior(
    grid: np.ndarray, density: np.ndarray, *, mcid: float, interval: tuple[float, float], xlabel: str, ax: Any = None
) -> Any:
    """Density curve, shaded 95% interval, a line at 0 and dashed lines at -MCID and +MCID."""
    from magtrial.plots.svg import new_axes

    if ax is None:
        ax = new_axes((6.4, 2.3))  # printed at this size (A4 text width)
    grid, density = np.asarray(grid, float), np.asarray(density, float)
    lo_x, hi_x = min(grid[0], -mcid - 0.5), max(grid[-1], mcid + 0.5)
    ax.plot(grid, density, color="#1f4e79", lw=1.5)
    inside = (grid >= interval[0]) & (grid <= interval[1])
    ax.fill_between(grid[inside], density[inside], color="#9dc3e6", alpha=0.7, lw=0, label="95% credible interval")
    ax.fill_between(
        grid[grid <= -mcid],
        density[grid <= -mcid],
        color="#70ad47",
        alpha=0.35,
        lw=0,
        label=f"at least {mcid:g} point(s) lower",
    )
    ax.axvline(0, color="#404040", lw=1)
    top = float(density.max()) * 1.15
    for x, text in ((-mcid, f"-MCID ({-mcid:g})"), (mcid, f"+MCID ({mcid:g})")):
        ax.vlines(x, 0, top * 0.97, color="#7f7f7f", lw=1, ls="--")  # the line stops below its label
        ax.text(x, top, text, ha="center", va="bottom", fontsize=7.5, color="#404040")
    ax.set_xlim(lo_x, hi_x)
    ax.set_ylim(0, top * 1.12)
    ax.set_yticks([])
    ax.set_xlabel(xlabel)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), fontsize=7.5, frameon=False, ncols=2)
    ax.spines[["top", "right", "left"]].set_visible(False)
    return ax
