"""Adaptive stopping: the rule, its sealed evaluation by the pharmacist, one message for benefit and futility."""

from __future__ import annotations

import datetime as dt

import pytest

from magtrial.core import planning
from magtrial.core.allocation import Arm
from magtrial.core.diary import DiaryValues
from magtrial.core.protocol import Protocol
from magtrial.core.stopping import (
    MESSAGES,
    Decision,
    Outcome,
    Status,
    StoppingRule,
    evaluate,
    public_status,
    sealed_payload,
)
from magtrial.core.stopping_sim import simulate_adaptive
from magtrial.errors import Conflict, Forbidden, ProtocolError, ValidationError
from magtrial.service import Actor, Context, Role, audit, diary, trials, unblinding
from magtrial.service import stopping as service
from magtrial.store.stopping_models import StoppingDecisionRow
from tests import test_web_support as support
from tests.helpers import ADULT, KEY_PASSPHRASE, sample_protocol

web = support.web  # the fixture

RULE = {"min_cycles": 1}


def test_benefit_and_futility_give_the_same_message():
    assert public_status(Outcome.BENEFIT) is public_status(Outcome.FUTILITY) is Status.COMPLETE
    benefit = MESSAGES[public_status(Outcome.BENEFIT)]
    futility = MESSAGES[public_status(Outcome.FUTILITY)]
    assert benefit == futility
    assert MESSAGES[public_status(Outcome.CONTINUE)] != benefit


def test_rule_stops_for_benefit_for_futility_or_continues():
    from scipy.stats import norm

    rule = StoppingRule()
    assert evaluate(rule, norm(-2.0, 0.3).cdf, 2).outcome is Outcome.BENEFIT  # P(effect <= -1) ~ 1
    assert evaluate(rule, norm(0.5, 0.3).cdf, 2).outcome is Outcome.FUTILITY  # P(effect > -0.5) ~ 1
    assert evaluate(rule, norm(-0.8, 0.5).cdf, 2).outcome is Outcome.CONTINUE
    assert evaluate(rule, norm(-2.0, 0.3).cdf, 1).outcome is Outcome.CONTINUE  # before min_cycles (2)
    d = evaluate(rule, norm(-1.0, 1.0).cdf, 2)
    assert d.p_benefit == pytest.approx(0.5) and d.p_futility == pytest.approx(norm(-1, 1).sf(-0.5))


def test_sealed_reason_has_the_same_length_for_benefit_and_futility():
    a = sealed_payload("mt-12345678", Decision(2, Outcome.BENEFIT, 0.987654, 0.0))
    b = sealed_payload("mt-12345678", Decision(2, Outcome.FUTILITY, 0.0001, 0.95))
    c = sealed_payload("mt-12345678", Decision(2, Outcome.CONTINUE, 1.0, 1.0))
    assert len(a) == len(b) == len(c)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"benefit_effect": 0.5}, "benefit_effect must be below 0"),
        ({"futility_effect": -2.0}, "futility_effect must be at least"),
        ({"benefit_probability": 1.0}, "benefit_probability must be"),
        ({"futility_probability": 0.2}, "futility_probability must be"),
        ({"min_cycles": 3}, "min_cycles"),  # the sample protocol has 3 cycles: it could never stop early
        ({"benefit_effect": float("nan")}, "stopping.benefit_effect"),
        ({"surprise": 1}, "unknown key stopping.surprise"),
    ],
)
def test_bad_rules_are_refused_naming_the_key(changes, message):
    with pytest.raises(ProtocolError, match=message):
        Protocol.from_dict({**sample_protocol().to_dict(), "stopping": changes})


def test_the_rule_is_opt_in_and_round_trips_through_the_protocol():
    assert sample_protocol().stopping is None and "stopping" not in sample_protocol().to_dict()
    p = sample_protocol(stopping=RULE)
    assert p.stopping == StoppingRule(min_cycles=1)
    assert Protocol.from_dict(p.to_dict()) == p


# --- the service: the pharmacist's key evaluates, everyone else sees only the status -------------------


def _diary(patient: Context, trial: str, start: dt.date, magnesium: set[int], mag_pain: int, other_pain: int, days):  # type: ignore[no-untyped-def]
    """Diary from the run-in to ``days`` days after ``start``; a small day-to-day wobble so the model can fit."""
    protocol = sample_protocol()
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        plan_day = offset - protocol.run_in_days
        period = plan_day // protocol.period_days + 1 if plan_day >= 0 else None
        base = 5 if period is None else (mag_pain if period in magnesium else other_pain)
        avg = base + offset % 2
        diary.add_entry(patient, trial, day, DiaryValues(avg, min(avg + 1, 10), 3))


def _stopping_trial(db, clinician, pharmacist, pharm_key, *, mag_pain, other_pain, participant="P-001", ended=2):  # type: ignore[no-untyped-def]
    """A 3-cycle trial with a rule evaluated from cycle 1, ``ended`` cycles already over, diary written."""
    protocol = sample_protocol(stopping=RULE)
    days = protocol.run_in_days + ended * 2 * protocol.period_days
    start = dt.date.today() - dt.timedelta(days=days + 1)
    trial = trials.create_trial(clinician, protocol, participant, ADULT, start_date=start).trial_id
    packs = dict(unblinding.packs(pharmacist, trial, pharm_key))
    magnesium = {p for p, arm in packs.items() if arm == Arm.MAGNESIUM.value}
    _diary(Context(db, Actor(participant, Role.PATIENT)), trial, start, magnesium, mag_pain, other_pain, days)
    return trial


def _public(ctx: Context, trial: str) -> dict:  # type: ignore[type-arg]
    return {**service.status(ctx, trial).to_dict(), "trial": "<id>"}


def test_benefit_and_futility_stops_look_the_same_to_blinded_people(db, clinician, pharmacist, pharm_key):
    good = _stopping_trial(db, clinician, pharmacist, pharm_key, mag_pain=2, other_pain=7)
    none = _stopping_trial(db, clinician, pharmacist, pharm_key, mag_pain=6, other_pain=5)
    patient = Context(db, Actor("P-001", Role.PATIENT))
    assert (
        _public(patient, good)
        == _public(patient, none)
        == {
            "trial": "<id>",
            "adaptive": True,
            "cycles_evaluated": 0,
            "status": "continue",
            "message": MESSAGES[Status.CONTINUE],
        }
    )
    for trial in (good, none):
        assert service.evaluate(pharmacist, trial, pharm_key).status is Status.COMPLETE
    for ctx in (patient, clinician, pharmacist):
        assert _public(ctx, good) == _public(ctx, none)
    assert _public(patient, good)["message"] == MESSAGES[Status.COMPLETE]
    assert _public(patient, good)["cycles_evaluated"] == 1  # both stopped after the first cycle
    # The audit trail a blinded person may read says the same, but for ids and the digest of the sealed box.
    for_events = []
    for trial in (good, none):
        events = [e for e in audit.trail(clinician, trial) if e.action == "stopping.decision"]
        for_events.append([{k: v for k, v in e.new.items() if k != "sealed_sha256"} for e in events])
    assert for_events[0] == for_events[1] == [{"cycle": 1, "status": "complete", "trial_status": "stopped"}]
    with db.reader() as s:
        boxes = {r.trial_id: r.sealed for r in s.query(StoppingDecisionRow)}
    assert len(boxes[good]) == len(boxes[none])
    assert b"benefit" not in boxes[good].encode() and b"futility" not in boxes[none].encode()
    # Only an unblinding key opens the reason.
    assert service.open_reasons(pharmacist, good, pharm_key)[0]["reason"] == "benefit"
    assert service.open_reasons(pharmacist, none, pharm_key)[0]["reason"] == "futility"
    assert audit.verify(clinician).ok


def test_a_stop_closes_the_diary_and_later_evaluations_change_nothing(
    db, clinician, pharmacist, pharm_key, emergency_key
):
    trial = _stopping_trial(db, clinician, pharmacist, pharm_key, mag_pain=2, other_pain=7)
    service.evaluate(pharmacist, trial, pharm_key)
    assert trials.record(clinician, trial).status == "stopped"
    patient = Context(db, Actor("P-001", Role.PATIENT))
    with pytest.raises(Conflict, match="stopped"):
        diary.add_entry(patient, trial, dt.date.today(), DiaryValues(3, 4, 2))
    again = service.evaluate(pharmacist, trial, pharm_key)
    assert again.cycles_evaluated == 1 and again.status is Status.COMPLETE
    with db.reader() as s:
        assert s.query(StoppingDecisionRow).count() == 1
    # The clinician's reason stays sealed until unblinding (early: the planned calendar has not ended).
    with pytest.raises(Conflict, match="not unblinded"):
        service.open_reasons(clinician, trial, emergency_key)
    unblinding.unblind(clinician, trial, emergency_key, reason="the stopping rule was met")
    assert [d["reason"] for d in service.open_reasons(clinician, trial, emergency_key)] == ["benefit"]
    assert audit.verify(clinician).ok


def test_before_min_cycles_the_rule_says_continue(db, clinician, pharmacist, pharm_key):
    protocol = sample_protocol(stopping={"min_cycles": 2})
    start = dt.date.today() - dt.timedelta(days=protocol.run_in_days + 2 * protocol.period_days + 1)
    trial = trials.create_trial(clinician, protocol, "P-001", ADULT, start_date=start).trial_id
    packs = dict(unblinding.packs(pharmacist, trial, pharm_key))
    magnesium = {p for p, arm in packs.items() if arm == Arm.MAGNESIUM.value}
    days = protocol.run_in_days + 2 * protocol.period_days
    _diary(Context(db, Actor("P-001", Role.PATIENT)), trial, start, magnesium, 1, 8, days)
    result = service.evaluate(pharmacist, trial, pharm_key)
    assert (result.cycles_evaluated, result.status) == (1, Status.CONTINUE)
    assert trials.record(clinician, trial).status == "active"
    assert service.evaluate(pharmacist, trial, pharm_key).cycles_evaluated == 1  # nothing new to evaluate


def test_only_the_pharmacist_evaluates_and_only_a_rule_can_be_evaluated(db, clinician, pharmacist, pharm_key):
    trial = _stopping_trial(db, clinician, pharmacist, pharm_key, mag_pain=5, other_pain=5, ended=1)
    with pytest.raises(Forbidden):
        service.evaluate(clinician, trial, pharm_key)
    with pytest.raises(Forbidden):
        service.evaluate(Context(db, Actor("P-001", Role.PATIENT)), trial, pharm_key)
    fixed = trials.create_trial(clinician, sample_protocol(), "P-002", ADULT).trial_id
    with pytest.raises(ValidationError, match="fixed design"):
        service.evaluate(pharmacist, fixed, pharm_key)
    assert service.status(clinician, fixed).to_dict()["status"] is None
    with db.reader() as s:
        assert s.query(StoppingDecisionRow).count() == 0


# --- the simulation `magtrial plan --adaptive` runs -----------------------------------------------------


def test_adaptive_simulation_keeps_false_positives_near_the_fixed_design_and_stops_earlier():
    spec = planning.DesignSpec(cycles=4, effect=-1.5)
    result = simulate_adaptive(spec, StoppingRule(), 600, seed=11)
    null, alt = result.null, result.alternative
    assert null.adaptive_claims <= null.fixed_claims + 0.02
    assert null.mean_cycles < 4 and alt.mean_cycles < 4  # futility stops without an effect, benefit with one
    assert alt.adaptive_claims > null.adaptive_claims
    assert null.stopped_futility > alt.stopped_futility
    assert "false-positive rate" in result.text and len(result.summary) == 2


def test_adaptive_simulation_refuses_a_rule_that_cannot_stop_early():
    with pytest.raises(ValidationError, match="min_cycles"):
        simulate_adaptive(planning.DesignSpec(cycles=2), StoppingRule(min_cycles=2), 10)


def test_plan_adaptive_prints_the_table_and_refuses_bad_rules(run):
    out = run("plan", "--adaptive", "--cycles", "3", "--trials", "200", "--period-days", "7").output
    assert "false-positive rate" in out and "adaptive" in out and "fixed" in out
    bad = run("plan", "--adaptive", "--stopping", "benefit_probability=2", ok=False)
    assert bad.exit_code == 1 and "stopping.benefit_probability must be" in bad.output
    bad = run("plan", "--adaptive", "--stopping", "nonsense", ok=False)
    assert bad.exit_code == 1 and "key=value" in bad.output


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_pages_and_api_are_byte_identical_for_benefit_and_futility_stops(web, db, clinician, pharmacist, key_files):  # type: ignore[no-untyped-def]
    import re

    from magtrial.service import tokens

    key_path, pharm_key = key_files["pharmacist"]
    good = _stopping_trial(db, clinician, pharmacist, pharm_key, mag_pain=2, other_pain=7)
    none = _stopping_trial(db, clinician, pharmacist, pharm_key, mag_pain=6, other_pain=5)
    pharmacy = web.login("ph-ann")
    for trial in (good, none):
        form = pharmacy.get(f"/pharmacy/{trial}").text
        assert f'action="/pharmacy/{trial}/stopping"' in form
        with open(key_path, "rb") as key:
            shown = pharmacy.post(
                f"/pharmacy/{trial}/stopping",
                data={"csrf": support.token(form), "passphrase": KEY_PASSPHRASE},
                files={"key": ("ph-ann.key", key)},
            )
        assert shown.status_code == 200 and MESSAGES[Status.COMPLETE] in shown.text
    bearer = {"Authorization": f"Bearer {tokens.create_token(Context(db, Actor('P-001', Role.PATIENT)), 't').secret}"}
    participant, clinic = web.login("P-001"), web.login("dr-lee")
    csrf = re.compile(r'name="csrf" value="[^"]+"')

    def same(client, url: str, headers=None) -> list[bytes]:  # type: ignore[no-untyped-def]
        out = []
        for trial in (good, none):
            body = client.get(url.format(trial=trial), headers=headers or {}).content.decode()
            out.append(csrf.sub("csrf", body.replace(trial, "<id>")).encode())
        return out

    for client, url, headers in (
        (participant, "/diary/{trial}", None),
        (clinic, "/clinic/trials/{trial}/blinding-check", None),
        (participant, "/api/v1/trials/{trial}/stopping", bearer),
    ):
        a, b = same(client, url, headers)
        assert a == b, url
        assert MESSAGES[Status.COMPLETE].encode() in a


def test_audit_verify_catches_a_stopping_decision_deleted_from_the_table(db, clinician, pharmacist, pharm_key):
    from sqlalchemy import delete

    trial = _stopping_trial(db, clinician, pharmacist, pharm_key, mag_pain=2, other_pain=7, ended=1)
    service.evaluate(pharmacist, trial, pharm_key)
    assert audit.verify(clinician).ok
    with db.transaction() as s:
        s.execute(delete(StoppingDecisionRow))
    report = audit.verify(clinician)
    assert not report.ok and f"trial {trial} cycle 1 stopping decision was recorded (audited) but is missing" in (
        report.problem
    )


def test_cli_status_and_check_on_a_fixed_design(run, tmp_path):
    from tests.helpers import setup_clinic
    from tests.test_cli import create

    keys = setup_clinic(run, tmp_path)
    trial, _ = create(run)
    assert "Fixed design: no stopping rule." in run("stopping", "status", trial).output
    refused = run("--user", "ph-ann", "stopping", "check", trial, "--key", keys["pharmacist"], ok=False)
    assert refused.exit_code == 1 and "fixed design" in refused.output
    forbidden = run("stopping", "check", trial, "--key", keys["emergency"], ok=False)
    assert forbidden.exit_code == 1 and "may not evaluate the stopping rule" in forbidden.output
