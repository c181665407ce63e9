"""Clinician report (issue 12): every CENT 2015 item answered, missing days counted to today, wording."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np

from magtrial.core.analysis import analyze
from magtrial.core.analysis.text import signed
from magtrial.core.protocol import Condition
from magtrial.core.schedule import DayKind
from magtrial.report.build import CENT_ITEMS, NOT_APPLICABLE, build_context, points
from magtrial.report.render import render_html
from tests.record_factory import make_record

WHEN = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)

# CENT 2015 (Vohra et al., BMJ 2015;350:h1738), the 25 items with their parts.
CENT_2015 = [
    "1a",
    "1b",
    "2a",
    "2b",
    "3a",
    "3b",
    "4a",
    "4b",
    "5",
    "6a",
    "6b",
    "7a",
    "7b",
    "8a",
    "8b",
    "9",
    "10",
    "11a",
    "11b",
    "12a",
    "12b",
    "13a",
    "13b",
    "14a",
    "14b",
    "15",
    "16",
    "17a",
    "17b",
    "18",
    "19",
    "20",
    "21",
    "22",
    "23",
    "24",
    "25",
]


def test_every_cent_2015_item_is_answered_or_explicitly_not_applicable_with_why():
    assert list(CENT_ITEMS) == CENT_2015
    for blinded, analysis in ((True, False), (False, False), (False, True)):
        record = make_record(blinded=blinded, seed=3)
        ctx = build_context(record, analysis=analyze(record) if analysis else None, generated_at=WHEN, charts=False)
        items = [row["item"] for row in ctx["cent"]]
        assert items == CENT_2015, set(CENT_2015) ^ set(items)
        for row in ctx["cent"]:
            text = row["text"].strip()
            assert row["topic"] and text, row
            if text.startswith(NOT_APPLICABLE):
                assert len(text) > len(NOT_APPLICABLE) + 15, f"{row['item']}: not applicable needs a reason"
        html = render_html(record, generated_at=WHEN)
        for item in CENT_2015:
            assert f"<td>{item}</td>" in html


def test_statistical_methods_are_the_planned_ones_before_the_analysis_is_run():
    for blinded in (True, False):
        ctx = build_context(make_record(blinded=blinded, seed=3), generated_at=WHEN, charts=False)
        methods = next(r["text"] for r in ctx["cent"] if r["item"] == "12a")
        assert "Bayesian AR(1)" in methods and "randomization test over the 16 orders" in methods
        assert "not run yet" not in methods.lower()


def test_results_item_points_above_where_the_results_are():
    record = make_record(blinded=False, seed=3)
    ctx = build_context(record, analysis=analyze(record), generated_at=WHEN, charts=False)
    results = next(r["text"] for r in ctx["cent"] if r["item"] == "17a")
    assert "above" in results and "below" not in results


def test_missing_days_are_counted_to_today_not_to_the_last_entry():
    record = make_record(blinded=True, seed=4)
    start = record.schedule.start
    stop = start + dt.timedelta(days=12)
    record = dataclasses.replace(record, versions=tuple(v for v in record.versions if v.day <= stop))
    today = start + dt.timedelta(days=30)
    ctx = build_context(record, generated_at=dt.datetime.combine(today, dt.time(12), dt.UTC), charts=False)
    due = sum(1 for d in record.schedule.days() if d.kind in (DayKind.RUN_IN, DayKind.PERIOD) and d.date <= today)
    assert ctx["quality"]["due"] == due and due > 25
    assert ctx["quality"]["missing"] == due - ctx["quality"]["filled"]
    # after the trial's end every scheduled day is due
    late = dt.datetime.combine(record.schedule.end + dt.timedelta(days=40), dt.time(12), dt.UTC)
    total = sum(1 for d in record.schedule.days() if d.kind in (DayKind.RUN_IN, DayKind.PERIOD))
    assert build_context(record, generated_at=late, charts=False)["quality"]["due"] == total


def test_a_difference_that_rounds_to_zero_has_no_sign():
    assert signed(-0.004) == "0.00" and signed(0.004) == "0.00" and signed(-0.04, 1) == "0.0"
    assert signed(-0.3) == "-0.30" and points(0.456) == "+0.46"


def test_condition_is_named_in_words_and_a_default_time_zone_is_said_to_be_one():
    record = make_record(blinded=True, seed=3, timezone="UTC")
    record = dataclasses.replace(record, protocol=dataclasses.replace(record.protocol, condition=Condition.CRPS1))
    html = render_html(record, generated_at=WHEN)
    assert "complex regional pain syndrome type 1" in html and "crps 1" not in html
    assert "time zone UTC (the default" in html


def test_order_drawn_after_a_past_start_date_is_not_said_to_precede_the_diary():
    record = make_record(blinded=True, seed=3)
    late = dt.datetime.combine(record.schedule.start + dt.timedelta(days=9), dt.time(10), dt.UTC)
    method = build_context(dataclasses.replace(record, created_at=late), generated_at=WHEN, charts=False)[
        "randomization"
    ]["method"]
    assert "before the first diary day" not in method and "9 day(s) after the start date" in method
    ok = build_context(record, generated_at=WHEN, charts=False)["randomization"]["method"]
    assert "before the first diary day" in ok


def test_evidence_shown_to_clinicians_has_no_internal_notes_or_machine_paths():
    from pathlib import Path

    import magtrial.data

    text = (Path(magtrial.data.__file__).parent / "evidence.toml").read_text()
    for note in ("/home/", "/Users/", "/work/", "[read", "issue 4", "D4:"):
        assert note not in text, note
    assert np.all([True])
