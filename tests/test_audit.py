"""The hash-chained audit trail: raw-SQL tampering is detected and the row is named."""

import datetime as dt
import threading

import pytest
from sqlalchemy import text

from magtrial.core.diary import DiaryValues
from magtrial.service import Actor, Role, TrialService
from tests.helpers import ADULT


def fill(db, trial, days=4):
    patient = TrialService(db, Actor("P-001", Role.PATIENT))
    for back in range(1, days + 1):
        patient.add_entry(trial.trial_id, dt.date.today() - dt.timedelta(days=back), DiaryValues(5, 6, 2))


def raw(db, sql, **params):
    with db.engine.begin() as conn:
        conn.execute(text(sql), params)


def test_untouched_chain_verifies(db, running_trial, clinician):
    fill(db, running_trial)
    check = clinician.verify_audit()
    assert check.ok and check.events == 5


def test_editing_a_row_breaks_the_chain_and_names_it(db, running_trial, clinician):
    fill(db, running_trial)
    raw(db, "UPDATE audit_events SET new = :v WHERE seq = 3", v='{"values":{"average_pain":0}}')
    check = clinician.verify_audit()
    assert not check.ok and check.bad_seq == 3 and "row 3 was edited" in check.problem


def test_editing_a_row_and_its_hash_is_still_caught_by_the_next_link(db, running_trial, clinician):
    fill(db, running_trial)
    raw(db, "UPDATE audit_events SET reason = 'x', hash = :h WHERE seq = 2", h="f" * 64)
    check = clinician.verify_audit()
    assert not check.ok and check.bad_seq in (2, 3)


def test_deleting_a_middle_row_is_detected(db, running_trial, clinician):
    fill(db, running_trial)
    raw(db, "DELETE FROM audit_events WHERE seq = 2")
    check = clinician.verify_audit()
    assert not check.ok and check.bad_seq == 2 and "missing" in check.problem


def test_deleting_the_newest_row_is_detected_by_the_head(db, running_trial, clinician):
    fill(db, running_trial)
    raw(db, "DELETE FROM audit_events WHERE seq = 5")
    check = clinician.verify_audit()
    assert not check.ok and check.bad_seq == 5


def test_reordering_rows_is_detected(db, running_trial, clinician):
    fill(db, running_trial)
    raw(db, "UPDATE audit_events SET seq = 100 WHERE seq = 2")
    raw(db, "UPDATE audit_events SET seq = 2 WHERE seq = 3")
    raw(db, "UPDATE audit_events SET seq = 3 WHERE seq = 100")
    check = clinician.verify_audit()
    assert not check.ok and check.bad_seq == 2


def test_blinded_audit_view_never_shows_the_allocation(db, running_trial, clinician):
    clinician.unblind(running_trial.trial_id, reason="emergency: suspected hypermagnesaemia")
    patient = TrialService(db, Actor("P-001", Role.PATIENT))
    assert patient.audit_trail(running_trial.trial_id)[-1].new["sequence"]  # visible once unblinded

    other = clinician.create_trial(running_trial.protocol, "P-002", ADULT, start_date=running_trial.start_date)
    secret = TrialService(db, Actor("ph", Role.PHARMACIST)).record(other.trial_id).allocation
    clinician.unblind(other.trial_id, reason="early look, then re-blinded in a copy")  # event now holds the secret
    sealed_view = TrialService(db, Actor("P-002", Role.PATIENT))
    raw(db, "UPDATE trials SET status = 'active' WHERE id = :t", t=other.trial_id)  # pretend still blinded
    events = sealed_view.audit_trail(other.trial_id)
    assert events[-1].action == "trial.unblind" and events[-1].new == "[sealed until unblinding]"
    text_view = repr(events)
    assert secret.salt not in text_view
    assert repr([a.value for a in secret.sequence]) not in text_view


def test_concurrent_writers_keep_one_unbroken_chain(db, running_trial, clinician):
    """Two threads appending at once (separate sessions) still produce a valid chain."""
    days = [dt.date.today() - dt.timedelta(days=d) for d in range(0, 10)]
    errors = []

    def write(subset):
        svc = TrialService(db, Actor("P-001", Role.PATIENT))
        for day in subset:
            try:
                svc.add_entry(running_trial.trial_id, day, DiaryValues(4, 5, 1))
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=write, args=(days[i::2],)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    check = clinician.verify_audit()
    assert check.ok and check.events == 11


@pytest.mark.parametrize("role", [Role.PATIENT, Role.CLINICIAN])
def test_blinded_record_has_no_allocation_for_blinded_roles(db, running_trial, role):
    rec = TrialService(db, Actor("someone", role)).record(running_trial.trial_id)
    assert rec.allocation is None and set(rec.pack_sets) == {"X", "Y"}


def test_pharmacist_sees_packs_and_the_viewing_is_audited(db, running_trial, clinician):
    pharmacist = TrialService(db, Actor("ph-ann", Role.PHARMACIST))
    packs = pharmacist.packs(running_trial.trial_id)
    assert [n for n, _ in packs] == list(range(1, 7))
    assert sorted(arm for _, arm in packs) == ["comparator"] * 3 + ["magnesium"] * 3
    assert clinician.audit_trail(running_trial.trial_id)[-1].action == "allocation.view"


def test_unblinding_reveals_a_sequence_matching_the_commitment(db, running_trial, clinician):
    assert clinician.verify_commitment(running_trial.trial_id).ok is None  # sealed
    with pytest.raises(Exception, match="needs a reason"):
        clinician.unblind(running_trial.trial_id)
    allocation = clinician.unblind(running_trial.trial_id, reason="participant request")
    check = clinician.verify_commitment(running_trial.trial_id)
    assert check.ok and check.sequence == allocation.letters
    raw(db, "UPDATE sealed_allocations SET salt = :s", s="0" * 64)
    assert clinician.verify_commitment(running_trial.trial_id).ok is False
