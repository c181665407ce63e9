"""The report's evidence panel: published trials beside the pooled N-of-1 estimate, with a forest plot.

Both inputs are optional and shown as their own objects describe themselves: the ``EvidenceTable``
(every row sourced, an effect only where one can be extracted) and a ``PoolResult`` (``.text`` and
``.summary``). The panel speaks of the population evidence, never of this trial's packs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _estimate(row: dict[str, Any]) -> str:
    """A pooled summary row as 'mean (lower to upper) unit', shares as percentages."""
    if "display" in row:
        return str(row["display"])
    if {"mean", "lower", "upper"} <= row.keys():
        if row.get("unit") == "share":
            return f"{100 * row['mean']:.0f}% ({100 * row['lower']:.0f}% to {100 * row['upper']:.0f}%)"
        unit = f" {row['unit']}" if row.get("unit") else ""
        return f"{row['mean']:+.2f} ({row['lower']:+.2f} to {row['upper']:+.2f}){unit}"
    return str(row.get("value", ""))


def _study_row(study: Any) -> dict[str, str]:
    e = study.effect
    if e.extractable:
        spread = (
            "SE not extractable"
            if e.se is None and not e.has_interval
            else f"{e.lower:+.1f} to {e.upper:+.1f}"
            if e.has_interval
            else f"SE {e.se:.2f}"
        )
        effect = f"{e.value:+.1f} ({e.status}; {spread})"
    else:
        effect = f"not extractable: {e.note}"
    return {
        "study": study.label,
        "design": study.design,
        "n": "—" if study.n is None else str(study.n),
        "route": f"{study.route}: {study.dose}",
        "reference": str(getattr(study, "reference", "") or study.citation),
        "result": study.headline,
        "effect": effect,
    }


def evidence_section(evidence: Any = None, pooled: Any = None) -> dict[str, Any] | None:
    """Rows and sentences for the panel; ``None`` when there is neither published nor pooled evidence."""
    if evidence is None and pooled is None:
        return None
    studies = [_study_row(s) for s in getattr(evidence, "studies", ())]
    caveat = (
        []
        if all(getattr(s, "controlled", True) for s in getattr(evidence, "studies", ()))
        else [
            "An uncontrolled before/after study cannot separate magnesium from time, co-treatment or placebo response."
        ]
    )
    pooled_rows = [
        (str(r.get("quantity", "")), _estimate(r))
        for r in (getattr(pooled, "summary", None) or [])
        if isinstance(r, dict)
    ]
    pooled_lines = [line for line in str(getattr(pooled, "text", "") or "").splitlines() if line.strip()]
    return {
        "studies": studies,
        "caveat": caveat,
        "pooled_rows": pooled_rows,
        "pooled_lines": pooled_lines,
        "pooled_label": str(getattr(pooled, "label", "") or ""),
    }


def forest_svg(evidence: Any = None, pooled: Any = None, cache: Path | None = None) -> str | None:
    """The forest plot (published effects and the pooled mean) as inline SVG, or None with nothing to draw.

    With ``cache`` (a folder) the drawing is kept there and reused while the rows are unchanged.
    """
    if evidence is None and pooled is None:
        return None
    from magtrial.core.evidence import EvidenceTable, forest_rows
    from magtrial.plots.chart_cache import cached_chart

    rows = forest_rows(evidence if evidence is not None else EvidenceTable(studies=()), pooled)
    return cached_chart(cache, "evidence", "forest", rows, lambda: _forest_svg(rows))


def _forest_svg(rows: list[Any]) -> str:
    from magtrial.plots.forest import plot_forest
    from magtrial.plots.svg import figure_svg, style

    with style():
        return figure_svg(plot_forest(rows).figure, "forest")
