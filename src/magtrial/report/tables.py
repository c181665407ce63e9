"""Descriptive numbers of one trial record: per-period rows, per-arm outcomes, harms, data quality.

These are counts and means straight from the diary, worked out in Python so the template only lays
them out. Packs are grouped by arm once unblinded and never before: a blinded record gets pack
numbers, dates, completeness, adherence and side effects per pack, and no outcome means per pack
or per group, so nothing compares packs before unblinding.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from statistics import mean

from magtrial.core.diary import SIDE_EFFECTS, DiaryValues, DoseTaken, VersionKind
from magtrial.core.labels import arm_label, arm_of
from magtrial.core.record import TrialRecord
from magtrial.core.schedule import DayKind

OUTCOMES = (
    ("average_pain", "Average pain (0-10)"),
    ("worst_pain", "Worst pain (0-10)"),
    ("sleep_interference", "Sleep interference (0-10)"),
)


def group_of(record: TrialRecord, period: int) -> str | None:
    """'magnesium'/'matched placebo' after unblinding; ``None`` while blinded (packs are not grouped)."""
    arm = arm_of(record, period)
    return None if arm is None else arm_label(record, arm)


def fmt(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def pct(part: int, whole: int) -> str:
    return "—" if not whole else f"{100 * part / whole:.0f}%"


@dataclass
class _Acc:
    """Running tallies for a period or a group."""

    days: int = 0
    entries: list[DiaryValues] = field(default_factory=list)
    analysed: list[DiaryValues] = field(default_factory=list)

    def mean_of(self, item: str, analysed: bool = True) -> float | None:
        rows = self.analysed if analysed else self.entries
        return mean(getattr(v, item) for v in rows) if rows else None

    def doses(self) -> Counter[DoseTaken]:
        return Counter(v.dose_taken for v in self.entries)


def _tally(record: TrialRecord) -> tuple[dict[int, _Acc], dict[str, _Acc], _Acc]:
    current = record.current()
    periods: dict[int, _Acc] = {p.number: _Acc() for p in record.schedule.periods}
    groups: dict[str, _Acc] = {}
    run_in = _Acc()
    for plan in record.schedule.days():
        entry = current.get(plan.date)
        values = entry.values if entry else None
        if plan.kind is DayKind.RUN_IN:
            acc_list = [run_in]
        elif plan.kind is DayKind.PERIOD and plan.period:
            acc_list = [periods[plan.period]]
            group = group_of(record, plan.period)
            if group is not None:
                acc_list.append(groups.setdefault(group, _Acc()))
        else:
            continue
        for acc in acc_list:
            acc.days += 1
            if values is not None:
                acc.entries.append(values)
                if plan.counts_for_analysis or plan.kind is DayKind.RUN_IN:
                    acc.analysed.append(values)
    ordered = dict(sorted(groups.items(), key=lambda kv: _group_order(kv[0])))
    return periods, ordered, run_in


def _group_order(name: str) -> tuple[int, str]:
    return (0 if name == "magnesium" else 1, name)


def period_rows(record: TrialRecord) -> list[dict[str, str]]:
    """One row per period: dates, diary completion, adherence, side-effect days and, once unblinded,
    the arm and the mean of each outcome (while blinded a row carries no outcome and no group)."""
    periods, _, _ = _tally(record)
    rows = []
    for p in record.schedule.periods:
        acc = periods[p.number]
        doses = acc.doses()
        row = {
            "period": str(p.number),
            "pack": str(p.pack),
            "dates": f"{p.start:%d %b}–{p.end:%d %b}",
            "diary": f"{len(acc.entries)}/{acc.days}",
            "analysed": str(len(acc.analysed)),
            "adherence": pct(doses[DoseTaken.FULL], len(acc.entries)),
            "partial_missed": f"{doses[DoseTaken.PARTIAL]}/{doses[DoseTaken.NONE]}",
            "side_effect_days": str(sum(1 for v in acc.entries if v.side_effects or v.side_effect_other)),
        }
        group = group_of(record, p.number)
        if group is not None:
            row |= {"group": group, **{item: fmt(acc.mean_of(item)) for item, _ in OUTCOMES}}
        rows.append(row)
    return rows


def period_means(record: TrialRecord, item: str = "average_pain") -> dict[int, float | None]:
    """Mean of ``item`` per period on analysed days; empty while blinded (no comparison between packs)."""
    if record.blinded:
        return {}
    periods, _, _ = _tally(record)
    return {n: acc.mean_of(item) for n, acc in periods.items()}


def group_rows(record: TrialRecord) -> tuple[list[str], list[dict[str, str]]]:
    """Secondary outcomes by arm (and run-in): means on analysed days, rescue medication days.

    Nothing while blinded: outcomes are compared between arms only after unblinding.
    """
    if record.blinded:
        return [], []
    _, groups, run_in = _tally(record)
    columns = ["run-in", *groups]
    accs = [run_in, *groups.values()]
    rows = [
        {"label": label, **{c: fmt(a.mean_of(item)) for c, a in zip(columns, accs, strict=True)}}
        for item, label in OUTCOMES
    ]
    rows.append(
        {
            "label": "Days with rescue medication",
            **{
                c: f"{sum(1 for v in a.entries if v.rescue_medication)}/{len(a.entries)}"
                for c, a in zip(columns, accs, strict=True)
            },
        }
    )
    rows.append(
        {"label": "Analysed diary days", **{c: str(len(a.analysed)) for c, a in zip(columns, accs, strict=True)}}
    )
    return columns, rows


def side_effect_rows(record: TrialRecord) -> tuple[list[str], list[dict[str, str]], list[str]]:
    """Days each side effect was reported (with the diary days), and 'other' texts.

    Columns are run-in and each arm once unblinded; while blinded, run-in and each pack by its number,
    with no grouping of packs: the counts are what the participant entered, pack by pack.
    """
    periods, groups, run_in = _tally(record)
    if record.blinded:
        columns = ["run-in", *(f"pack {p.pack}" for p in record.schedule.periods)]
        accs = [run_in, *(periods[p.number] for p in record.schedule.periods)]
    else:
        columns = ["run-in", *groups]
        accs = [run_in, *groups.values()]
    rows = []
    for effect in SIDE_EFFECTS:
        counts = [sum(1 for v in a.entries if effect in v.side_effects) for a in accs]
        if any(counts):
            rows.append(
                {
                    "label": effect.replace("-", " "),
                    **{c: f"{n}/{len(a.entries)}" for c, n, a in zip(columns, counts, accs, strict=True)},
                }
            )
    others = sorted(
        {v.values.side_effect_other for v in record.current().values() if v.values and v.values.side_effect_other}
    )
    return columns, rows, others


def data_quality(record: TrialRecord, today: dt.date | None = None) -> dict[str, object]:
    """Completeness, late entries, corrections and voids: the CENT missing-data and deviation items.

    Days are due up to ``today`` (the report's date in the trial's time zone) or the trial's last
    day, whichever is earlier; without ``today``, every day of the schedule is due. A person who
    stopped writing is missing every day since, not only the days before their last entry.
    """
    schedule = record.schedule
    current = record.current()
    in_trial = [d for d in schedule.days() if d.kind in (DayKind.RUN_IN, DayKind.PERIOD)]
    last = max((v.day for v in record.versions), default=schedule.start)
    until = schedule.end if today is None else min(today, schedule.end)
    due = [d for d in in_trial if d.date <= until]
    filled = sum(1 for d in due if d.date in current)
    versions = record.versions
    corrections = [v for v in versions if v.kind is VersionKind.CORRECTION]
    voids = [v for v in versions if v.kind is VersionKind.VOID]
    period_entries = [current[d.date].values for d in due if d.kind is DayKind.PERIOD and d.date in current]
    doses = Counter(v.dose_taken for v in period_entries if v is not None)
    return {
        "due": len(due),
        "filled": filled,
        "missing": len(due) - filled,
        "completion": pct(filled, len(due)),
        "late": sum(1 for v in versions if v.late),
        "corrections": len(corrections),
        "voids": len(voids),
        "period_entries": len(period_entries),
        "full": doses[DoseTaken.FULL],
        "partial": doses[DoseTaken.PARTIAL],
        "missed": doses[DoseTaken.NONE],
        "adherence": pct(doses[DoseTaken.FULL], len(period_entries)),
        "changes": [
            {
                "day": f"{v.day:%d %b %Y}",
                "kind": v.kind.value,
                "version": str(v.version),
                "reason": v.reason,
                "recorded": f"{v.recorded_at:%d %b %Y %H:%M} UTC",
            }
            for v in sorted(corrections + voids, key=lambda v: (v.day, v.version))
        ],
        "last_entry": last,
    }


def trial_progress(record: TrialRecord, today: dt.date) -> str:
    schedule = record.schedule
    if today < schedule.start:
        return "not started"
    if today > schedule.end:
        return "all periods finished"
    plan = schedule.day(today)
    return f"in progress: day {(today - schedule.start).days + 1} of {schedule.total_days} ({plan.kind.value})"
