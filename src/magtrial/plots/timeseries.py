"""The daily pain chart: diary values over the trial with each period shaded and labelled.

While blinded every period is drawn alike, labelled only by its pack number, with no per-period
means: nothing groups or compares packs. Arm names, arm colours and period means appear only when
the record is unblinded. The labels come from the record, so a blinded chart has nothing to leak.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from magtrial.core.record import TrialRecord
from magtrial.errors import Forbidden

BLINDED_COLOUR = "#dfe7f2"  # every pack alike while blinded
ARM_COLOURS = {"magnesium": "#cfe8d5", "comparator": "#eadcf2"}
RUN_IN_COLOUR = "#f2f2f2"


def period_shading(record: TrialRecord) -> list[dict[str, Any]]:
    """One band per period: dates, the label above it and its colour (the same colour for every pack
    while blinded)."""
    from magtrial.core.labels import arm_label, arm_of

    bands = []
    for p in record.schedule.periods:
        arm = arm_of(record, p.number)
        if arm is None:
            label, colour = f"pack {p.pack}", BLINDED_COLOUR
        else:
            label, colour = f"pack {p.pack}\n{arm_label(record, arm)}", ARM_COLOURS[arm.value]
        bands.append(
            {
                "start": p.start,
                "end": p.end,
                "analysis_start": p.analysis_start,
                "label": label,
                "colour": colour,
                "number": p.number,
            }
        )
    return bands


def plot_pain_timeseries(
    record: TrialRecord, *, period_means: dict[int, float | None] | None = None, ax: Any = None
) -> Any:
    """Average and worst pain per day, periods shaded, carry-over days hatched, period means drawn.

    Returns the matplotlib Axes. ``period_means`` (period -> mean average pain on analysis days) draws a
    horizontal segment over each period's analysis days; only for an unblinded record (``Forbidden``
    otherwise: per-pack means compare packs).
    """
    return draw_timeseries(timeseries_data(record, period_means), ax=ax)


def timeseries_data(record: TrialRecord, period_means: dict[int, float | None] | None = None) -> dict[str, Any]:
    """Everything the chart draws, as plain values: the chart cache's key is taken over exactly this."""
    if record.blinded and period_means:
        raise Forbidden(f"trial {record.trial_id} is blinded: per-pack means are shown only after unblinding")
    schedule = record.schedule
    current = record.current()
    days = [schedule.start + dt.timedelta(days=i) for i in range(schedule.total_days)]
    return {
        "blinded": record.blinded,
        "start": schedule.start,
        "end": schedule.end,
        "total_days": schedule.total_days,
        "first_period_start": schedule.periods[0].start if schedule.run_in_days else None,
        "avg": [current[d].values.average_pain if d in current else float("nan") for d in days],  # type: ignore[union-attr]
        "worst": [current[d].values.worst_pain if d in current else float("nan") for d in days],  # type: ignore[union-attr]
        "bands": period_shading(record),
        "means": {n: m for n, m in (period_means or {}).items() if m is not None},
    }


def draw_timeseries(data: dict[str, Any], ax: Any = None) -> Any:
    """Draw ``timeseries_data``'s output; returns the Axes."""
    import matplotlib.dates as mdates

    from magtrial.plots.svg import new_axes

    if ax is None:
        ax = new_axes((6.6, 2.9))  # printed at this size (A4 text width)
    start, end = data["start"], data["end"]
    days = [start + dt.timedelta(days=i) for i in range(data["total_days"])]
    avg, worst = data["avg"], data["worst"]
    one = dt.timedelta(days=1)
    labels = []
    if data["first_period_start"] is not None:
        ax.axvspan(start, data["first_period_start"], color=RUN_IN_COLOUR, lw=0)
        labels.append(
            ax.text(
                start + (data["first_period_start"] - start) / 2, 10.6, "run-in", ha="center", va="bottom", fontsize=7.5
            )
        )
    means: tuple[list[float], list[dt.date], list[dt.date]] = ([], [], [])
    for band in data["bands"]:
        ax.axvspan(band["start"], band["end"] + one, color=band["colour"], lw=0)
        if band["analysis_start"] > band["start"]:
            ax.axvspan(band["start"], band["analysis_start"], facecolor="none", edgecolor="#b5b5b5", hatch="///", lw=0)
        mid = band["start"] + (band["end"] + one - band["start"]) / 2
        labels.append(ax.text(mid, 10.6, band["label"], ha="center", va="bottom", fontsize=7.5, linespacing=1.1))
        mean = data["means"].get(band["number"])
        if mean is not None:
            means[0].append(mean)
            means[1].append(band["analysis_start"])
            means[2].append(band["end"] + one)
    if means[0]:
        ax.hlines(*means, colors="#1b3a5c", lw=2)  # one call: each hlines call converts dates afresh
    for values, colour, lw, label in ((worst, "#c0504d", 0.8, "worst pain"), (avg, "#1f4e79", 1.3, "average pain")):
        # markers only on days with no neighbour, so a lone entry between missing days still shows; a
        # marker per day makes WeasyPrint draw hundreds of SVG <use> nodes and triples the PDF time
        ax.plot(days, values, color=colour, lw=lw, label=label, marker="o", ms=2.5, markevery=_isolated(values))
    ax.set_ylim(0, 10.4)
    ax.set_yticks(range(0, 11, 2))
    ax.set_ylabel("pain (0-10)")
    ax.set_xlim(start, end + one)
    ax.xaxis.set_major_locator(mdates.WeekdayLocator(byweekday=mdates.MO, interval=2))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    _stagger(ax, labels)
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
        fontsize=7.5,
        frameon=False,
        ncols=4,
        handles=[*ax.get_lines(), _hatch_handle(), *([] if data["blinded"] else [_mean_handle()])],
    )
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def _stagger(ax: Any, labels: list[Any], gap_px: float = 4.0) -> None:
    """Lift every other period label by its own height when neighbours would touch (short periods)."""
    if len(labels) < 2:
        return
    renderer = ax.figure.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in labels]
    if all(a.x1 + gap_px <= b.x0 for a, b in zip(boxes, boxes[1:], strict=False)):
        return
    from matplotlib.transforms import offset_copy

    for i, text in enumerate(labels):
        if i % 2:
            lift = boxes[i].height * 72.0 / ax.figure.dpi + 1.0
            text.set_transform(offset_copy(text.get_transform(), fig=ax.figure, y=lift, units="points"))


def _isolated(values: list[float]) -> list[int]:
    """Indexes of values whose neighbours on both sides are missing (NaN) or off the ends."""

    def missing(i: int) -> bool:
        return i < 0 or i >= len(values) or values[i] != values[i]

    return [i for i, v in enumerate(values) if v == v and missing(i - 1) and missing(i + 1)]


def _hatch_handle() -> Any:
    from matplotlib.patches import Patch

    return Patch(facecolor="none", edgecolor="#b5b5b5", hatch="///", label="carry-over days (not analysed)")


def _mean_handle() -> Any:
    from matplotlib.lines import Line2D

    return Line2D([], [], color="#1b3a5c", lw=2, label="period mean (analysed days)")
