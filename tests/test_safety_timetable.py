"""Dose timetables: directional and symmetric spacing, waking hours, and reasons when none exist."""

from __future__ import annotations

import datetime as dt

import pytest

from magtrial.core.safety import Spacing, propose_timetable, violations
from magtrial.errors import SafetyInputError


def t(text):
    return dt.time.fromisoformat(text)


GABAPENTIN = [
    Spacing("gabapentin", t("08:00"), 0, 120, "drug-gabapentin"),
    Spacing("gabapentin", t("20:00"), 0, 120, "drug-gabapentin"),
]


@pytest.mark.parametrize(
    ("mg", "allowed"),
    [
        ("06:00", True),  # exactly 2 h before gabapentin
        ("06:15", False),  # gabapentin only 1 h 45 min later
        ("08:00", False),  # together
        ("08:15", True),  # gabapentin's label restricts only gabapentin after magnesium
        ("18:00", True),
        ("19:00", False),
        ("21:00", True),
    ],
)
def test_gabapentin_spacing_is_directional(mg, allowed):
    assert (violations([t(mg)], GABAPENTIN) == []) is allowed


@pytest.mark.parametrize(
    ("mg", "allowed"), [("03:00", True), ("03:15", False), ("07:00", False), ("10:45", False), ("11:00", True)]
)
def test_symmetric_spacing_holds_both_ways_across_midnight(mg, allowed):
    levothyroxine = [Spacing("levothyroxine", t("07:00"), 240, 240, "drug-levothyroxine")]
    assert (violations([t(mg)], levothyroxine) == []) is allowed


def test_twice_daily_magnesium_around_gabapentin_is_spread_widely():
    timetable = propose_timetable(2, GABAPENTIN)
    assert timetable.feasible
    assert [d.time for d in timetable.doses] == [t("08:15"), t("22:00")]  # the widest gap the rules allow
    assert violations([d.time for d in timetable.doses], GABAPENTIN) == []


def test_reminders_are_plain_times_and_labels():
    timetable = propose_timetable(2, [], label="Mag citrate")
    assert timetable.reminders() == [(t("07:00"), "Mag citrate: dose 1 of 2"), (t("22:00"), "Mag citrate: dose 2 of 2")]


def test_waking_hours_are_configurable():
    timetable = propose_timetable(1, [], wake=t("09:30"), sleep=t("21:00"))
    assert timetable.doses[0].time == t("09:30")


def test_constraints_are_stated_in_words():
    timetable = propose_timetable(1, GABAPENTIN + [Spacing("doxycycline", t("12:00"), 180, 360, "drug-tetracyclines")])
    assert "gabapentin 08:00: no magnesium in the 2 h before it" in timetable.constraints
    assert (
        "doxycycline 12:00: no magnesium in the 6 h before it; no magnesium in the 3 h after it"
        in timetable.constraints
    )


def test_no_free_time_says_which_rules_close_the_day():
    spacings = [Spacing("iron", t(x), 240, 240, "drug-iron") for x in ("07:00", "11:00", "15:00", "19:00")]
    timetable = propose_timetable(1, spacings)
    assert not timetable.feasible and timetable.doses == ()
    assert "iron 11:00: no magnesium within 4 h of it" in timetable.reason


def test_too_few_free_times_names_the_free_window():
    spacings = [Spacing("iron", t("09:00"), 240, 240, "drug-iron"), Spacing("iron", t("17:00"), 240, 240, "drug-iron")]
    timetable = propose_timetable(2, spacings, sleep=t("20:00"))
    assert not timetable.feasible
    assert "2 doses are needed but only 13:00 is free" in timetable.reason
    wider = propose_timetable(2, spacings, sleep=t("22:00"))
    assert [d.time for d in wider.doses] == [t("13:00"), t("22:00")]


@pytest.mark.parametrize(
    ("doses", "wake", "sleep", "message"),
    [
        (0, "07:00", "22:00", "doses per day must be 1-6"),
        (7, "07:00", "22:00", "doses per day must be 1-6"),
        (1, "22:00", "07:00", "waking hours must start before they end"),
    ],
)
def test_bad_timetable_input_is_refused(doses, wake, sleep, message):
    with pytest.raises(SafetyInputError, match=message):
        propose_timetable(doses, [], wake=t(wake), sleep=t(sleep))
