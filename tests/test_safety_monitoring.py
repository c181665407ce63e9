"""Diary feedback during a trial: repeated diarrhoea suggests a lower dose; toxicity signs stop."""

from __future__ import annotations

import datetime as dt

import pytest

from magtrial.core.diary import DiaryValues, DiaryVersion, VersionKind, current_entries
from magtrial.core.protocol import Condition, Product, Protocol
from magtrial.core.safety import Level, review_diary
from magtrial.core.schedule import build_schedule
from magtrial.data.safety import load_safety_rules

RULES = load_safety_rules()
START = dt.date(2026, 1, 5)
PROTOCOL = Protocol(
    condition=Condition.OTHER,
    product=Product("Mg", "citrate", elemental_mg_per_unit=100),
    run_in_days=7,
    period_days=7,
    cycles=1,
    carryover_days=2,
    start_date=START,
)
SCHEDULE = build_schedule(PROTOCOL)
RUN_IN = [START + dt.timedelta(days=i) for i in range(7)]
PERIOD_1 = [START + dt.timedelta(days=7 + i) for i in range(7)]
PERIOD_2 = [START + dt.timedelta(days=14 + i) for i in range(7)]


def entry(day, side_effects=(), other="", version=1, kind=VersionKind.ORIGINAL):
    values = (
        None
        if kind is VersionKind.VOID
        else DiaryValues(3, 4, 2, side_effects=frozenset(side_effects), side_effect_other=other)
    )
    return DiaryVersion(day, version, kind, values, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "participant")


def review(*versions):
    return review_diary(SCHEDULE, current_entries(versions), rules=RULES)


def test_diarrhoea_on_two_days_of_a_period_suggests_a_lower_dose():
    findings = review(entry(PERIOD_1[0], ["diarrhoea"]), entry(PERIOD_1[3], ["diarrhoea"]), entry(PERIOD_1[4]))
    assert [(f.rule_id, f.level, f.period) for f in findings] == [("diary-diarrhoea", Level.CAUTION, 1)]
    assert "lower dose" in findings[0].message and not findings[0].urgent


@pytest.mark.parametrize(
    "days",
    [
        [PERIOD_1[0]],  # one day only
        [PERIOD_1[6], PERIOD_2[0]],  # one day in each of two periods
        [RUN_IN[0], RUN_IN[1], RUN_IN[2]],  # run-in: no product taken
    ],
)
def test_diarrhoea_below_the_threshold_within_a_period_is_not_flagged(days):
    assert review(*(entry(d, ["diarrhoea"]) for d in days)) == []


STOP_CASES = [
    (["muscle-weakness"], "", "muscle weakness"),
    (["drowsiness"], "", "drowsiness"),
    (["flushing"], "", "flushing"),
    ([], "I felt confused in the afternoon", "confusion"),
    ([], "noticed a slow heartbeat", "slow or irregular heartbeat"),
    ([], "trouble breathing at night", "breathing difficulty"),
    ([], "Vomiting twice", "vomiting"),
    ([], "fainted at work", "low blood pressure or fainting"),
    ([], "doctor found no reflexes in my knees", "loss of tendon reflexes"),
    ([], "partner found me unresponsive", "unresponsiveness"),
]


@pytest.mark.parametrize(("side_effects", "other", "symptom"), STOP_CASES)
def test_stop_and_seek_care_symptom_raises_an_urgent_clinician_flag(side_effects, other, symptom):
    findings = review(entry(RUN_IN[2]), entry(PERIOD_1[2], side_effects, other))
    assert len(findings) == 1
    finding = findings[0]
    assert finding.rule_id == "diary-stop-symptom" and finding.level is Level.STOP
    assert finding.urgent and finding.flag_clinician
    assert symptom in finding.message and "STOP" in finding.message
    assert (finding.day, finding.period) == (PERIOD_1[2], 1)


def test_every_stop_symptom_row_has_a_case():
    assert {s.name for s in RULES.symptoms} == {case[2] for case in STOP_CASES}


@pytest.mark.parametrize(
    ("side_effects", "other"),
    [(["nausea"], ""), (["abdominal-cramps"], ""), ([], "mild headache"), ([], "breathalyser joke")],
)
def test_ordinary_side_effects_are_not_urgent(side_effects, other):
    assert review(entry(PERIOD_1[1], side_effects, other)) == []


def test_urgent_findings_come_first_and_voided_entries_are_ignored():
    findings = review(
        entry(PERIOD_1[0], ["diarrhoea"]),
        entry(PERIOD_1[1], ["diarrhoea"]),
        entry(PERIOD_1[5], ["muscle-weakness"]),
        entry(PERIOD_1[5], version=2, kind=VersionKind.VOID),  # entered in error
        entry(PERIOD_2[1], ["drowsiness"], "and confused"),
    )
    assert [f.rule_id for f in findings] == ["diary-stop-symptom", "diary-diarrhoea"]
    assert findings[0].day == PERIOD_2[1]
    assert "drowsiness" in findings[0].message and "confusion" in findings[0].message


def test_diary_messages_never_name_an_arm():
    findings = review(entry(PERIOD_1[0], ["diarrhoea"]), entry(PERIOD_1[1], ["diarrhoea", "flushing"]))
    assert findings
    for f in findings:
        assert "placebo" not in f.message.lower() and "arm" not in f.message.lower().split()
