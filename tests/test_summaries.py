"""Effect summaries cached at unblinding and streamed for pooling: blinded trials never appear."""

import dataclasses
import datetime as dt

import numpy as np
import pytest

from magtrial.core.pooling import pool, summary_from_stored
from magtrial.core.sim import Participant, simulate_diary
from magtrial.errors import ValidationError
from magtrial.service import Actor, Context, Role, diary, pooling, trials, unblinding
from magtrial.store.summaries import count_summaries, stream_summaries
from tests.helpers import ADULT, sample_protocol


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def run_trial(db, clinician, pharmacist, pharm_key, effect, seed, simulated=False):
    start = dt.date.today() - dt.timedelta(days=60)
    clock = Clock(dt.datetime.combine(start - dt.timedelta(days=1), dt.time(9), dt.UTC))
    doctor = Context(db, clinician.actor, clock)
    rec = trials.create_trial(doctor, sample_protocol(), f"P-{seed}", ADULT, start_date=start, simulated=simulated)
    secret = unblinding.pharmacist_record(pharmacist, rec.trial_id, pharm_key, "simulate a diary").allocation
    patient = Context(db, Actor(f"P-{seed}", Role.PATIENT), clock)
    for day in simulate_diary(
        rec.schedule, secret, Participant(effect=effect, missing_rate=0.05), np.random.default_rng(seed)
    ):
        if day.values is not None:
            clock.now = dt.datetime.combine(day.date, dt.time(20), dt.UTC)
            diary.add_entry(patient, rec.trial_id, day.date, day.values)
    clock.now = dt.datetime.combine(rec.schedule.end + dt.timedelta(days=1), dt.time(9), dt.UTC)
    return rec, doctor


def test_unblinding_caches_a_likelihood_and_only_unblinded_trials_stream(
    db, clinician, pharmacist, pharm_key, emergency_key
):
    done, doctor = run_trial(db, clinician, pharmacist, pharm_key, -2.0, 1)
    still_blinded, _ = run_trial(db, clinician, pharmacist, pharm_key, -2.0, 2)
    unblinding.unblind(doctor, done.trial_id, emergency_key, "trial complete")
    with db.reader() as s:
        assert count_summaries(s, "average_pain") == 1
        streamed = list(stream_summaries(s, "average_pain", batch=1))
    assert [x.trial_id for x in streamed] == [done.trial_id]
    mean, sd = streamed[0].likelihood.moments()
    assert -4.0 < mean < 0.0 and 0.1 < sd < 1.5
    assert streamed[0].elemental_mg_per_day == 200.0 and streamed[0].condition == "crps-1"
    assert still_blinded.trial_id not in {x.trial_id for x in streamed}


def test_simulated_trials_are_never_pooled(db, clinician, pharmacist, pharm_key, emergency_key):
    real, doctor = run_trial(db, clinician, pharmacist, pharm_key, -1.0, 4)
    demo, demo_doctor = run_trial(db, clinician, pharmacist, pharm_key, -6.0, 5, simulated=True)
    unblinding.unblind(doctor, real.trial_id, emergency_key, "trial complete")
    unblinding.unblind(demo_doctor, demo.trial_id, emergency_key, "trial complete")
    assert pooling.count(clinician) == 1
    assert pooling.pool_inputs(clinician).trial_ids == [real.trial_id]


def test_streamed_rows_carry_status_and_pooling_refuses_a_blinded_row(
    db, clinician, pharmacist, pharm_key, emergency_key
):
    done, doctor = run_trial(db, clinician, pharmacist, pharm_key, -1.0, 3)
    unblinding.unblind(doctor, done.trial_id, emergency_key, "trial complete")
    with db.reader() as s:
        (row,) = list(stream_summaries(s, "average_pain"))
    assert row.status == "unblinded" and row.outcome == "average_pain"
    blinded_copy = dataclasses.replace(row, status="active")
    with pytest.raises(ValidationError):
        pool([summary_from_stored(blinded_copy)])
