"""Diary versions through the service, on SQLite and PostgreSQL: nothing is ever overwritten."""

import datetime as dt

import pytest
from sqlalchemy import text

from magtrial.core.diary import DiaryValues, DoseTaken, VersionKind, is_late
from magtrial.errors import Conflict, DiaryError, Forbidden, NotFound
from magtrial.service import Actor, Role, TrialService
from magtrial.store.db import Database

TABLES = ("trials", "sealed_allocations", "diary_versions", "audit_events", "audit_head")


def snapshot(db: Database) -> dict[str, list]:
    with db.engine.connect() as conn:
        return {t: sorted(map(tuple, conn.execute(text(f"SELECT * FROM {t}"))), key=repr) for t in TABLES}


def patient_of(db: Database) -> TrialService:
    return TrialService(db, Actor("P-001", Role.PATIENT))


def test_correction_keeps_previous_value_in_history(db, running_trial):
    svc = patient_of(db)
    day = dt.date.today() - dt.timedelta(days=1)
    svc.add_entry(running_trial.trial_id, day, DiaryValues(6, 8, 4))
    svc.correct_entry(running_trial.trial_id, day, DiaryValues(5, 8, 4), reason="pressed the wrong number")
    versions = svc.versions(running_trial.trial_id)
    assert [(v.version, v.kind, v.values.average_pain) for v in versions] == [
        (1, VersionKind.ORIGINAL, 6), (2, VersionKind.CORRECTION, 5)]
    assert versions[1].reason == "pressed the wrong number"
    assert svc.record(running_trial.trial_id).current()[day].values.average_pain == 5
    trail = svc.audit_trail(running_trial.trial_id)
    assert trail[-1].old["average_pain"] == 6 and trail[-1].new["values"]["average_pain"] == 5


def test_void_marks_entered_in_error_and_allows_a_fresh_entry(db, running_trial):
    svc = patient_of(db)
    day = dt.date.today() - dt.timedelta(days=2)
    svc.add_entry(running_trial.trial_id, day, DiaryValues(3, 4, 1))
    svc.void_entry(running_trial.trial_id, day, reason="entered for the wrong day")
    assert day not in svc.record(running_trial.trial_id).current()
    svc.add_entry(running_trial.trial_id, day, DiaryValues(4, 5, 1, dose_taken=DoseTaken.PARTIAL))
    kinds = [v.kind for v in svc.versions(running_trial.trial_id)]
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
def test_bad_diary_input_is_refused_and_changes_nothing_stored(db, running_trial, action, error, message):
    svc = patient_of(db)
    tid = running_trial.trial_id
    yesterday = dt.date.today() - dt.timedelta(days=1)
    svc.add_entry(tid, yesterday, DiaryValues(5, 6, 2))
    before = snapshot(db)
    calls = {
        "future": lambda: svc.add_entry(tid, dt.date.today() + dt.timedelta(days=2), DiaryValues(5, 6, 2)),
        "duplicate": lambda: svc.add_entry(tid, yesterday, DiaryValues(1, 2, 2)),
        "unknown_trial": lambda: svc.add_entry("mt-nosuch", yesterday, DiaryValues(5, 6, 2)),
        "before_start": lambda: svc.add_entry(tid, running_trial.start_date - dt.timedelta(days=1),
                                              DiaryValues(5, 6, 2)),
        "correct_missing": lambda: svc.correct_entry(tid, yesterday - dt.timedelta(days=1), DiaryValues(5, 6, 2), "x"),
        "correct_without_reason": lambda: svc.correct_entry(tid, yesterday, DiaryValues(4, 6, 2), "  "),
        "pharmacist_writes": lambda: TrialService(db, Actor("ph", Role.PHARMACIST)).add_entry(
            tid, yesterday - dt.timedelta(days=1), DiaryValues(5, 6, 2)),
    }
    with pytest.raises(error, match=message):
        calls[action]()
    assert snapshot(db) == before


@pytest.mark.parametrize(("values", "message"), [
    (dict(average_pain=11, worst_pain=11, sleep_interference=0), "average pain must be 0-10"),
    (dict(average_pain=-1, worst_pain=2, sleep_interference=0), "average pain must be 0-10"),
    (dict(average_pain=5, worst_pain=4, sleep_interference=0), "cannot be lower"),
    (dict(average_pain=5.5, worst_pain=6, sleep_interference=0), "whole number"),
    (dict(average_pain=5, worst_pain=6, sleep_interference=0, side_effects={"hiccups"}), "unknown side effect"),
    (dict(average_pain=5, worst_pain=6, sleep_interference=0, dose_taken="double"), "full, partial or none"),
])
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


def test_entry_recorded_days_later_is_stored_as_late(db, running_trial):
    svc = patient_of(db)
    svc.clock = lambda: dt.datetime.now(dt.UTC)
    old_day = running_trial.start_date + dt.timedelta(days=1)
    version = svc.add_entry(running_trial.trial_id, old_day, DiaryValues(4, 5, 1))
    assert version.late
    assert svc.versions(running_trial.trial_id)[0].late


def test_diary_is_locked_after_unblinding(db, running_trial, clinician):
    clinician.unblind(running_trial.trial_id, reason="adverse event review")
    with pytest.raises(Conflict, match="locked"):
        patient_of(db).add_entry(running_trial.trial_id, dt.date.today(), DiaryValues(4, 5, 1))


def test_protocol_amendment_is_audited_and_structure_is_protected(db, clinician):
    from magtrial.errors import ValidationError
    from tests.helpers import ADULT, sample_protocol

    future = clinician.create_trial(sample_protocol(), "P-5", ADULT, start_date=dt.date.today() + dt.timedelta(days=5))
    new = clinician.amend_protocol(future.trial_id, {"period_days": 10, "carryover_days": 3}, "shorter periods")
    assert new.period_days == 10 and clinician.record(future.trial_id).schedule.periods[0].days == 10
    event = clinician.audit_trail(future.trial_id)[-1]
    assert event.action == "protocol.amend" and event.old == {"carryover_days": 2, "period_days": 7}
    with pytest.raises(ValidationError, match="cannot change once a trial exists"):
        clinician.amend_protocol(future.trial_id, {"cycles": 5}, "more cycles")
    started = clinician.create_trial(sample_protocol(), "P-6", ADULT, start_date=dt.date.today() - dt.timedelta(days=1))
    before = snapshot(db)
    with pytest.raises(ValidationError, match="after the trial has started"):
        clinician.amend_protocol(started.trial_id, {"period_days": 9}, "oops")
    with pytest.raises(ValidationError, match="needs a reason"):
        clinician.amend_protocol(started.trial_id, {"late_after_hours": 48}, "")
    assert snapshot(db) == before
