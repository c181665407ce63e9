"""Effect summaries cached at unblinding and streamed for pooling: blinded trials never appear."""

import dataclasses
import datetime as dt

import numpy as np
import pytest

from magtrial.core.pooling import pool, summary_from_stored
from magtrial.core.sim import Participant, simulate_diary
from magtrial.errors import ValidationError
from magtrial.service import Actor, Role, TrialService
from magtrial.store.summaries import count_summaries, stream_summaries
from tests.helpers import ADULT, sample_protocol


def run_trial(db, clinician, effect, seed):
    start = dt.date.today() - dt.timedelta(days=60)
    clock_now = [dt.datetime.combine(start - dt.timedelta(days=1), dt.time(9), dt.UTC)]
    clinician.clock = lambda: clock_now[0]
    rec = clinician.create_trial(sample_protocol(), f"P-{seed}", ADULT, start_date=start)
    secret = TrialService(db, Actor("ph", Role.PHARMACIST)).record(rec.trial_id).allocation
    patient = TrialService(db, Actor(f"P-{seed}", Role.PATIENT), lambda: clock_now[0])
    for day in simulate_diary(rec.schedule, secret, Participant(effect=effect, missing_rate=0.05),
                              np.random.default_rng(seed)):
        if day.values is not None:
            clock_now[0] = dt.datetime.combine(day.date, dt.time(20), dt.UTC)
            patient.add_entry(rec.trial_id, day.date, day.values)
    clock_now[0] = dt.datetime.combine(rec.schedule.end + dt.timedelta(days=1), dt.time(9), dt.UTC)
    return rec


def test_unblinding_caches_a_likelihood_and_only_unblinded_trials_stream(db, clinician):
    done = run_trial(db, clinician, -2.0, 1)
    still_blinded = run_trial(db, clinician, -2.0, 2)
    clinician.unblind(done.trial_id, "trial complete")
    with db.reader() as s:
        assert count_summaries(s, "average_pain") == 1
        streamed = list(stream_summaries(s, "average_pain", batch=1))
    assert [x.trial_id for x in streamed] == [done.trial_id]
    mean, sd = streamed[0].likelihood.moments()
    assert -4.0 < mean < 0.0 and 0.1 < sd < 1.5
    assert streamed[0].elemental_mg_per_day == 200.0 and streamed[0].condition == "crps-1"
    assert still_blinded.trial_id not in {x.trial_id for x in streamed}


def test_streamed_rows_carry_status_and_pooling_refuses_a_blinded_row(db, clinician):
    done = run_trial(db, clinician, -1.0, 3)
    clinician.unblind(done.trial_id, "trial complete")
    with db.reader() as s:
        (row,) = list(stream_summaries(s, "average_pain"))
    assert row.status == "unblinded" and row.outcome == "average_pain"
    blinded_copy = dataclasses.replace(row, status="active")
    with pytest.raises(ValidationError):
        pool([summary_from_stored(blinded_copy)])
