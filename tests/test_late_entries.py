"""Missed days: within the protocol's late window a participant fills them in (flagged late); older days
only after a clinician approves a late entry with a reason. Optional self-report items version too."""

import datetime as dt

import pytest
from sqlalchemy import text

from magtrial.core.diary import DiaryValues, Severity
from magtrial.errors import Conflict, DiaryError, Forbidden, ProtocolError, ValidationError
from magtrial.service import Actor, Context, Role, audit, clinic, diary, trials
from magtrial.store.db import Database
from tests import test_web_support as support
from tests.helpers import ADULT, sample_protocol

web = support.web  # the fixture
TABLES = ("diary_versions", "late_entry_approvals", "audit_events", "audit_head")


def snapshot(db: Database) -> dict[str, list]:
    with db.engine.connect() as conn:
        return {t: sorted(map(tuple, conn.execute(text(f"SELECT * FROM {t}"))), key=repr) for t in TABLES}


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def windowed(db, clinician):  # type: ignore[no-untyped-def]
    """A trial with a 24-hour late window, a clock at 10:00 UTC on day 12, and its participant."""
    start = dt.date(2026, 3, 1)
    clock = Clock(dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC))
    doctor = Context(db, clinician.actor, clock)
    rec = trials.create_trial(doctor, sample_protocol(late_window_hours=24), "P-001", ADULT, start_date=start)
    clock.now = dt.datetime(2026, 3, 12, 10, tzinfo=dt.UTC)
    return rec.trial_id, doctor, Context(db, Actor("P-001", Role.PATIENT), clock)


def test_yesterday_is_allowed_within_the_window_and_older_days_are_refused(db, windowed):
    tid, _, patient = windowed
    yesterday, older = dt.date(2026, 3, 11), dt.date(2026, 3, 10)
    diary.add_entry(patient, tid, yesterday, DiaryValues(4, 5, 1))
    before = snapshot(db)
    with pytest.raises(DiaryError, match="only a late entry your clinician approves"):
        diary.add_entry(patient, tid, older, DiaryValues(4, 5, 1))
    assert snapshot(db) == before


def test_a_clinician_approved_late_entry_is_flagged_late_with_the_reason_and_audited(db, windowed):
    tid, doctor, patient = windowed
    older = dt.date(2026, 3, 8)
    approval = clinic.approve_late_entry(doctor, tid, older, "was in hospital, paper diary kept")
    assert approval.approved_by == "dr-lee"
    result = diary.add_entry(patient, tid, older, DiaryValues(6, 7, 3))
    assert result.version.late and "paper diary kept" in result.version.reason
    actions = [e.action for e in audit.trail(doctor, tid)[-2:]]
    assert actions == ["late_entry.approve", "diary.original"]
    assert [a.day for a in clinic.late_approvals(patient, tid)] == [older]
    assert audit.verify(doctor).ok


def test_bad_approvals_are_refused_and_nothing_is_stored(db, windowed):
    tid, doctor, patient = windowed
    clinic.approve_late_entry(doctor, tid, dt.date(2026, 3, 5), "paper diary")
    diary.add_entry(patient, tid, dt.date(2026, 3, 11), DiaryValues(4, 5, 1))
    before = snapshot(db)
    cases = {
        "no reason": (ValidationError, lambda: clinic.approve_late_entry(doctor, tid, dt.date(2026, 3, 6), "  ")),
        "twice": (Conflict, lambda: clinic.approve_late_entry(doctor, tid, dt.date(2026, 3, 5), "again")),
        "has an entry": (Conflict, lambda: clinic.approve_late_entry(doctor, tid, dt.date(2026, 3, 11), "x")),
        "future": (ValidationError, lambda: clinic.approve_late_entry(doctor, tid, dt.date(2026, 3, 14), "x")),
        "before start": (ValidationError, lambda: clinic.approve_late_entry(doctor, tid, dt.date(2026, 2, 20), "x")),
        "participant": (Forbidden, lambda: clinic.approve_late_entry(patient, tid, dt.date(2026, 3, 6), "x")),
    }
    for name, (error, call) in cases.items():
        with pytest.raises(error):
            call()
        assert snapshot(db) == before, name


def test_without_a_window_any_past_day_of_the_calendar_stays_open(running_trial, patient):
    old = running_trial.start_date + dt.timedelta(days=1)
    assert diary.add_entry(patient, running_trial.trial_id, old, DiaryValues(4, 5, 1)).version.late


def test_the_window_is_validated():
    with pytest.raises(ProtocolError, match="late-entry window must be 24-336 hours"):
        sample_protocol(late_window_hours=12)
    with pytest.raises(ProtocolError, match="late-entry window must be 24-336 hours"):
        sample_protocol(late_window_hours=337)
    with pytest.raises(ProtocolError, match="late_window_hours"):
        sample_protocol().from_dict({**sample_protocol().to_dict(), "late_window_hours": "soon"})
    assert sample_protocol(late_window_hours=48).to_dict()["late_window_hours"] == 48
    assert "late_window_hours" not in sample_protocol().to_dict()  # unchanged for existing trials


def test_optional_self_report_items_are_stored_and_corrected_as_versions(running_trial, patient):
    tid, day = running_trial.trial_id, dt.date.today()
    diary.add_entry(patient, tid, day, DiaryValues(4, 5, 1, touch_pain=Severity.MILD))
    diary.correct_entry(patient, tid, day, {"temperature_pain": "severe"}, reason="forgot the cold")
    first, second = diary.versions(patient, tid)
    assert first.values.touch_pain is Severity.MILD and first.values.temperature_pain is None
    assert (second.values.touch_pain, second.values.temperature_pain) == (Severity.MILD, Severity.SEVERE)
    assert "temperature_pain" not in DiaryValues(4, 5, 1).as_dict()  # older entries read back unchanged
    from magtrial.export.csv_long import long_csv

    rows = long_csv(trials.record(patient, tid)).splitlines()
    assert sum(",touch_pain,mild," in r for r in rows) == 2 and sum(",temperature_pain,severe," in r for r in rows) == 1
    with pytest.raises(DiaryError, match="touch_pain"):
        DiaryValues.from_dict({**DiaryValues(4, 5, 1).as_dict(), "touch_pain": "agony"})


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_web_diary_offers_the_optional_taps_in_our_words_and_keeps_them_on_correction(web):
    from magtrial.core.diary import SELF_REPORT_ITEMS
    from tests.test_web_support import post

    client = web.login("P-001")
    page = client.get(f"/diary/{web.trial}").text
    assert all(label in page for label in SELF_REPORT_ITEMS.values())
    today = dt.date.today().isoformat()
    saved = post(client, f"/diary/{web.trial}", {"day": today, "average_pain": "3", "sleep_interference": "1",
                                                 "touch_pain": "moderate"})  # fmt: skip
    assert saved.status_code == 200 and "Light touch" in saved.text
    form = {"average_pain": "4", "sleep_interference": "1", "touch_pain": "moderate", "temperature_pain": "mild",
            "reason": "forgot the cold"}  # fmt: skip
    assert post(client, f"/diary/{web.trial}/correct/{today}", form).status_code == 200
    values = diary.versions(Context(web.db, Actor("P-001", Role.PATIENT)), web.trial)[-1].values
    assert (values.average_pain, values.touch_pain, values.temperature_pain) == (4, Severity.MODERATE, Severity.MILD)
    bad = post(client, f"/diary/{web.trial}", {"day": today, "average_pain": "3", "sleep_interference": "1",
                                               "temperature_pain": "agony"})  # fmt: skip
    assert bad.status_code in (409, 422)


def test_cli_diary_add_takes_the_optional_taps(run, tmp_path):
    from tests.helpers import setup_clinic
    from tests.test_cli import create

    setup_clinic(run, tmp_path)
    trial, _ = create(run)
    run("--user", "P-9", "diary", "add", trial, "--avg", "4", "--touch", "severe", "--temperature", "none")
    bad = run("--user", "P-9", "diary", "add", trial, "--avg", "4", "--date",
              (dt.date.today() - dt.timedelta(days=1)).isoformat(), "--touch", "agony", ok=False)  # fmt: skip
    assert bad.exit_code == 1 and "touch_pain must be one of none, mild, moderate or severe" in bad.output
    db = Database(f"sqlite:///{tmp_path / 'data' / 'magtrial.sqlite3'}")
    try:
        (version,) = diary.versions(Context(db, Actor("P-9", Role.PATIENT)), trial)
    finally:
        db.dispose()
    assert (version.values.touch_pain, version.values.temperature_pain) == (Severity.SEVERE, Severity.NONE)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_web_today_links_the_days_the_clinician_approved(web, clinician):
    from tests.test_web_support import post

    doctor = Context(web.db, clinician.actor)
    trials.amend_protocol(doctor, web.trial, {"late_window_hours": 24}, "missed days need approval")
    old = dt.date.today() - dt.timedelta(days=5)
    client = web.login("P-001")
    refused = post(
        client, f"/diary/{web.trial}", {"day": old.isoformat(), "average_pain": "3", "sleep_interference": "1"}
    )
    assert refused.status_code == 422 and "clinician approves" in refused.text
    clinic.approve_late_entry(doctor, web.trial, old, "paper diary while away")
    assert f'?day={old.isoformat()}"' in client.get(f"/diary/{web.trial}").text
    saved = post(
        client, f"/diary/{web.trial}", {"day": old.isoformat(), "average_pain": "3", "sleep_interference": "1"}
    )
    assert saved.status_code == 200
    assert f'?day={old.isoformat()}"' not in client.get(f"/diary/{web.trial}").text  # filled: no longer offered
    (entry,) = [v for v in diary.versions(doctor, web.trial) if v.day == old]
    assert entry.late and "paper diary while away" in entry.reason
