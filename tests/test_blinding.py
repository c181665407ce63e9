"""Blinding against the database owner: the allocation is ciphertext, opened only with a key, every view audited."""

import base64
import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from magtrial import crypto
from magtrial.core import allocation as alloc
from magtrial.core.diary import DiaryValues
from magtrial.errors import Forbidden, NotFound, ValidationError
from magtrial.service import Actor, Context, Role, accounts, audit, diary, trials, unblinding
from tests.helpers import ADULT, KEY_PASSPHRASE, sample_protocol


def encodings(allocation: alloc.Allocation) -> list[str]:
    """Every way the secret could plausibly be written down."""
    names = [a.value for a in allocation.sequence]
    salt = bytes.fromhex(allocation.salt)
    return [
        allocation.salt,
        allocation.salt.upper(),
        base64.b64encode(salt).decode(),
        base64.urlsafe_b64encode(salt).decode().rstrip("="),
        ",".join(names),
        json.dumps(names),
        json.dumps(names, separators=(",", ":")),
        allocation.letters,
    ]


def every_value(db) -> list[str]:
    """Every column of every row of every table, as text."""
    values = []
    with db.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                values.extend(v.hex() if isinstance(v, bytes) else str(v) for v in row)
    return values


def test_the_database_holds_neither_sequence_nor_salt_in_any_encoding(
    db, clinician, running_trial, patient, pharmacist, pharm_key
):
    diary.add_entry(patient, running_trial.trial_id, dt.date.today(), DiaryValues(4, 5, 1))
    unblinding.packs(pharmacist, running_trial.trial_id, pharm_key)  # opening it writes nothing secret
    secret = unblinding.pharmacist_record(pharmacist, running_trial.trial_id, pharm_key, "test").allocation
    haystack = "\n".join(every_value(db))
    leaks = [e for e in encodings(secret) if e in haystack]
    assert leaks == []
    if db.is_sqlite:  # and in the raw file and its write-ahead log, page by page
        path = Path(db.engine.url.database)
        raw = b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())
        assert not [e for e in encodings(secret) if e.encode() in raw or e.encode("utf-16-le") in raw]


def test_sealed_boxes_have_the_same_length_for_every_allocation(key_files):
    recipients = [k.info for _, k in key_files.values()]
    lengths = set()
    for sequence in alloc.possible_sequences(alloc.Design.PAIRED, 4):
        allocation = alloc.Allocation(alloc.Design.PAIRED, sequence, "ab" * 32)
        sealed = crypto.seal(
            alloc.canonical_bytes("mt-00000000", allocation.design, sequence, allocation.salt), recipients
        )
        lengths.add(len(sealed))
    assert len(lengths) == 1


def test_without_a_key_the_pack_list_and_unblinding_are_refused(clinician, running_trial, pharmacist, tmp_path):
    with pytest.raises(ValidationError, match="needs an unblinding key"):
        unblinding.unblind(clinician, running_trial.trial_id, None, reason="curious")
    stranger = crypto.generate_key_file(tmp_path / "other.key", "pharmacist", "ph-ann", KEY_PASSPHRASE)
    other = crypto.unlock(tmp_path / "other.key", KEY_PASSPHRASE)
    assert other.fingerprint == stranger.fingerprint
    with pytest.raises(Forbidden, match="is not one of the keys"):
        unblinding.packs(pharmacist, running_trial.trial_id, other)
    with pytest.raises(Forbidden, match="is not one of the keys"):
        unblinding.unblind(clinician, running_trial.trial_id, other, reason="curious")
    assert trials.record(clinician, running_trial.trial_id).status == "active"


def test_a_wrong_passphrase_is_a_clear_refusal(key_files):
    path, _ = key_files["pharmacist"]
    with pytest.raises(Forbidden, match="wrong passphrase"):
        crypto.unlock(path, "not the passphrase")


@pytest.mark.parametrize("who", ["clinician", "patient"])
def test_blinded_roles_cannot_open_the_allocation_even_with_a_key(request, running_trial, pharm_key, who):
    ctx = request.getfixturevalue(who)
    with pytest.raises(Forbidden, match=f"a {ctx.actor.role.value} may not open the allocation"):
        unblinding.pharmacist_record(ctx, running_trial.trial_id, pharm_key, "curious")


def test_with_the_key_the_pharmacist_sees_packs_and_every_view_is_audited(
    clinician, running_trial, pharmacist, pharm_key
):
    packs = unblinding.packs(pharmacist, running_trial.trial_id, pharm_key)
    assert [n for n, _ in packs] == list(range(1, 7))
    assert sorted(arm for _, arm in packs) == ["comparator"] * 3 + ["magnesium"] * 3
    unblinding.pharmacist_record(pharmacist, running_trial.trial_id, pharm_key, "interim analysis")
    views = [e for e in audit.trail(clinician, running_trial.trial_id) if e.action == "allocation.view"]
    assert [v.new["purpose"] for v in views] == ["prepare packs", "interim analysis"]
    assert all(v.actor == "ph-ann" and v.new["key"] == pharm_key.fingerprint for v in views)


def test_unblinding_with_the_emergency_key_reveals_a_sequence_matching_the_commitment(
    db, clinician, running_trial, pharmacist, pharm_key, emergency_key
):
    secret = unblinding.pharmacist_record(pharmacist, running_trial.trial_id, pharm_key, "compare").allocation
    assert unblinding.verify_commitment(clinician, running_trial.trial_id).ok is None  # sealed
    with pytest.raises(ValidationError, match="needs a reason"):
        unblinding.unblind(clinician, running_trial.trial_id, emergency_key)
    revealed = unblinding.unblind(clinician, running_trial.trial_id, emergency_key, reason="suspected toxicity")
    assert revealed == secret
    check = unblinding.verify_commitment(clinician, running_trial.trial_id)
    assert check.ok and check.sequence == secret.letters
    assert trials.record(clinician, running_trial.trial_id).allocation == secret
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE sealed_allocations SET revealed_salt = :s"), {"s": "0" * 64})
    assert unblinding.verify_commitment(clinician, running_trial.trial_id).ok is False


def test_a_sealed_box_that_does_not_match_the_commitment_is_refused(
    db, clinician, running_trial, emergency_key, key_files
):
    forged = alloc.Allocation(alloc.Design.PAIRED, next(alloc.possible_sequences(alloc.Design.PAIRED, 3)), "cd" * 32)
    box = crypto.seal(
        alloc.canonical_bytes(running_trial.trial_id, forged.design, forged.sequence, forged.salt),
        [k.info for _, k in key_files.values()],
    )
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE sealed_allocations SET sealed = :s"), {"s": box})
    with pytest.raises(Exception, match="does not match its published commitment"):
        unblinding.unblind(clinician, running_trial.trial_id, emergency_key, reason="end")


def test_an_account_sees_only_its_own_trials(db, clinician, running_trial):
    other_doctor = Context(db, Actor("dr-roe", Role.CLINICIAN))
    accounts.add_account(clinician, "dr-roe", Role.CLINICIAN)
    theirs = trials.create_trial(other_doctor, sample_protocol(), "P-002", ADULT, start_date=running_trial.start_date)
    p1, p2 = Context(db, Actor("P-001", Role.PATIENT)), Context(db, Actor("P-002", Role.PATIENT))
    assert [t["id"] for t in trials.list_trials(p1)] == [running_trial.trial_id]
    assert [t["id"] for t in trials.list_trials(clinician)] == [running_trial.trial_id]
    assert [t["id"] for t in trials.list_trials(other_doctor)] == [theirs.trial_id]
    for ctx, foreign in ((p2, running_trial.trial_id), (p1, theirs.trial_id), (clinician, theirs.trial_id)):
        with pytest.raises(NotFound):
            trials.record(ctx, foreign)
        with pytest.raises(NotFound):
            audit.trail(ctx, foreign)
    with pytest.raises(NotFound):
        diary.add_entry(p2, running_trial.trial_id, dt.date.today(), DiaryValues(3, 3, 0))


def test_blinded_views_are_identical_for_every_allocation_the_design_allows(
    db, clinician, running_trial, patient, key_files
):
    """Re-seal the trial with each of the 8 allowed sequences: nothing a blinded person sees changes."""
    from magtrial.export.csv_long import long_rows

    for back in range(0, 6):
        diary.add_entry(
            patient,
            running_trial.trial_id,
            dt.date.today() - dt.timedelta(days=back),
            DiaryValues(3 + back % 4, 6, 1, side_effects=frozenset({"diarrhoea"}) if back == 2 else ()),
        )
    recipients = [k.info for _, k in key_files.values()]
    views = set()
    sequences = list(alloc.possible_sequences(alloc.Design.PAIRED, 3))
    assert len(sequences) == 8
    for sequence in sequences:
        allocation = alloc.Allocation(alloc.Design.PAIRED, sequence, "ef" * 32)
        plain = alloc.canonical_bytes(running_trial.trial_id, allocation.design, sequence, allocation.salt)
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE sealed_allocations SET sealed = :s"), {"s": crypto.seal(plain, recipients)})
        seen = []
        for ctx in (patient, clinician):
            rec = trials.record(ctx, running_trial.trial_id)
            seen.append(repr(dataclasses.replace(rec, audit_head="")))
            seen.append(repr(audit.trail(ctx, running_trial.trial_id)))
            seen.append(repr(diary.versions(ctx, running_trial.trial_id)))
            seen.append(repr(list(long_rows(rec))))
            seen.append(repr(trials.today(ctx, running_trial.trial_id)))
        views.add("\n".join(seen))
    assert len(views) == 1
