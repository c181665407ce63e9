"""The audit trail against someone who edits the database: chain, kept head, and replay against the tables."""

import datetime as dt
import json
import threading

import pytest
from sqlalchemy import text

from magtrial.core.diary import DiaryValues
from magtrial.service import Actor, Context, Role, audit, diary, trials, unblinding
from magtrial.store.audit import GENESIS, event_hash
from tests.helpers import ADULT


def fill(patient, trial, days=4):
    for back in range(1, days + 1):
        diary.add_entry(patient, trial.trial_id, dt.date.today() - dt.timedelta(days=back), DiaryValues(5, 6, 2))


def raw(db, sql, **params):
    with db.engine.begin() as conn:
        conn.execute(text(sql), params)


def last_seq(db):
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT max(seq) FROM audit_events")).scalar()


def test_untouched_chain_verifies_and_tables_match(clinician, running_trial, patient):
    fill(patient, running_trial)
    report = audit.verify(clinician)
    assert report.ok and report.problem == ""
    assert report.events == last_seq(clinician.db) and report.head == audit.head(clinician)


def test_editing_a_row_breaks_the_chain_and_names_it(db, clinician, running_trial, patient):
    fill(patient, running_trial)
    seq = last_seq(db) - 1
    raw(db, "UPDATE audit_events SET new = :v WHERE seq = :s", v='{"values":{"average_pain":0}}', s=seq)
    report = audit.verify(clinician)
    assert not report.ok and report.bad_seq == seq and f"row {seq} was edited" in report.problem


def test_deleting_a_middle_row_is_detected(db, clinician, running_trial, patient):
    fill(patient, running_trial)
    raw(db, "DELETE FROM audit_events WHERE seq = 2")
    report = audit.verify(clinician)
    assert not report.ok and report.bad_seq == 2 and "missing" in report.problem


def test_deleting_the_newest_row_is_detected_by_the_head(db, clinician, running_trial, patient):
    fill(patient, running_trial)
    newest = last_seq(db)
    raw(db, "DELETE FROM audit_events WHERE seq = :s", s=newest)
    report = audit.verify(clinician)
    assert not report.ok and report.bad_seq == newest


def _rechain(db):
    """What a determined editor does: recompute every hash and the head so the chain is consistent again."""
    from magtrial.store.audit import HASHED_FIELDS

    with db.engine.begin() as conn:
        rows = conn.execute(text("SELECT * FROM audit_events ORDER BY seq")).mappings().all()
        prev = GENESIS
        for new_seq, row in enumerate(rows, start=1):
            fields = {name: row[name] for name in (*HASHED_FIELDS, "hash_version", "content_salt")}
            fields["seq"], fields["prev_hash"] = new_seq, prev
            fields["reveals_allocation"] = bool(fields["reveals_allocation"])
            digest = event_hash(fields)
            conn.execute(
                text("UPDATE audit_events SET seq = :n, prev_hash = :p, hash = :h WHERE seq = :o"),
                {"n": -new_seq, "p": prev, "h": digest, "o": row["seq"]},
            )
            prev = digest
        conn.execute(text("UPDATE audit_events SET seq = -seq"))
        conn.execute(text("UPDATE audit_head SET seq = :s, hash = :h"), {"s": len(rows), "h": prev})


def test_a_full_consistent_rewrite_passes_the_chain_but_fails_against_a_kept_head(
    db, clinician, running_trial, patient
):
    fill(patient, running_trial, days=3)
    receipt = diary.add_entry(patient, running_trial.trial_id, dt.date.today(), DiaryValues(7, 8, 3)).receipt
    assert audit.verify(clinician, expect_head=receipt).ok
    # Rewrite history: drop the last entry's row and event, change an earlier event's reason, rechain.
    raw(db, "DELETE FROM diary_versions WHERE day = :d", d=dt.date.today())
    raw(db, "DELETE FROM audit_events WHERE seq = :s", s=int(receipt.split(":")[0]))
    raw(db, "UPDATE audit_events SET reason = 'rewritten' WHERE seq = 2")
    _rechain(db)
    assert audit.verify(clinician).ok  # self-consistent: nothing inside the file can tell
    report = audit.verify(clinician, expect_head=receipt)
    assert not report.ok and "beyond the chain's end" in report.problem


def test_a_rewrite_that_keeps_the_length_is_caught_by_the_kept_head(db, clinician, running_trial, patient):
    fill(patient, running_trial, days=2)
    kept = str(audit.head(clinician))
    diary.add_entry(patient, running_trial.trial_id, dt.date.today(), DiaryValues(7, 8, 3))
    raw(db, "UPDATE audit_events SET reason = 'rewritten' WHERE seq = 2")
    _rechain(db)
    report = audit.verify(clinician, expect_head=kept)
    assert not report.ok and "no longer holds the kept head" in report.problem


def test_a_malformed_kept_head_is_a_clear_error(clinician):
    from magtrial.errors import ValidationError

    with pytest.raises(ValidationError, match="SEQ:HASH"):
        audit.verify(clinician, expect_head="12:nothex")


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (
            'UPDATE diary_versions SET "values" = replace("values", \'"average_pain": 5\', \'"average_pain": 2\')',
            "average_pain differ",
        ),
        (
            "UPDATE trials SET protocol = replace(protocol, '\"period_days\": 7', '\"period_days\": 8')",
            "protocol differs",
        ),
        ("UPDATE trials SET participant = 'P-999'", "participant is 'P-999'"),
        ("UPDATE accounts SET role = 'pharmacist' WHERE name = 'P-001'", "has role 'pharmacist'"),
        (
            "DELETE FROM diary_versions WHERE version = 1 AND day = (SELECT min(day) FROM diary_versions)",
            "missing (deleted?)",
        ),
    ],
)
def test_a_direct_table_edit_fails_verify_and_is_named(db, clinician, running_trial, patient, edit, named):
    fill(patient, running_trial, days=2)
    raw(db, edit)
    report = audit.verify(clinician)
    assert not report.ok and named in report.problem


def test_setting_an_unblinded_trial_back_to_active_is_named(db, clinician, running_trial, emergency_key):
    unblinding.unblind(clinician, running_trial.trial_id, emergency_key, reason="adverse event review")
    raw(db, "UPDATE trials SET status = 'active'")
    report = audit.verify(clinician)
    assert not report.ok and "status is 'active' in the table; the audit trail says 'unblinded'" in report.problem


def test_swapping_the_sealed_allocation_of_another_trial_is_named(db, clinician, running_trial):
    other = trials.create_trial(clinician, running_trial.protocol, "P-002", ADULT, start_date=running_trial.start_date)
    with db.engine.begin() as conn:
        theirs = conn.execute(
            text("SELECT sealed FROM sealed_allocations WHERE trial_id = :t"), {"t": other.trial_id}
        ).scalar()
        conn.execute(
            text("UPDATE sealed_allocations SET sealed = :s WHERE trial_id = :t"),
            {"s": theirs, "t": running_trial.trial_id},
        )
    report = audit.verify(clinician)
    assert not report.ok and "not the one sealed at creation" in report.problem


def test_blinded_audit_view_never_shows_the_allocation(db, clinician, running_trial, patient, emergency_key):
    allocation = unblinding.unblind(clinician, running_trial.trial_id, emergency_key, reason="suspected toxicity")
    assert audit.trail(patient, running_trial.trial_id)[-1].new["sequence"]  # visible once unblinded
    raw(db, "UPDATE trials SET status = 'active'")  # pretend still blinded: the view must seal it again
    events = audit.trail(patient, running_trial.trial_id)
    assert events[-1].action == "trial.unblind" and events[-1].new == "[sealed until unblinding]"
    assert allocation.salt not in repr(events)


def test_concurrent_writers_keep_one_unbroken_chain(db, clinician, running_trial, patient):
    """Two threads appending at once (separate sessions) still produce a valid chain."""
    days = [dt.date.today() - dt.timedelta(days=d) for d in range(0, 10)]
    errors = []
    before = last_seq(db)

    def write(subset):
        for day in subset:
            try:
                diary.add_entry(patient, running_trial.trial_id, day, DiaryValues(4, 5, 1))
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=write, args=(days[i::2],)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = audit.verify(clinician)
    assert report.ok and report.events == before + 10


def test_reports_and_receipts_carry_the_head_that_verify_accepts(clinician, running_trial, patient):
    result = diary.add_entry(patient, running_trial.trial_id, dt.date.today(), DiaryValues(4, 5, 1))
    rec = trials.record(clinician, running_trial.trial_id)
    assert rec.audit_head == result.receipt == str(audit.head(clinician))
    assert audit.verify(clinician, expect_head=rec.audit_head).ok
    event = json.loads(json.dumps(audit.trail(clinician, running_trial.trial_id)[-1].new))
    assert event["values"]["average_pain"] == 4


def test_a_reader_does_not_block_a_writer_on_sqlite(sqlite_db, key_files):
    """A long read (pooling, a report) holds a read transaction; a diary write must still go through."""
    from magtrial.service import accounts, keys

    ctx = Context(sqlite_db, accounts.bootstrap(sqlite_db, "dr-lee"))
    accounts.add_account(ctx, "ph-ann", Role.PHARMACIST)
    for _, key in key_files.values():
        keys.register_key(ctx, key.info)
    trial = trials.create_trial(
        ctx, running_protocol(), "P-001", ADULT, start_date=dt.date.today() - dt.timedelta(days=3)
    )
    patient = Context(sqlite_db, Actor("P-001", Role.PATIENT))
    sqlite_db.engine.pool.dispose()
    with sqlite_db.reader() as s:
        s.execute(text("SELECT count(*) FROM diary_versions")).scalar()  # read transaction now open
        # a short busy timeout would fail here if readers took the write lock
        diary.add_entry(patient, trial.trial_id, dt.date.today(), DiaryValues(3, 4, 1))
        s.execute(text("SELECT count(*) FROM trials")).scalar()


def running_protocol():
    from tests.helpers import sample_protocol

    return sample_protocol()
