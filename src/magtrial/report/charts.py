"""The report's SVG charts: the CENT timeline, daily pain and, unblinded, the posterior of the effect.

Matplotlib charts go through ``plots.chart_cache``: given a folder, each is kept there and drawn
again only when the data it is drawn from change (issue 13), so a repeated report imports no
matplotlib. The daily-pain chart of a blinded record is drawn from blinded data only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from magtrial.core.record import TrialRecord
from magtrial.report import tables
from magtrial.report.timeline import timeline_markers, timeline_svg


def draw_charts(record: TrialRecord, analysis: Any, cache: Path | None = None) -> dict[str, str]:
    """The report's SVG charts; with ``cache`` (a folder) each is kept there and redrawn only when its data change."""
    from magtrial.plots.chart_cache import cached_chart
    from magtrial.plots.posterior import mixture_density
    from magtrial.plots.timeseries import timeseries_data

    charts = {"timeline": timeline_svg(record, timeline_markers(record))}  # CENT timeline (report/timeline.py)
    series = timeseries_data(record, period_means=tables.period_means(record))
    charts["timeseries"] = cached_chart(cache, record.trial_id, "timeseries", series, lambda: _timeseries_svg(series))
    post = getattr(analysis, "posterior", None)
    if post is not None:
        grid, density = mixture_density(post.weights, post.means, post.sds)
        xlabel = (
            f"difference in {analysis.outcome.label}, {analysis.labels.first} minus {analysis.labels.second} (points)"
        )
        args = {
            "grid": grid,
            "density": density,
            "mcid": analysis.mcid,
            "interval": (analysis.effect.lower, analysis.effect.upper),
            "xlabel": xlabel,
        }
        charts["posterior"] = cached_chart(cache, record.trial_id, "posterior", args, lambda: _posterior_svg(args))
    return charts


def _timeseries_svg(series: dict[str, Any]) -> str:
    from magtrial.plots.svg import figure_svg, style
    from magtrial.plots.timeseries import draw_timeseries

    with style():
        return figure_svg(draw_timeseries(series).figure, "ts")


def _posterior_svg(args: dict[str, Any]) -> str:
    from magtrial.plots.posterior import plot_posterior
    from magtrial.plots.svg import figure_svg, style

    with style():
        return figure_svg(plot_posterior(**args).figure, "post")
