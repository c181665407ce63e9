"""Backup and restore, on SQLite (online backup API) and a real PostgreSQL (pg_dump / pg_restore).

A populated database goes out and comes back row for row, verified (audit chain and replay, row
counts, the head in the manifest); an older backup over a newer database is refused unless forced;
only clinicians back up or restore, and both are audit events.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from magtrial.core.diary import DiaryValues
from magtrial.errors import Conflict, Forbidden, IntegrityError
from magtrial.service import Actor, Context, Role, audit, backup, diary, tokens
from magtrial.store.db import Database
from tests.test_api import snapshot


def populate(patient: Context, trial: str, days: range) -> None:
    for back in days:
        diary.add_entry(patient, trial, dt.date.today() - dt.timedelta(days=back), DiaryValues(3 + back % 4, 6, 1))


def without_backup_events(snap: dict) -> dict:
    """The tables apart from the audit trail's own backup/restore events and the head they move."""
    return {t: rows for t, rows in snap.items() if t not in ("audit_events", "audit_head")}


def test_a_populated_database_round_trips_and_verifies(
    db, clinician, patient, running_trial, pharmacist, tmp_path, request
):
    populate(patient, running_trial.trial_id, range(0, 6))
    diary.correct_entry(patient, running_trial.trial_id, dt.date.today(), {"average_pain": 2}, "typo")
    tokens.create_token(patient, "phone")
    made = backup.backup(clinician, tmp_path / "magtrial.backup")
    assert made.format == (backup.FORMAT_SQLITE if db.is_sqlite else backup.FORMAT_PG)
    saved = json.loads((tmp_path / "magtrial.backup.manifest.json").read_text())
    assert saved["head"] == made.head == str(audit.head(clinician))  # the backup holds its own event
    assert saved["row_counts"]["diary_versions"] == 7 and saved["row_counts"]["trials"] == 1
    at_backup = snapshot(db)

    populate(patient, running_trial.trial_id, range(6, 9))  # the database moves on
    with pytest.raises(Conflict, match="newer than the backup"):
        backup.restore(db, tmp_path / "magtrial.backup", "dr-lee")
    assert snapshot(db) != at_backup  # refused: nothing was replaced

    done = backup.restore(db, tmp_path / "magtrial.backup", "dr-lee", force=True, reason="test: back to before")
    restored = snapshot(db)
    assert without_backup_events(restored) == without_backup_events(at_backup)
    assert set(at_backup["audit_events"]) < set(restored["audit_events"])  # and one more: the restore's
    assert len(restored["audit_events"]) == len(at_backup["audit_events"]) + 1
    report = audit.verify(clinician, made.head)  # the kept head is still in the chain
    assert report.ok, report.problem
    assert done.head != made.head and done.replaced_head.split(":")[0] > made.head.split(":")[0]

    # Into a fresh, empty database (after a disaster): the same rows again.
    if db.is_sqlite:
        fresh = Database(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    else:
        fresh = Database(request.getfixturevalue("postgres_server").fresh_database())
    fresh.migrate()
    try:
        backup.restore(fresh, tmp_path / "magtrial.backup", "dr-lee")
        assert without_backup_events(snapshot(fresh)) == without_backup_events(at_backup)
        assert audit.verify(Context(fresh, Actor("dr-lee", Role.CLINICIAN))).ok
    finally:
        fresh.dispose()


def test_only_clinicians_back_up_and_restore_and_a_changed_file_is_refused(
    db, clinician, patient, pharmacist, running_trial, tmp_path
):
    for ctx in (patient, pharmacist):
        with pytest.raises(Forbidden, match="back up"):
            backup.backup(ctx, tmp_path / f"{ctx.actor.name}.backup")
    path = tmp_path / "ok.backup"
    backup.backup(clinician, path)
    with pytest.raises(Forbidden, match="restore"):
        backup.restore(db, path, "P-001")
    with pytest.raises(Conflict, match="already exists"):
        backup.backup(clinician, path)
    actions = [e.action for e in audit.trail(clinician, running_trial.trial_id)]
    assert "backup.create" not in actions  # a database event, not a trial's
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="SHA-256"):
        backup.verify_backup(path)
    with pytest.raises(IntegrityError):
        backup.restore(db, path, "dr-lee", force=True)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_diverging_database_is_refused_unless_forced(db, clinician, patient, running_trial, tmp_path):
    populate(patient, running_trial.trial_id, range(0, 2))
    path = tmp_path / "a.backup"
    backup.backup(clinician, path)
    # Go back to the backup, then write something else than what followed it: the two chains now differ.
    populate(patient, running_trial.trial_id, range(2, 4))
    backup.restore(db, path, "dr-lee", force=True)
    populate(patient, running_trial.trial_id, range(4, 5))
    later = tmp_path / "b.backup"
    backup.backup(clinician, later)
    backup.restore(db, path, "dr-lee", force=True)
    populate(patient, running_trial.trial_id, range(5, 7))
    with pytest.raises(Conflict, match="different ways"):
        backup.restore(db, later, "dr-lee")


def test_backup_and_restore_from_the_command_line(run, tmp_path):
    from tests.helpers import setup_clinic

    setup_clinic(run, tmp_path)
    out = run("backup", "-o", tmp_path / "clinic.backup").output
    assert "verified" in out and "Audit head" in out
    run("user", "add", "P-100", "--role", "patient")
    refused = run("restore", tmp_path / "clinic.backup", ok=False)
    assert refused.exit_code == 1 and "newer than the backup" in refused.output
    done = run("restore", tmp_path / "clinic.backup", "--force", "--reason", "test").output
    assert "verifies" in done
    assert "P-100" not in run("user", "list").output
    assert "Audit chain intact" in run("audit", "verify").output
