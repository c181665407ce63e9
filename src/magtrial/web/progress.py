"""What the pages show about a trial's diary: completeness, adherence, and the history chart's geometry.

Everything here reads a ``TrialRecord`` as the service handed it out and never groups or compares
packs: while blinded each period is a band labelled by its pack number only, drawn alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from magtrial.core.diary import DoseTaken
from magtrial.core.record import TrialRecord
from magtrial.core.schedule import DayKind


@dataclass(frozen=True)
class Progress:
    days_so_far: int
    recorded: int
    period_days: int
    full_dose: int
    late: int
    corrections: int

    @property
    def completeness(self) -> str:
        return f"{self.recorded} / {self.days_so_far}" + (
            f" ({100 * self.recorded / self.days_so_far:.0f}%)" if self.days_so_far else ""
        )

    @property
    def adherence(self) -> str:
        if not self.period_days:
            return "—"
        return f"{100 * self.full_dose / self.period_days:.0f}% full-dose days"


def progress(record: TrialRecord, today: dt.date) -> Progress:
    """Days recorded of the diary days so far (run-in and periods up to today), full-dose share of period days."""
    current = record.current()
    due = [d for d in record.schedule.days() if d.kind in (DayKind.RUN_IN, DayKind.PERIOD) and d.date <= today]
    recorded = [d for d in due if d.date in current]
    period = [current[d.date].values for d in recorded if d.kind is DayKind.PERIOD]
    return Progress(
        days_so_far=len(due),
        recorded=len(recorded),
        period_days=len(period),
        full_dose=sum(1 for v in period if v is not None and v.dose_taken is DoseTaken.FULL),
        late=sum(1 for v in record.versions if v.late),
        corrections=sum(1 for v in record.versions if v.kind.value == "correction"),
    )


def local_today(record: TrialRecord, now: dt.datetime) -> dt.date:
    return record.protocol.local_date(now)


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bands: list[dict]
    lines: list[dict]
    points: list[dict]
    ticks: list[dict]
    y_ticks: list[dict]


SERIES = (
    ("average_pain", "average pain", "#1f4e99", ""),
    ("worst_pain", "worst pain", "#a0301e", "6 4"),
    ("sleep_interference", "sleep interference", "#3f6f2a", "2 3"),
)


def history_chart(record: TrialRecord, today: dt.date, width: int = 720, height: int = 260) -> Chart:
    """Scores by date, periods shaded alike and labelled by pack number only (no grouping while blinded)."""
    schedule = record.schedule
    first, last = schedule.start, max(min(today, schedule.end), schedule.start)
    span = max((last - first).days, 1)
    left, right, top, bottom = 34, width - 10, 22, height - 28

    def x(day: dt.date) -> float:
        return round(left + (right - left) * (day - first).days / span, 1)

    def y(score: float) -> float:
        return round(bottom - (bottom - top) * score / 10, 1)

    bands = []
    for p in schedule.periods:
        if p.start > last:
            break
        x0, x1 = x(p.start), x(min(p.end + dt.timedelta(days=1), last))
        bands.append({"x": x0, "w": max(x1 - x0, 2), "label": f"pack {p.pack}", "mid": (x0 + x1) / 2})
    current = {d: v for d, v in record.current().items() if first <= d <= last and v.values is not None}
    lines, points = [], []
    for field, label, colour, dash in SERIES:
        coords = [(x(d), y(getattr(v.values, field))) for d, v in current.items()]
        lines.append(
            {"label": label, "colour": colour, "dash": dash, "points": " ".join(f"{a},{b}" for a, b in coords)}
        )
    for d, v in current.items():
        values = v.values
        assert values is not None
        points.append(
            {
                "day": d.isoformat(),
                "x": x(d),
                "y": y(values.average_pain),
                "wy": y(values.worst_pain),
                "title": f"{d:%a %d %b}: average {values.average_pain}, worst {values.worst_pain}, "
                f"sleep {values.sleep_interference}" + (" (corrected)" if v.version > 1 else ""),
            }
        )
    step = max(7, 7 * round(span / 7 / (width / 110)))  # a label every week or more, never crowded
    ticks = [
        {"x": x(first + dt.timedelta(days=i)), "label": f"{first + dt.timedelta(days=i):%d %b}"}
        for i in range(0, span + 1, step)
    ]
    y_ticks = [{"y": y(s), "label": str(s)} for s in (0, 5, 10)]
    return Chart(width, height, bands, lines, points, ticks, y_ticks)
