"""Diary versions through the service, on SQLite and PostgreSQL: nothing is ever overwritten."""

import datetime as dt

import pytest
from sqlalchemy import text

from magtrial.core.diary import DiaryValues, DoseTaken, VersionKind, is_late
from magtrial.errors import Conflict, DiaryError, Forbidden, NotFound
from magtrial.service import audit, diary, trials, unblinding
from magtrial.store.db import Database

TABLES = ("trials", "sealed_allocations", "diary_versions", "audit_events", "audit_head", "accounts")


def snapshot(db: Database) -> dict[str, list]:
    with db.engine.connect() as conn:
        return {t: sorted(map(tuple, conn.execute(text(f"SELECT * FROM {t}"))), key=repr) for t in TABLES}


def test_correction_keeps_previous_value_in_history(running_trial, patient):
    tid = running_trial.trial_id
    day = dt.date.today() - dt.timedelta(days=1)
    diary.add_entry(patient, tid, day, DiaryValues(6, 8, 4))
    diary.correct_entry(patient, tid, day, DiaryValues(5, 8, 4), reason="pressed the wrong number")
    versions = diary.versions(patient, tid)
    assert [(v.version, v.kind, v.values.average_pain) for v in versions] == [
        (1, VersionKind.ORIGINAL, 6),
        (2, VersionKind.CORRECTION, 5),
    ]
    assert versions[1].reason == "pressed the wrong number"
    assert trials.record(patient, tid).current()[day].values.average_pain == 5
    trail = audit.trail(patient, tid)
    assert trail[-1].old["average_pain"] == 6 and trail[-1].new["values"]["average_pain"] == 5


def test_a_correction_changes_only_the_values_given(running_trial, patient):
    tid, day = running_trial.trial_id, dt.date.today() - dt.timedelta(days=1)
    first = DiaryValues(6, 9, 4, dose_taken=DoseTaken.PARTIAL, side_effects=frozenset({"nausea"}), note="bad day")
    diary.add_entry(patient, tid, day, first)
    diary.correct_entry(patient, tid, day, {"average_pain": 5}, reason="typed 6 by mistake")
    now = trials.record(patient, tid).current()[day].values
    assert now == DiaryValues(5, 9, 4, dose_taken=DoseTaken.PARTIAL, side_effects=frozenset({"nausea"}), note="bad day")
    with pytest.raises(DiaryError, match="unknown diary field"):
        diary.correct_entry(patient, tid, day, {"mood": 3}, reason="x")


def test_void_marks_entered_in_error_and_allows_a_fresh_entry(running_trial, patient):
    tid = running_trial.trial_id
    day = dt.date.today() - dt.timedelta(days=2)
    diary.add_entry(patient, tid, day, DiaryValues(3, 4, 1))
    diary.void_entry(patient, tid, day, reason="entered for the wrong day")
    assert day not in trials.record(patient, tid).current()
    diary.add_entry(patient, tid, day, DiaryValues(4, 5, 1, dose_taken=DoseTaken.PARTIAL))
    kinds = [v.kind for v in diary.versions(patient, tid)]
    assert kinds == [VersionKind.ORIGINAL, VersionKind.VOID, VersionKind.ORIGINAL]


@pytest.mark.parametrize(
    ("action", "error", "message"),
    [
        ("future", DiaryError, "in the future"),
        ("duplicate", Conflict, "already an entry"),
        ("unknown_trial", NotFound, "no trial"),
        ("before_start", DiaryError, "before the trial starts"),
        ("correct_missing", NotFound, "no current entry"),
        ("correct_without_reason", DiaryError, "needs a reason"),
        ("pharmacist_writes", Forbidden, "pharmacist may not write"),
    ],
)
def test_bad_diary_input_is_refused_and_changes_nothing_stored(
    db, running_trial, patient, pharmacist, action, error, message
):
    tid = running_trial.trial_id
    yesterday = dt.date.today() - dt.timedelta(days=1)
    diary.add_entry(patient, tid, yesterday, DiaryValues(5, 6, 2))
    before = snapshot(db)
    calls = {
        "future": lambda: diary.add_entry(patient, tid, dt.date.today() + dt.timedelta(days=2), DiaryValues(5, 6, 2)),
        "duplicate": lambda: diary.add_entry(patient, tid, yesterday, DiaryValues(1, 2, 2)),
        "unknown_trial": lambda: diary.add_entry(patient, "mt-nosuch", yesterday, DiaryValues(5, 6, 2)),
        "before_start": lambda: diary.add_entry(
            patient, tid, running_trial.start_date - dt.timedelta(days=1), DiaryValues(5, 6, 2)
        ),
        "correct_missing": lambda: diary.correct_entry(
            patient, tid, yesterday - dt.timedelta(days=1), DiaryValues(5, 6, 2), "x"
        ),
        "correct_without_reason": lambda: diary.correct_entry(patient, tid, yesterday, DiaryValues(4, 6, 2), "  "),
        "pharmacist_writes": lambda: diary.add_entry(
            pharmacist, tid, yesterday - dt.timedelta(days=1), DiaryValues(5, 6, 2)
        ),
    }
    with pytest.raises(error, match=message):
        calls[action]()
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (dict(average_pain=11, worst_pain=11, sleep_interference=0), "average pain must be 0-10"),
        (dict(average_pain=-1, worst_pain=2, sleep_interference=0), "average pain must be 0-10"),
        (dict(average_pain=5, worst_pain=4, sleep_interference=0), "cannot be lower"),
        (dict(average_pain=5.5, worst_pain=6, sleep_interference=0), "whole number"),
        (dict(average_pain=5, worst_pain=6, sleep_interference=0, side_effects={"hiccups"}), "unknown side effect"),
        (dict(average_pain=5, worst_pain=6, sleep_interference=0, dose_taken="double"), "full, partial or none"),
    ],
)
def test_invalid_values_are_refused(values, message):
    with pytest.raises(DiaryError, match=message):
        DiaryValues(**values)


def test_late_entries_are_flagged_in_the_participants_time_zone():
    day = dt.date(2026, 3, 1)
    on_time = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    assert not is_late(day, on_time, "Europe/London", 36)
    assert is_late(day, dt.datetime(2026, 3, 3, 13, 0, tzinfo=dt.UTC), "Europe/London", 36)
    # 11:30 UTC on day+2 is 00:30 on day+3 in Auckland... the day ended earlier there.
    assert is_late(day, dt.datetime(2026, 3, 2, 12, 30, tzinfo=dt.UTC), "Pacific/Auckland", 12)


def test_entry_recorded_days_later_is_stored_as_late(running_trial, patient):
    old_day = running_trial.start_date + dt.timedelta(days=1)
    result = diary.add_entry(patient, running_trial.trial_id, old_day, DiaryValues(4, 5, 1))
    assert result.version.late
    assert diary.versions(patient, running_trial.trial_id)[0].late


def test_diary_is_locked_after_unblinding(running_trial, clinician, patient, emergency_key):
    unblinding.unblind(clinician, running_trial.trial_id, emergency_key, reason="adverse event review")
    with pytest.raises(Conflict, match="locked"):
        diary.add_entry(patient, running_trial.trial_id, dt.date.today(), DiaryValues(4, 5, 1))


def test_stop_symptom_flags_the_trial_in_the_same_transaction(running_trial, patient, clinician):
    result = diary.add_entry(
        patient,
        running_trial.trial_id,
        dt.date.today(),
        DiaryValues(5, 6, 1, side_effects=frozenset({"muscle-weakness"})),
    )
    assert result.urgent and "muscle weakness" in result.urgent[0].message.lower()
    flags = trials.record(clinician, running_trial.trial_id).flags
    assert len(flags) == 1 and "muscle weakness" in flags[0].lower()
    assert audit.trail(clinician, running_trial.trial_id)[-1].action == "trial.flag"
    assert audit.verify(clinician).ok


def test_protocol_amendment_is_audited_and_structure_is_protected(db, clinician):
    from magtrial.errors import ValidationError
    from tests.helpers import ADULT, sample_protocol

    future = trials.create_trial(
        clinician, sample_protocol(), "P-5", ADULT, start_date=dt.date.today() + dt.timedelta(days=5)
    )
    new = trials.amend_protocol(clinician, future.trial_id, {"period_days": 10, "carryover_days": 3}, "shorter")
    assert new.period_days == 10 and trials.record(clinician, future.trial_id).schedule.periods[0].days == 10
    event = audit.trail(clinician, future.trial_id)[-1]
    assert event.action == "protocol.amend" and event.old == {"carryover_days": 2, "period_days": 7}
    assert audit.verify(clinician).ok  # replaying the amendment gives the stored protocol
    with pytest.raises(ValidationError, match="cannot change once a trial exists"):
        trials.amend_protocol(clinician, future.trial_id, {"cycles": 5}, "more cycles")
    started = trials.create_trial(
        clinician, sample_protocol(), "P-6", ADULT, start_date=dt.date.today() - dt.timedelta(days=1)
    )
    before = snapshot(db)
    with pytest.raises(ValidationError, match="after the trial has started"):
        trials.amend_protocol(clinician, started.trial_id, {"period_days": 9}, "oops")
    with pytest.raises(ValidationError, match="needs a reason"):
        trials.amend_protocol(clinician, started.trial_id, {"late_after_hours": 48}, "")
    assert snapshot(db) == before
