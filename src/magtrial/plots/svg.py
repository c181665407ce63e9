"""Turn a matplotlib figure into an SVG string that reports can inline and tests can read.

Text stays text (``svg.fonttype = none``) so the PDF and HTML carry searchable labels and a test
can check that a blinded chart names no arm; ids are salted with a fixed string and the date is
left out, so the same data give byte-identical SVG.
"""

from __future__ import annotations

import io
from typing import Any

SVG_RC = {"svg.fonttype": "none", "svg.hashsalt": "magtrial", "font.family": "DejaVu Sans", "font.size": 9}


def style():
    """A context manager with the report's matplotlib settings (the Agg backend, text kept as text)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt.rc_context(SVG_RC)


def figure_svg(fig: Any) -> str:
    """The figure as an inline ``<svg>`` element (no XML prolog or DOCTYPE), then closed."""
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    with style():
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]
