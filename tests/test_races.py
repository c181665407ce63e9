"""Races a real deployment meets, run many times on SQLite and a real PostgreSQL.

- a diary write racing an unblinding never lands after it (the trial row is locked by both);
- two devices saving the same day: one wins, the other gets the clear "already" message.
"""

import datetime as dt
import threading

from sqlalchemy import text

from magtrial.core.diary import DiaryValues
from magtrial.errors import Conflict
from magtrial.service import audit, diary, trials, unblinding
from tests.helpers import ADULT, sample_protocol

ROUNDS = 25


def _race(*calls):
    """Start the calls together; return each call's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - returned for the assertions
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_a_diary_write_racing_an_unblinding_never_lands_after_it(db, clinician, patient, emergency_key):
    landed = refused = 0
    start = dt.date.today() - dt.timedelta(days=5)
    for round_ in range(ROUNDS):
        trial = trials.create_trial(clinician, sample_protocol(), "P-001", ADULT, start_date=start)
        day = dt.date.today() - dt.timedelta(days=round_ % 3)
        wrote, unblinded = _race(
            lambda t=trial.trial_id, d=day: diary.add_entry(patient, t, d, DiaryValues(4, 5, 1)),
            lambda t=trial.trial_id: unblinding.unblind(clinician, t, emergency_key, reason="race test"),
        )
        assert not isinstance(unblinded, Exception), unblinded
        if isinstance(wrote, Exception):
            assert isinstance(wrote, Conflict) and "diary is locked" in str(wrote)
            refused += 1
        else:
            landed += 1
        with db.engine.connect() as conn:
            order = dict(
                conn.execute(
                    text(
                        "SELECT action, seq FROM audit_events WHERE trial_id = :t AND action IN ('trial.unblind', "
                        "'diary.original')"
                    ),
                    {"t": trial.trial_id},
                ).all()
            )
        if "diary.original" in order:
            assert order["diary.original"] < order["trial.unblind"]
    assert landed + refused == ROUNDS
    assert audit.verify(clinician).ok


def test_two_devices_saving_the_same_day_get_one_entry_and_a_clear_message(db, clinician, running_trial, patient):
    for back in range(ROUNDS // 3):
        day = dt.date.today() - dt.timedelta(days=back)
        results = _race(
            lambda d=day: diary.add_entry(patient, running_trial.trial_id, d, DiaryValues(4, 5, 1)),
            lambda d=day: diary.add_entry(patient, running_trial.trial_id, d, DiaryValues(6, 7, 1)),
        )
        errors = [r for r in results if isinstance(r, Exception)]
        assert len(errors) == 1 and isinstance(errors[0], Conflict), errors
        assert "already" in str(errors[0]) or "just recorded" in str(errors[0])
    assert len(diary.versions(patient, running_trial.trial_id)) == ROUNDS // 3
    assert audit.verify(clinician).ok
