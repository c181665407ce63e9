"""Amendments of a running trial: from the next period only, new sealed order for added cycles, audited."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from magtrial.core import allocation as alloc
from magtrial.core.amendment import plan_amendment
from magtrial.core.schedule import build_schedule
from magtrial.core.versions import version_on, versions
from magtrial.errors import Forbidden, SafetyBlocked, ValidationError
from magtrial.service import amendments, trials, unblinding
from magtrial.service.access import Actor, Role
from magtrial.service.context import Context
from magtrial.store import audit, replay
from magtrial.store.amendment_models import AmendmentRow
from magtrial.store.models import AuditEventRow, SealedAllocationRow, TrialRow

from .helpers import sample_protocol


def snapshot(ctx: Context, trial_id: str) -> tuple[str | None, str, str]:
    with ctx.db.reader() as s:
        sealed = s.get(SealedAllocationRow, trial_id)
        row = s.get(TrialRow, trial_id)
        return sealed.sealed, row.commitment, sealed.design


def past_periods(ctx: Context, trial_id: str, upto: int) -> list[tuple[int, dt.date, dt.date, dt.date]]:
    rec = trials.record(ctx, trial_id)
    return [(p.number, p.start, p.end, p.analysis_start) for p in rec.schedule.periods[:upto]]


def test_adding_two_cycles_leaves_the_original_sealed_box_and_commitment_byte_identical(clinician, running_trial):
    before = snapshot(clinician, running_trial.trial_id)
    periods_before = past_periods(clinician, running_trial.trial_id, 6)
    result = amendments.amend(clinician, running_trial.trial_id, {}, "answer not clear yet", add_cycles=2)
    assert snapshot(clinician, running_trial.trial_id) == before
    assert result.cycles_added == 2 and result.first_added_period == 7 and len(result.commitment) == 64
    assert past_periods(clinician, running_trial.trial_id, 6) == periods_before
    rec = trials.record(clinician, running_trial.trial_id)
    assert rec.protocol.cycles == 5 and len(rec.schedule.periods) == 10 and rec.blinded
    with clinician.db.reader() as s:
        row = s.execute(select(AmendmentRow)).scalar_one()
        assert row.sealed != before[0] and row.revealed_sequence is None
        assert not list(replay.differences(s))  # the protocol amendment is replayed from the audit trail


def test_unblinding_reveals_every_cycle_and_each_part_verifies(
    clinician, running_trial, emergency_key, pharmacist, pharm_key
):
    trial_id = running_trial.trial_id
    amendments.amend(clinician, trial_id, {}, "longer trial", add_cycles=2)
    amendments.amend(clinician, trial_id, {"period_days": 10}, "longer periods", add_cycles=1)
    packs = unblinding.packs(pharmacist, trial_id, pharm_key)
    assert [n for n, _ in packs] == list(range(1, 13))
    revealed = unblinding.unblind(clinician, trial_id, emergency_key, reason="test")
    assert len(revealed.sequence) == 12 and len(revealed.added) == 2
    assert [a.value for a in revealed.sequence] == [arm for _, arm in packs]
    for cycle in range(6):  # paired design: every cycle holds both arms, added ones too
        assert set(revealed.sequence[2 * cycle : 2 * cycle + 2]) == {alloc.Arm.MAGNESIUM, alloc.Arm.COMPARATOR}
    rec = trials.record(clinician, trial_id)
    assert rec.allocation == revealed
    check = unblinding.verify_commitment(clinician, trial_id)
    assert check.ok and len(check.sequence) == 12
    with clinician.db.reader() as s:
        assert not list(replay.differences(s))
        stored = s.get(SealedAllocationRow, trial_id)
        assert len(stored.revealed_sequence.split(",")) == 6  # the original draw stays the original length
        assert alloc.verify_commitment(
            running_trial.commitment, trial_id, stored.design, stored.revealed_sequence.split(","), stored.revealed_salt
        )


def test_a_tampered_added_part_fails_verification(clinician, running_trial, emergency_key):
    trial_id = running_trial.trial_id
    amendments.amend(clinician, trial_id, {}, "longer", add_cycles=1)
    unblinding.unblind(clinician, trial_id, emergency_key, reason="test")
    with clinician.db.transaction() as s:
        row = s.execute(select(AmendmentRow)).scalar_one()
        row.revealed_sequence = ",".join(reversed(row.revealed_sequence.split(",")))
    assert unblinding.verify_commitment(clinician, trial_id).ok is False


def test_a_started_or_past_period_cannot_change(clinician, running_trial):
    trial_id = running_trial.trial_id
    before = past_periods(clinician, trial_id, 2)
    result = amendments.amend(clinician, trial_id, {"period_days": 14, "washout_days": 2}, "slower response")
    assert result.from_period == 3 and result.version == 2  # period 2 started today: it keeps version 1
    assert past_periods(clinician, trial_id, 2) == before
    rec = trials.record(clinician, trial_id)
    assert [p.days for p in rec.schedule.periods] == [7, 7, 14, 14, 14, 14]
    today = dt.date.today()
    assert version_on(rec.protocol, rec.schedule, today) == 1
    assert version_on(rec.protocol, rec.schedule, rec.schedule.period(3).start) == 2
    # every period has started by the time the last has: nothing left to change
    late = Context(clinician.db, clinician.actor, lambda: dt.datetime.now(dt.UTC) + dt.timedelta(days=70))
    with pytest.raises(ValidationError, match="every period has started"):
        amendments.amend(late, trial_id, {"period_days": 21}, "too late")


def test_refusals_change_nothing(clinician, running_trial, db):
    trial_id = running_trial.trial_id
    with db.reader() as s:
        head = audit.current_head(s)
    cases = [
        ({"design": "counterbalanced"}, "reason", {}, ValidationError, "cannot change from the next period"),
        ({"period_days": 14}, "  ", {}, ValidationError, "needs a reason"),
        ({}, "reason", {}, ValidationError, "changes nothing"),
        ({"period_days": 2}, "reason", {}, ValidationError, "period length must be 3-84"),
        ({}, "reason", {"add_cycles": 20}, ValidationError, "cycles must be 1-12"),
        ({}, "reason", {"reminder_times": ["25:00"]}, ValidationError, "HH:MM"),
    ]
    for changes, reason, extra, error, message in cases:
        with pytest.raises(error, match=message):
            amendments.amend(clinician, trial_id, changes, reason, **extra)
    patient = Context(db, Actor("P-001", Role.PATIENT))
    with pytest.raises(Forbidden):
        amendments.amend(patient, trial_id, {"period_days": 14}, "reason")
    with db.reader() as s:
        assert audit.current_head(s) == head
        assert s.execute(select(AmendmentRow)).first() is None


def test_a_blocked_dose_is_refused_and_a_caution_needs_the_clinician(clinician, running_trial, db):
    trial_id = running_trial.trial_id
    huge = {**running_trial.protocol.product.__dict__, "units_per_day": 40}
    product = {k: (v.value if hasattr(v, "value") else v) for k, v in huge.items() if v is not None}
    with pytest.raises(SafetyBlocked):
        amendments.amend(clinician, trial_id, {"product": product}, "more magnesium")
    higher = {**product, "units_per_day": 4}  # 400 mg/day: above the upper limit, needs the clinician
    with pytest.raises(SafetyBlocked, match="acknowledge"):
        amendments.amend(clinician, trial_id, {"product": higher}, "more magnesium")
    result = amendments.amend(clinician, trial_id, {"product": higher}, "more magnesium", clinician_ack=True)
    assert result.safety_verdict is not None and "product" in result.changes
    rec = trials.record(clinician, trial_id)
    assert [v.protocol.product.units_per_day for v in versions(rec.protocol)] == [2, 4]
    with db.reader() as s:
        actions = [e.action for e in s.execute(select(AuditEventRow).order_by(AuditEventRow.seq)).scalars()]
        assert actions[-3:] == ["protocol.amend", "trial.amendment", "safety.acknowledge"]


def test_reminder_times_change_without_a_new_version(clinician, running_trial):
    trial_id = running_trial.trial_id
    result = amendments.amend(clinician, trial_id, {}, "works nights", reminder_times=["21:30", "09:00"])
    assert result.changes["reminder_times"][1] == ["09:00", "21:30"] and result.version == 1
    rec = trials.record(clinician, trial_id)
    assert rec.extra["safety"]["timetable"] == ["09:00", "21:30"]
    listed = amendments.list_amendments(clinician, trial_id)
    assert listed[0]["reason"] == "works nights" and "reminder times" in listed[0]["changes"]


def test_core_plan_keeps_earlier_versions_and_rebuilds_the_past_calendar():
    start = dt.date(2026, 1, 1)
    p = sample_protocol()
    today = build_schedule(p, start).period(2).start + dt.timedelta(days=1)
    plan = plan_amendment(p, start, today, {"period_days": 10}, add_cycles=1)
    assert plan.from_period == 3 and plan.first_added_period == 7
    old, new = build_schedule(p, start), build_schedule(plan.protocol, start)
    assert old.periods[:2] == new.periods[:2]
    assert [v.periods for v in versions(plan.protocol)] == ["periods 1-2", "periods 3-8"]
    assert json.loads(json.dumps(plan.protocol.to_dict())) == plan.protocol.to_dict()


def test_audit_replay_catches_an_edited_or_deleted_amendment(clinician, running_trial, db):
    trial_id = running_trial.trial_id
    amendments.amend(clinician, trial_id, {}, "longer", add_cycles=1)
    with db.transaction() as s:
        row = s.execute(select(AmendmentRow)).scalar_one()
        row.commitment = "0" * 64
    with db.reader() as s:
        assert any("amendment 1 differs from the audit trail" in d for d in replay.differences(s))
    with db.transaction() as s:
        s.delete(s.execute(select(AmendmentRow)).scalar_one())
    with db.reader() as s:
        assert any("amendment 1 was recorded (audited) but is missing" in d for d in replay.differences(s))


def test_a_counterbalanced_trial_cannot_add_cycles_but_may_change_the_next_period():
    start = dt.date(2026, 1, 1)
    p = sample_protocol(design="counterbalanced", cycles=2)
    today = build_schedule(p, start).period(1).start
    with pytest.raises(ValidationError, match="counterbalanced"):
        plan_amendment(p, start, today, {}, add_cycles=2)
    assert plan_amendment(p, start, today, {"washout_days": 2}).from_period == 2


def test_the_analysis_names_the_protocol_version_of_its_days():
    import dataclasses

    from magtrial.core.analysis import analyze

    from .record_factory import make_record

    rec = make_record(blinded=False, cycles=4, corrections=False)
    p = rec.protocol
    amended = p.with_changes(
        carryover_days=p.carryover_days + 3,
        earlier_versions=({"version": 1, "until_period": 4, "protocol": p.to_dict()},),
    )
    result = analyze(dataclasses.replace(rec, protocol=amended))
    v1, v2 = result.model["protocol_versions"]
    assert (v1["version"], v1["periods"], v2["version"], v2["periods"]) == (1, "periods 1-4", 2, "periods 5-8")
    assert v1["analysed_days"] + v2["analysed_days"] == result.effect.n_days
    assert v2["analysed_days"] < v1["analysed_days"]  # a longer carry-over window from period 5 on
    assert result.to_dict()["model"]["protocol_versions"] == [v1, v2]


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # the raw file is SQLite's
def test_the_added_order_and_salt_are_nowhere_in_the_database_file(clinician, running_trial, pharm_key, db):
    from magtrial.service import allocation_parts

    trial_id = running_trial.trial_id
    amendments.amend(clinician, trial_id, {}, "longer", add_cycles=2)
    with db.reader() as s:
        (part,) = allocation_parts.open_parts(s, trial_id, "paired", pharm_key)
    db.dispose()
    path = Path(db.url.removeprefix("sqlite:///"))
    raw = b"".join(f.read_bytes() for f in path.parent.glob(path.name + "*"))  # with any -wal or -journal
    assert part.salt.encode() not in raw and bytes.fromhex(part.salt) not in raw
    assert ",".join(a.value for a in part.sequence).encode() not in raw
