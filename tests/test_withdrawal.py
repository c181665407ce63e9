"""Withdrawal and erasure through the services, on SQLite and PostgreSQL: the chain still verifies, nothing
erased is left in any table or (SQLite) in the file's bytes, and an erased trial is never pooled."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from magtrial.core.diary import DiaryValues
from magtrial.errors import Conflict, Forbidden, ValidationError
from magtrial.service import audit, consent, diary, trials, unblinding, withdrawal
from magtrial.store.db import Database

MARKER = "zqxj-erase-me-7731"


def _fill(patient, trial_id: str, days: int = 3) -> None:  # type: ignore[no-untyped-def]
    for back in range(days, 0, -1):
        day = dt.date.today() - dt.timedelta(days=back)
        diary.add_entry(patient, trial_id, day, DiaryValues(5, 7, 3, note=f"{MARKER} note {back}"))
    day = dt.date.today() - dt.timedelta(days=1)
    diary.correct_entry(patient, trial_id, day, {"average_pain": 4}, reason=f"{MARKER} typo")


def _everything(db: Database) -> str:
    """Every value of every table, as text (the SQL-visible contents of the whole database)."""
    out = []
    with db.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                out.extend(str(v) for v in row)
    return "\n".join(out)


def _files(db: Database) -> bytes:
    path = Path(db.engine.url.database or "")
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def test_erasure_leaves_audit_verify_passing_and_no_erased_text_anywhere(db, clinician, running_trial, patient):
    tid = running_trial.trial_id
    consent.set_text(clinician, tid, "You will take packs 1-8 and keep a diary.")
    consent.sign(patient, tid, 1, f"Ann {MARKER} Lee")
    _fill(patient, tid)
    assert MARKER in _everything(db)
    if db.is_sqlite:
        assert MARKER.encode() in _files(db)

    result = withdrawal.withdraw(patient, tid, "erase", reason=f"{MARKER} moving away")

    assert result.status == "withdrawn" and result.erased_events >= 6
    assert result.deleted_rows["diary_versions"] == 4 and result.deleted_rows["consent_signatures"] == 1
    report = audit.verify(clinician)
    assert report.ok, report.problem
    assert MARKER not in _everything(db)
    if db.is_sqlite:
        data = _files(db)
        assert MARKER.encode() not in data and MARKER.encode("utf-16-le") not in data
    # The structure stays: the trial, its commitment, consent text, and the erasure as an event.
    rec = trials.record(clinician, tid)
    assert rec.status == "withdrawn" and rec.versions == () and rec.commitment == running_trial.commitment
    assert consent.show(clinician, tid).text.startswith("You will take packs")
    actions = [e.action for e in audit.trail(clinician, tid)]
    assert actions[-2:] == ["trial.withdraw", "trial.erase"]


def test_tampering_with_a_kept_event_is_still_detected_after_an_erasure(db, clinician, running_trial, patient):
    tid = running_trial.trial_id
    _fill(patient, tid, days=2)
    withdrawal.withdraw(patient, tid, "erase")
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE action = 'trial.erase'"))
    report = audit.verify(clinician)
    assert not report.ok and "edited" in report.problem


def test_an_erased_events_tombstone_cannot_be_rewritten(db, clinician, running_trial, patient):
    tid = running_trial.trial_id
    _fill(patient, tid, days=2)
    withdrawal.withdraw(patient, tid, "erase")
    with db.engine.begin() as conn:
        seq = conn.execute(text("SELECT min(seq) FROM audit_events WHERE action = 'diary.original'")).scalar_one()
        conn.execute(text("UPDATE audit_events SET new = :v WHERE seq = :s"), {"v": '{"values":1}', "s": seq})
    report = audit.verify(clinician)
    assert not report.ok and f"audit row {seq} was edited after its erasure" in report.problem


def test_erasing_a_trial_whose_events_predate_hash_version_2(db, clinician, running_trial, patient):
    """Rows written before migration 0005 hash the raw text: the erasure event vouches for their hash."""
    tid = running_trial.trial_id
    _fill(patient, tid, days=2)
    from tests.test_audit import _rechain  # turn every row into a version-1 row, as a 0004 database has them

    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET hash_version = 1, content_salt = NULL"))
    _rechain(db)
    assert audit.verify(clinician).ok
    withdrawal.withdraw(patient, tid, "erase")
    assert audit.verify(clinician).ok
    assert MARKER not in _everything(db)
    with db.engine.begin() as conn:  # an untouched version-1 row is still checked against its text
        conn.execute(text("UPDATE audit_events SET reason = 'x' WHERE action = 'account.create'"))
    assert not audit.verify(clinician).ok


def test_keep_closes_the_diary_and_keeps_the_data(db, clinician, running_trial, patient):
    tid = running_trial.trial_id
    _fill(patient, tid, days=2)
    result = withdrawal.withdraw(patient, tid, "keep", reason="too busy")
    assert result.status == "withdrawn" and result.erased_events == 0
    with pytest.raises(Conflict, match="withdrawn; its diary is locked"):
        diary.add_entry(patient, tid, dt.date.today(), DiaryValues(3, 3, 3))
    assert len(trials.record(clinician, tid).versions) == 3
    assert MARKER in _everything(db)
    assert audit.verify(clinician).ok
    with pytest.raises(Conflict, match="already withdrawn"):
        withdrawal.withdraw(patient, tid, "keep")
    withdrawal.withdraw(patient, tid, "erase")  # a later change of mind: erase after all
    assert MARKER not in _everything(db) and audit.verify(clinician).ok
    with pytest.raises(Conflict, match="already withdrawn"):
        withdrawal.withdraw(patient, tid, "erase")


def test_bad_choice_or_role_changes_nothing(db, clinician, pharmacist, running_trial, patient):
    tid = running_trial.trial_id
    before = audit.head(clinician)
    with pytest.raises(ValidationError, match="choose 'keep'"):
        withdrawal.withdraw(patient, tid, "delete")
    with pytest.raises(Forbidden):
        withdrawal.withdraw(pharmacist, tid, "erase")
    with pytest.raises(ValidationError, match="longer than"):
        withdrawal.withdraw(patient, tid, "keep", reason="x" * 2001)
    assert audit.head(clinician) == before


def test_an_erased_trial_is_not_pooled_but_a_kept_one_is(db, clinician, emergency_key, patient):
    from magtrial.service import Actor, Context, Role
    from magtrial.store.summaries import count_summaries
    from tests.helpers import ADULT, sample_protocol

    start = dt.date.today() - dt.timedelta(days=60)
    ids = []
    for name in ("P-101", "P-102"):
        tid = trials.create_trial(clinician, sample_protocol(), name, ADULT, start_date=start).trial_id
        person = Context(db, Actor(name, Role.PATIENT))
        rec = trials.record(person, tid)
        days = (rec.schedule.end - rec.schedule.start).days + 1
        for day in (rec.schedule.start + dt.timedelta(days=i) for i in range(days)):
            diary.add_entry(person, tid, day, DiaryValues(5 + day.day % 3, 7, 3))
        unblinding.unblind(clinician, tid, emergency_key, reason="end of the test")
        ids.append((tid, person))
    with db.reader() as s:
        assert count_summaries(s, "average_pain") == 2
    withdrawal.withdraw(ids[0][1], ids[0][0], "keep")
    withdrawal.withdraw(ids[1][1], ids[1][0], "erase")
    with db.reader() as s:
        assert count_summaries(s, "average_pain") == 1
    assert trials.record(clinician, ids[0][0]).status == "unblinded"
    assert audit.verify(clinician).ok


def test_an_emergency_unblinding_still_works_after_an_erasure(db, clinician, emergency_key, running_trial, patient):
    """Medical safety outlives the data: the sealed allocation is kept, so the clinic can still open it."""
    tid = running_trial.trial_id
    _fill(patient, tid, days=2)
    withdrawal.withdraw(patient, tid, "erase")
    allocation = unblinding.unblind(clinician, tid, emergency_key, reason="suspected hypermagnesaemia")
    assert len(allocation.sequence) == 2 * running_trial.protocol.cycles
    assert unblinding.verify_commitment(clinician, tid).ok
    report = audit.verify(clinician)
    assert report.ok, report.problem
    from magtrial.store.summaries import count_summaries

    with db.reader() as s:
        assert count_summaries(s, "average_pain") == 0


def test_the_clinician_can_record_a_withdrawal_for_their_participant(db, clinician, running_trial, patient):
    tid = running_trial.trial_id
    result = withdrawal.withdraw(clinician, tid, "keep", reason="told me by phone")
    assert result.status == "withdrawn"
    event = audit.trail(clinician, tid)[-1]
    assert (event.action, event.actor, event.new["choice"]) == ("trial.withdraw", "dr-lee", "keep")


def test_erasure_removes_co_interventions_and_clinic_measurements_too(db, clinician, running_trial, patient):
    from magtrial.service import clinic

    tid = running_trial.trial_id
    day = dt.date.today() - dt.timedelta(days=2)
    _fill(patient, tid, days=2)
    clinic.add_co_intervention(clinician, tid, day, "iv-magnesium", f"MgSO4 {MARKER} drip", dose="1 g")
    clinic.add_measurement(clinician, tid, day, "brush-allodynia", 35.5, present=True, note=f"{MARKER} dorsum")
    result = withdrawal.withdraw(patient, tid, "erase")
    assert result.deleted_rows["co_interventions"] == 1 and result.deleted_rows["clinic_measurements"] == 1
    report = audit.verify(clinician)
    assert report.ok, report.problem
    assert MARKER not in _everything(db)
