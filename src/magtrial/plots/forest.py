"""Forest plot: published between-group effects beside the pooled N-of-1 estimate.

Rows come from ``magtrial.core.evidence.forest_rows``. A study with no extractable effect is listed
with its reason instead of a point; a derived effect without an SE is drawn as a hollow point with no
interval; an uncontrolled study is drawn in grey and labelled as such; the pooled N-of-1 mean effect
is a filled diamond with its 95 % posterior interval.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

STYLE = {"published": "#1f4e79", "uncontrolled": "#8c8c8c", "pooled": "#c55a11"}


def plot_forest(rows: Sequence[Any], *, mcid: float = 1.0, ax: Any = None, xlim: tuple[float, float] = (-4, 2)) -> Any:
    """Draw one row per study (top to bottom in the given order); returns the Axes.

    Parameters
    ----------
    rows : sequence of ForestRow
        ``label``, ``value`` (None = not extractable), ``lower``/``upper`` (None = no interval),
        ``kind`` ("published", "uncontrolled", "pooled") and ``note``.
    mcid : float
        A dashed line is drawn at -mcid (the smallest worthwhile reduction).
    """
    from magtrial.plots.svg import new_axes

    if ax is None:
        ax = new_axes((4.4, 0.5 * len(rows) + 1.3))  # + labels: the A4 text width
    n = len(rows)
    for i, row in enumerate(rows):
        y = n - 1 - i
        colour = STYLE.get(row.kind, "#1f4e79")
        if row.value is None:
            note = textwrap.fill(str(row.note), 62)  # inside the axes: the chart prints at full size
            ax.text(
                xlim[0] + 0.03 * (xlim[1] - xlim[0]),
                y,
                note,
                linespacing=1.0,
                va="center",
                fontsize=7.5,
                color="#606060",
                style="italic",
                zorder=3,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0},
            )
            continue
        if row.lower is not None and row.upper is not None:
            ax.plot([row.lower, row.upper], [y, y], color=colour, lw=1.6)
        marker = "D" if row.kind == "pooled" else "s"
        hollow = row.lower is None
        ax.plot([row.value], [y], marker=marker, ms=7, color=colour, mfc="white" if hollow else colour)
        if hollow:
            ax.text(row.value, y + 0.28, "no SE extractable", ha="center", fontsize=7.5, color=colour)
    ax.axvline(0, color="#404040", lw=1, zorder=1)
    ax.vlines(-mcid, -0.7, n - 0.5, color="#7f7f7f", lw=1, ls="--", zorder=1)  # stops below its label
    ax.text(-mcid, n - 0.45, f"-{mcid:g} point", ha="center", va="bottom", fontsize=7.5, color="#606060")
    ax.set_yticks(range(n))
    ax.set_yticklabels([r.label for r in reversed(rows)], fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    for tick, row in zip(ax.get_yticklabels(), reversed(rows), strict=True):
        tick.set_color(STYLE.get(row.kind, "#000000"))
    ax.set_xlim(*xlim)
    ax.set_ylim(-0.7, n + 0.1)
    ax.set_xlabel("Effect on pain, magnesium minus control\n(points on 0-10 scale; negative = less pain)", fontsize=8)
    ax.set_title("Published trials (grey = uncontrolled) and pooled N-of-1 trials", fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    return ax
