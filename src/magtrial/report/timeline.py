"""The CENT 2015 individual-trial timeline as a small hand-made SVG: run-in, periods, washouts, packs.

Drawn from the schedule, which knows packs and dates but never arms, so a blinded timeline is the
same whichever order was drawn: every period has the same colour and says only its pack number.
Arms are written (and coloured) only when the record is unblinded. Optional markers, such as
co-interventions or clinic visits, are ``(date, label)`` pairs; starts of protocol versions from
amendments are marked too. Every id in the SVG starts with ``id_prefix``, so two timelines (or a
timeline and a matplotlib chart) on one page never share an id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from magtrial.core.allocation import Arm
from magtrial.core.labels import arm_label, arm_of
from magtrial.core.record import TrialRecord
from magtrial.core.versions import versions

WIDTH, LEFT, RIGHT = 760, 10, 10
BAND_Y, BAND_H = 34, 34
COLOURS = {"run-in": "#d9d9d9", "period": "#9ecae1", Arm.MAGNESIUM: "#3182bd", Arm.COMPARATOR: "#fdae6b"}


def timeline_svg(
    record: TrialRecord, markers: Sequence[tuple[dt.date, str]] = (), *, id_prefix: str = "timeline"
) -> str:
    """The trial's calendar as an SVG string (inline in the report; no external references)."""
    schedule = record.schedule
    days = schedule.total_days
    scale = (WIDTH - LEFT - RIGHT) / days

    def x(date: dt.date) -> float:
        return LEFT + (date - schedule.start).days * scale

    markers = [(d, label) for d, label in markers if schedule.start <= d <= schedule.end]
    height = BAND_Y + BAND_H + 40 + 16 * len(markers)
    title = f"Timeline of trial {record.trial_id}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{id_prefix}" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-labelledby="{id_prefix}-title" font-family="sans-serif" font-size="11">',
        f'<title id="{id_prefix}-title">{escape(title)}</title>',
        f'<defs><pattern id="{id_prefix}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#bbbbbb" stroke-width="2"/>'
        "</pattern></defs>",
    ]
    if schedule.run_in_days:
        end = schedule.start + dt.timedelta(days=schedule.run_in_days)
        out.append(_rect(x(schedule.start), x(end), COLOURS["run-in"], "run-in"))
        out.append(_text((x(schedule.start) + x(end)) / 2, BAND_Y + 21, "run-in"))
    for i, p in enumerate(schedule.periods):
        arm = arm_of(record, p.number)
        fill = COLOURS["period"] if arm is None else COLOURS[arm]
        x0, x1 = x(p.start), x(p.end + dt.timedelta(days=1))
        label = f"period {p.number}, pack {p.pack}" + ("" if arm is None else f" ({arm_label(record, arm)})")
        out.append(_rect(x0, x1, fill, label))
        out.append(_text((x0 + x1) / 2, BAND_Y + 15, f"P{p.number}"))
        out.append(_text((x0 + x1) / 2, BAND_Y + 28, f"pack {p.pack}"))
        if arm is not None:
            out.append(_text((x0 + x1) / 2, BAND_Y + BAND_H + 14, "A" if arm is Arm.MAGNESIUM else "B"))
        if i + 1 < len(schedule.periods):
            gap_end = schedule.periods[i + 1].start
            if gap_end > p.end + dt.timedelta(days=1):
                out.append(_rect(x1, x(gap_end), f"url(#{id_prefix}-hatch)", "washout"))
    for v in versions(record.protocol)[1:]:
        if v.first_period <= v.last_period:
            vx = x(schedule.period(v.first_period).start)
            out.append(f'<line x1="{vx:.1f}" y1="{BAND_Y - 8}" x2="{vx:.1f}" y2="{BAND_Y + BAND_H}" stroke="#555"/>')
            out.append(_text(vx, BAND_Y - 11, f"protocol v{v.number}"))
    out.append(_text(LEFT, 14, f"{schedule.start:%d %b %Y}", anchor="start"))
    out.append(_text(WIDTH - RIGHT, 14, f"{schedule.end:%d %b %Y}", anchor="end"))
    for n, (date, label) in enumerate(sorted(markers)):
        mx, my = x(date) + scale / 2, BAND_Y + BAND_H + 30 + 16 * n
        out.append(f'<line x1="{mx:.1f}" y1="{BAND_Y}" x2="{mx:.1f}" y2="{my - 4}" stroke="#a50f15"/>')
        out.append(_text(mx, my + 6, f"{date:%d %b}: {label}", anchor="start" if mx < WIDTH / 2 else "end"))
    legend = "Blinded: packs only." if record.blinded else "A = magnesium, B = " + _comparator(record) + "."
    out.append(_text(LEFT, height - 4, f"Hatched: washout. {legend}", anchor="start"))
    out.append("</svg>")
    return "\n".join(out)


def _comparator(record: TrialRecord) -> str:
    return arm_label(record, Arm.COMPARATOR)


def _rect(x0: float, x1: float, fill: str, title: str) -> str:
    return (
        f'<rect x="{x0:.1f}" y="{BAND_Y}" width="{max(x1 - x0, 0.5):.1f}" height="{BAND_H}" fill="{fill}" '
        f'stroke="#ffffff"><title>{escape(title)}</title></rect>'
    )


def _text(x: float, y: float, text: str, anchor: str = "middle") -> str:
    return f'<text x="{x:.1f}" y="{y}" text-anchor="{anchor}">{escape(text)}</text>'


def timeline_markers(record: TrialRecord) -> list[tuple[dt.date, str]]:
    """Markers a record carries in ``extra["timeline_markers"]`` as (date, label) pairs (co-interventions)."""
    raw = record.extra.get("timeline_markers") or []
    out = []
    for item in raw if isinstance(raw, list | tuple) else []:
        date, label = item
        out.append((date if isinstance(date, dt.date) else dt.date.fromisoformat(str(date)), str(label)))
    return out
