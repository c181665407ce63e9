"""Turn a matplotlib figure into an SVG string that reports can inline and tests can read.

Text stays text (``svg.fonttype = none``) so the PDF and HTML carry searchable labels and a test
can check that a blinded chart names no arm; ids are salted with a fixed string and the date is
left out, so the same data give byte-identical SVG.
"""

from __future__ import annotations

import io
import re
import sys
from typing import Any

SVG_RC = {"svg.fonttype": "none", "svg.hashsalt": "magtrial", "font.family": "DejaVu Sans", "font.size": 9}


def style():
    """A context manager with the report's matplotlib settings (text kept as text)."""
    import matplotlib

    return matplotlib.rc_context(SVG_RC)


def new_axes(figsize: tuple[float, float]) -> Any:
    """Axes on a figure of its own, made without pyplot (no backend, no global figure list; issue 13).

    ``figure_svg`` draws it with matplotlib's SVG canvas; nothing has to be closed afterwards.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize)
    FigureCanvasAgg(figure)  # what pyplot's Agg backend attaches: text can be measured before drawing
    return figure.subplots()


MIN_FONT_PT = 7.5  # every label is drawn at least this size; charts are drawn at the size they print


def figure_svg(fig: Any, prefix: str = "") -> str:
    """The figure as an inline ``<svg>`` element (no XML prolog or DOCTYPE), then closed.

    ``prefix`` is put in front of every id (and every reference to one), so several charts inlined
    in one HTML page never share an id (matplotlib names ids ``figure_1``, ``patch_1``... per file).
    """
    buf = io.StringIO()
    with style():
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:  # a figure a caller made with pyplot: release it
        pyplot.close(fig)
    text = buf.getvalue()
    svg = text[text.index("<svg") :]
    return prefix_ids(svg, prefix) if prefix else svg


def prefix_ids(svg: str, prefix: str) -> str:
    """Rename every ``id="x"`` to ``id="prefix-x"`` and every ``#x`` reference (url(#x), href="#x")."""
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if not ids:
        return svg
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    return re.sub(
        r"(url\(#|href=\"#)([^)\"]+)",
        lambda m: m.group(1) + (f"{prefix}-{m.group(2)}" if m.group(2) in ids else m.group(2)),
        svg,
    )
