"""The calendar: run-in, periods with packs, washouts, and which days count for analysis."""

import datetime as dt

from magtrial.core.schedule import DayKind, build_schedule
from tests.helpers import sample_protocol


def test_calendar_lengths_and_period_boundaries():
    p = sample_protocol(run_in_days=7, period_days=14, washout_days=3, cycles=4, carryover_days=3)
    s = build_schedule(p, dt.date(2026, 1, 1))
    assert len(s.periods) == 8
    assert s.total_days == p.total_days == 7 + 8 * 14 + 7 * 3
    assert s.periods[0].start == dt.date(2026, 1, 8)
    assert s.periods[1].start == s.periods[0].end + dt.timedelta(days=4)
    assert [per.cycle for per in s.periods] == [1, 1, 2, 2, 3, 3, 4, 4]


def test_washout_and_carryover_days_do_not_count():
    p = sample_protocol(run_in_days=2, period_days=7, washout_days=2, cycles=1, carryover_days=2)
    s = build_schedule(p, dt.date(2026, 1, 1))
    kinds = [(d.kind, d.counts_for_analysis) for d in s.days()]
    assert kinds[:2] == [(DayKind.RUN_IN, False)] * 2
    assert kinds[2:4] == [(DayKind.PERIOD, False)] * 2  # carry-over window
    assert kinds[4:9] == [(DayKind.PERIOD, True)] * 5
    assert kinds[9:11] == [(DayKind.WASHOUT, False)] * 2
    assert s.day(dt.date(2025, 12, 31)).kind is DayKind.BEFORE
    assert s.day(s.end + dt.timedelta(days=1)).kind is DayKind.AFTER


def test_today_instruction_names_pack_never_arm():
    s = build_schedule(sample_protocol(), dt.date(2026, 1, 1))
    texts = [d.instruction() for d in s.days()]
    assert any("take pack 3" in t for t in texts)
    assert not any(word in t.lower() for t in texts for word in ("magnesium", "placebo", "comparator"))
