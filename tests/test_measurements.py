"""Clinic measurements at period-end visits: entered by the clinician, by period while blinded, and a
paired comparison with the randomization test once unblinded."""

import datetime as dt

import pytest
from sqlalchemy import text

from magtrial.core.allocation import Allocation, Arm
from magtrial.core.analysis.secondary import compare_measurements
from magtrial.core.clinic import measurement, measurements_by_period
from magtrial.core.protocol import Design
from magtrial.core.schedule import build_schedule
from magtrial.errors import Forbidden, ValidationError
from magtrial.service import audit, clinic
from magtrial.store.db import Database
from tests.helpers import sample_protocol

TODAY = dt.date.today()
TABLES = ("clinic_measurements", "audit_events", "audit_head")
M, C = Arm.MAGNESIUM, Arm.COMPARATOR


def snapshot(db: Database) -> dict[str, list]:
    with db.engine.connect() as conn:
        return {t: sorted(map(tuple, conn.execute(text(f"SELECT * FROM {t}"))), key=repr) for t in TABLES}


def test_measurements_are_recorded_audited_and_read_by_period(running_trial, clinician, patient):
    tid = running_trial.trial_id
    end_of_period_1 = running_trial.schedule.periods[0].end  # a period-end visit (the trial started 10 days ago)
    clinic.add_measurement(clinician, tid, end_of_period_1, "lumbar-flexion", 22)
    clinic.add_measurement(clinician, tid, end_of_period_1, "brush-allodynia", 35.5, present=True, note="dorsum")
    clinic.add_measurement(clinician, tid, end_of_period_1, "pinprick-hyperalgesia", None, present=False)
    shown = [(m.item, m.shown) for m in clinic.measurements(patient, tid)]
    assert shown == [
        ("lumbar-flexion", "22 degrees"),
        ("brush-allodynia", "present, 35.5 cm2"),
        ("pinprick-hyperalgesia", "absent"),
    ]
    by_period = measurements_by_period(running_trial.schedule, clinic.measurements(patient, tid))
    assert by_period == {"brush-allodynia": {1: 35.5}, "lumbar-flexion": {1: 22.0}, "pinprick-hyperalgesia": {1: 0.0}}
    assert audit.trail(clinician, tid)[-1].action == "measurement.add"
    assert audit.verify(clinician).ok


def test_bad_measurements_are_refused_and_nothing_is_stored(db, running_trial, clinician, patient):
    tid, day = running_trial.trial_id, TODAY - dt.timedelta(days=1)
    before = snapshot(db)
    cases = {
        "unknown item": (ValidationError, lambda: clinic.add_measurement(clinician, tid, day, "grip-strength", 30)),
        "out of range": (ValidationError, lambda: clinic.add_measurement(clinician, tid, day, "lumbar-flexion", 400)),
        "negative": (ValidationError, lambda: clinic.add_measurement(clinician, tid, day, "lumbar-extension", -3)),
        "no value": (ValidationError, lambda: clinic.add_measurement(clinician, tid, day, "lumbar-flexion", None)),
        "present without area": (
            ValidationError,
            lambda: clinic.add_measurement(clinician, tid, day, "brush-allodynia", None, present=True),
        ),
        "absent with area": (
            ValidationError,
            lambda: clinic.add_measurement(clinician, tid, day, "brush-allodynia", 12, present=False),
        ),
        "exam without present": (
            ValidationError,
            lambda: clinic.add_measurement(clinician, tid, day, "brush-allodynia", 12),
        ),
        "degrees with present": (
            ValidationError,
            lambda: clinic.add_measurement(clinician, tid, day, "lumbar-flexion", 12, present=True),
        ),
        "not a number": (ValidationError, lambda: clinic.add_measurement(clinician, tid, day, "lumbar-flexion", "x")),
        "future": (
            ValidationError,
            lambda: clinic.add_measurement(clinician, tid, TODAY + dt.timedelta(days=2), "lumbar-flexion", 20),
        ),
        "before the trial": (
            ValidationError,
            lambda: clinic.add_measurement(
                clinician, tid, running_trial.start_date - dt.timedelta(days=1), "lumbar-flexion", 20
            ),
        ),
        "participant": (Forbidden, lambda: clinic.add_measurement(patient, tid, day, "lumbar-flexion", 20)),
    }
    for name, (error, call) in cases.items():
        with pytest.raises(error):
            call()
        assert snapshot(db) == before, name


def test_unblinded_comparison_is_paired_per_cycle_with_the_randomization_test():
    schedule = build_schedule(sample_protocol(), dt.date(2026, 3, 1))  # 3 cycles of 2 periods of 7 days
    allocation = Allocation(Design.PAIRED, (M, C, C, M, M, C), "salt")
    flexion = [25, 20, 21, 27, 30, 22]  # magnesium periods 1, 4, 5
    items = [measurement(p.end, "lumbar-flexion", v) for p, v in zip(schedule.periods, flexion, strict=True)]
    (result,) = compare_measurements(measurements_by_period(schedule, items), schedule, allocation)
    assert result.cycle_differences == ((1, 5.0), (2, 6.0), (3, 8.0))
    assert result.mean_difference == pytest.approx(19 / 3)
    # 8 possible orders; only the observed one and its mirror reach |difference| >= 19/3: p = 2/8.
    assert result.test.p_two_sided == pytest.approx(0.25) and result.test.n_sequences == 8
    assert "+6.3 degrees" in result.text and "higher is better" in result.text


def test_an_item_measured_in_one_cycle_only_has_no_test():
    schedule = build_schedule(sample_protocol(), dt.date(2026, 3, 1))
    allocation = Allocation(Design.PAIRED, (C, M, M, C, C, M), "salt")
    items = [
        measurement(schedule.periods[0].end, "brush-allodynia", 40, present=True),
        measurement(schedule.periods[1].end, "brush-allodynia", None, present=False),
    ]
    (result,) = compare_measurements(measurements_by_period(schedule, items), schedule, allocation)
    assert result.cycle_differences == ((1, -40.0),) and result.test is None
    assert "smaller is better" in result.text


def test_the_report_shows_co_interventions_and_measurements_blinded_then_the_comparison(
    running_trial, clinician, emergency_key
):
    from magtrial.report.build import build_context
    from magtrial.report.render import html_from_context
    from magtrial.service import trials, unblinding

    tid, periods = running_trial.trial_id, running_trial.schedule.periods
    clinic.add_co_intervention(clinician, tid, periods[0].end, "rescue-medication", "tramadol 50 mg", dose="50 mg")
    clinic.add_measurement(clinician, tid, periods[0].end, "lumbar-flexion", 24)
    blinded = html_from_context(build_context(trials.record(clinician, tid), charts=False))
    assert "tramadol 50 mg" in blinded and "period 1 (pack 1): rescue-medication: tramadol 50 mg" in blinded
    assert "24 degrees" in blinded and "compared between the arms after unblinding" in blinded
    assert "[magnesium]" not in blinded and "[comparator]" not in blinded
    assert "co-interventions: 1 recorded" in blinded  # CENT item 5
    unblinding.unblind(clinician, tid, emergency_key, reason="adverse event review")
    record = trials.record(clinician, tid)
    arm = record.allocation.arm_of_period(1).value
    unblinded = html_from_context(build_context(record, charts=False))
    assert f"tramadol 50 mg [{arm}]" in unblinded
    assert "Lumbar flexion (goniometer): no cycle has both periods measured" in unblinded
