"""Co-interventions (CENT 4a): recorded by the clinician, counted by the safety total, flagged by period."""

import datetime as dt

import pytest
from sqlalchemy import text

from magtrial.core.clinic import CoInterventionKind, co_intervention, daily_magnesium, overlaps
from magtrial.core.schedule import build_schedule
from magtrial.data.safety import load_safety_rules
from magtrial.errors import Forbidden, NotFound, ValidationError
from magtrial.service import audit, clinic
from magtrial.store.db import Database
from tests import test_web_support as support
from tests.helpers import sample_protocol

web = support.web  # the fixture
TODAY = dt.date.today()
TABLES = ("co_interventions", "audit_events", "audit_head")


def snapshot(db: Database) -> dict[str, list]:
    with db.engine.connect() as conn:
        return {t: sorted(map(tuple, conn.execute(text(f"SELECT * FROM {t}"))), key=repr) for t in TABLES}


def test_iv_magnesium_in_clinic_raises_the_safety_total_for_that_day(running_trial, clinician):
    tid, day = running_trial.trial_id, TODAY - dt.timedelta(days=2)
    before = clinic.magnesium_on(clinician, tid, day)
    assert before.total_mg == 200.0 and before.iv_mg == 0  # 2 x 100 mg citrate, counted as if magnesium
    item = clinic.add_co_intervention(
        clinician, tid, day, "iv-magnesium", "magnesium sulfate in 250 mL saline over 4 h", dose="1 g"
    )
    # 1 g of MgSO4.7H2O at 9.9% elemental (salt table, D2) = 99 mg of magnesium.
    assert item.elemental_mg == pytest.approx(99.0)
    after = clinic.magnesium_on(clinician, tid, day)
    assert after.total_mg == pytest.approx(299.0) and after.iv_mg == pytest.approx(99.0)
    assert "magnesium sulfate" in after.sources[0]
    assert clinic.magnesium_on(clinician, tid, day + dt.timedelta(days=1)).total_mg == 200.0  # other days unchanged
    event = audit.trail(clinician, tid)[-1]
    assert event.action == "cointervention.add" and event.new["elemental_mg"] == pytest.approx(99.0)
    assert audit.verify(clinician).ok


def test_a_daily_infusion_course_counts_on_every_day_it_covers():
    sulfate = load_safety_rules().salt("sulfate").form("heptahydrate")
    start = dt.date(2026, 3, 2)
    course = co_intervention(
        start, "iv-magnesium", "MgSO4 IV daily", dose="4 mmol", last_day=start + dt.timedelta(days=13), sulfate=sulfate
    )
    assert course.elemental_mg == pytest.approx(97.2)  # 4 mmol x 24.305 mg
    assert daily_magnesium(start + dt.timedelta(days=13), 245.0, [course]).total_mg == pytest.approx(342.2)
    assert daily_magnesium(start + dt.timedelta(days=14), 245.0, [course]).total_mg == 245.0


def test_bad_co_interventions_are_refused_and_nothing_is_stored(db, running_trial, clinician, patient):
    tid, day = running_trial.trial_id, TODAY - dt.timedelta(days=1)
    before = snapshot(db)
    cases = {
        "no dose": (ValidationError, lambda: clinic.add_co_intervention(clinician, tid, day, "iv-magnesium", "IV")),
        "kilograms": (
            ValidationError,
            lambda: clinic.add_co_intervention(clinician, tid, day, "iv-magnesium", "IV", dose="1 kg"),
        ),
        "no unit": (
            ValidationError,
            lambda: clinic.add_co_intervention(clinician, tid, day, "iv-magnesium", "IV", dose="lots"),
        ),
        "unknown kind": (ValidationError, lambda: clinic.add_co_intervention(clinician, tid, day, "massage", "x")),
        "empty": (ValidationError, lambda: clinic.add_co_intervention(clinician, tid, day, "rescue-medication", " ")),
        "future": (
            ValidationError,
            lambda: clinic.add_co_intervention(clinician, tid, TODAY + dt.timedelta(days=2), "other", "x"),
        ),
        "ends before it starts": (
            ValidationError,
            lambda: clinic.add_co_intervention(clinician, tid, day, "other", "x", last_day=day - dt.timedelta(days=1)),
        ),
        "participant": (Forbidden, lambda: clinic.add_co_intervention(patient, tid, day, "other", "x")),
        "participant, bad input": (Forbidden, lambda: clinic.add_co_intervention(patient, tid, day, "massage", "")),
        "long given by": (
            ValidationError,
            lambda: clinic.add_co_intervention(clinician, tid, day, "other", "x", given_by="n" * 101),
        ),
        "unknown trial": (NotFound, lambda: clinic.add_co_intervention(clinician, "mt-nosuch", day, "other", "x")),
    }
    for name, (error, call) in cases.items():
        with pytest.raises(error):
            call()
        assert snapshot(db) == before, name


def test_the_blinded_participant_sees_the_timeline_items(running_trial, clinician, patient):
    tid = running_trial.trial_id
    clinic.add_co_intervention(
        clinician, tid, TODAY - dt.timedelta(days=3), CoInterventionKind.RESCUE, "tramadol 50 mg", dose="50 mg"
    )
    items = clinic.timeline(patient, tid)
    assert [(i.date, i.kind, i.description, i.dose) for i in items] == [
        (TODAY - dt.timedelta(days=3), "rescue-medication", "tramadol 50 mg", "50 mg")
    ]
    assert clinic.co_interventions(patient, tid)[0].recorded_by == "dr-lee"


def test_overlaps_name_the_periods_by_pack_number_only():
    schedule = build_schedule(sample_protocol(), dt.date(2026, 3, 1))  # run-in 3 days, then 6 periods of 7
    change = co_intervention(
        dt.date(2026, 3, 10), "medication-change", "pregabalin up to 150 mg", last_day=dt.date(2026, 3, 12)
    )
    run_in_only = co_intervention(dt.date(2026, 3, 1), "other", "physiotherapy")
    found = overlaps(schedule, [change, run_in_only])
    assert [o.period for o in found] == [1, 2]
    assert found[0].text == "period 1 (pack 1): medication-change: pregabalin up to 150 mg"


def test_cli_records_and_lists_co_interventions_measurements_and_late_approvals(run, tmp_path):
    from tests.helpers import setup_clinic
    from tests.test_cli import create

    setup_clinic(run, tmp_path)
    trial, _ = create(run)  # started 9 days ago: run-in 2 days, periods of 7
    day = (TODAY - dt.timedelta(days=1)).isoformat()
    out = run("cointervention", "add", trial, "--kind", "iv-magnesium", "--what", "MgSO4 IV", "--dose", "1 g",
              "--date", day).output  # fmt: skip
    assert "200 mg by mouth" in out and "99 mg IV = 299 mg elemental" in out
    assert "MgSO4 IV" in run("--user", "P-9", "cointervention", "list", trial).output  # the participant sees it
    run("measurement", "add", trial, "--item", "lumbar-flexion", "--value", "31", "--date", day)
    run("measurement", "add", trial, "--item", "brush-allodynia", "--absent", "--date", day)
    listed = run("measurement", "list", trial).output
    assert "31 degrees" in listed and "absent" in listed
    run("trial", "amend", trial, "--set", "late_window_hours=24", "--reason", "missed days need approval")
    old = (TODAY - dt.timedelta(days=5)).isoformat()
    refused = run("--user", "P-9", "diary", "add", trial, "--date", old, "--avg", "4", ok=False)
    assert refused.exit_code == 1 and "clinician approves" in refused.output
    run("diary", "approve-late", trial, "--date", old, "--reason", "paper diary while away")
    assert "flagged late" in run("--user", "P-9", "diary", "add", trial, "--date", old, "--avg", "4").output
    bad = run("cointervention", "add", trial, "--kind", "iv-magnesium", "--what", "x", "--dose", "60 g",
              "--date", day, ok=False)  # fmt: skip
    assert bad.exit_code == 1 and "not plausible" in bad.output
    bad = run("measurement", "add", trial, "--item", "lumbar-flexion", "--value", "999", "--date", day, ok=False)
    assert bad.exit_code == 1 and "lumbar-flexion must be 0-150 degrees" in bad.output


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_web_clinician_records_iv_magnesium_a_measurement_and_a_late_approval(web, clinician, pharmacist, pharm_key):
    from tests.test_web_support import assert_blinded, post, secrets_of

    hidden = secrets_of(web, pharmacist, pharm_key)
    client = web.login("dr-lee")
    base = f"/clinic/trials/{web.trial}"
    assert "clinic-record" in client.get(base).text
    day = (TODAY - dt.timedelta(days=1)).isoformat()
    form = {"kind": "iv-magnesium", "description": "MgSO4 IV", "dose": "1 g", "day": day}
    assert post(client, f"{base}/co-interventions", form, follow_redirects=False).status_code == 303
    post(client, f"{base}/measurements", {"item": "brush-allodynia", "finding": "present", "value": "12", "day": day})
    post(client, f"{base}/late-entries", {"day": (TODAY - dt.timedelta(days=6)).isoformat(), "reason": "paper diary"})
    page = client.get(f"{base}/clinic-record").text
    assert "MgSO4 IV" in page and "99 mg" in page and "present, 12 cm2" in page and "paper diary" in page
    assert_blinded(page, hidden)
    bad = post(client, f"{base}/co-interventions", {**form, "dose": "60 g"})
    assert bad.status_code == 422 and "not plausible" in bad.text
    assert post(client, f"{base}/measurements", {"item": "lumbar-flexion", "value": "x", "day": day}).status_code == 422
    participant = web.login("P-001")
    assert participant.get(f"{base}/clinic-record").status_code == 403
    assert post(participant, f"{base}/co-interventions", form).status_code == 403
    assert len(clinic.co_interventions(clinician, web.trial)) == 1


def test_audit_verify_names_a_co_intervention_or_measurement_edited_in_the_table(db, running_trial, clinician):
    tid, day = running_trial.trial_id, TODAY - dt.timedelta(days=1)
    clinic.add_co_intervention(clinician, tid, day, "iv-magnesium", "MgSO4 IV", dose="1 g")
    clinic.add_measurement(clinician, tid, day, "lumbar-flexion", 30)
    clinic.approve_late_entry(clinician, tid, day - dt.timedelta(days=4), "paper diary")
    assert audit.verify(clinician).ok
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE co_interventions SET dose = '0.1 g', elemental_mg = 9.9"))
    report = audit.verify(clinician)
    assert not report.ok and "co-intervention 1 differs from audit event" in report.problem
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE co_interventions SET dose = '1 g', elemental_mg = 99.0"))
        conn.execute(text("DELETE FROM clinic_measurements"))
    report = audit.verify(clinician)
    assert not report.ok and "measurement 1 was recorded" in report.problem and "missing" in report.problem


def test_analyze_flags_the_periods_a_co_intervention_overlapped(run, tmp_path):
    import json
    import re

    from tests.helpers import run_demo

    trial, as_clinician, _ = run_demo(run, tmp_path)
    shown = json.loads(as_clinician("trial", "show", trial, "--json").output)
    second = shown["periods"][1]
    start = second.get("start") or second.get("from")
    as_clinician("cointervention", "add", trial, "--kind", "rescue-medication", "--what", "tramadol", "--date", start)
    out = as_clinician("analyze", trial).output
    flag = re.search(
        r"Flag: a co-intervention overlapped period 2 \(pack 2\): rescue-medication: tramadol \[(\w+)\]", out
    )
    assert flag and flag.group(1) in ("magnesium", "comparator")
    data = json.loads(as_clinician("analyze", trial, "--json").output)
    assert data["co_intervention_overlaps"] == [f"period 2 (pack 2): rescue-medication: tramadol [{flag.group(1)}]"]
