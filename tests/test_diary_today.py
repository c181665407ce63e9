"""``diary.today``: the day an entry without a date is for, read from the trial row alone (issue 13).

``diary add`` used ``trials.today``, which builds the whole record; the light function must give the
same day in the participant's time zone and refuse another person's trial the same way.
"""

import datetime as dt

import pytest

from magtrial.errors import NotFound
from magtrial.service import Actor, Context, Role, diary, trials
from tests.helpers import ADULT, sample_protocol


@pytest.mark.parametrize(
    ("zone", "now", "expected"),
    [
        ("Pacific/Auckland", dt.datetime(2026, 11, 24, 20, 0, tzinfo=dt.UTC), dt.date(2026, 11, 25)),  # UTC+13
        ("America/Los_Angeles", dt.datetime(2026, 11, 24, 3, 0, tzinfo=dt.UTC), dt.date(2026, 11, 23)),  # UTC-8
        ("UTC", dt.datetime(2026, 11, 24, 23, 59, tzinfo=dt.UTC), dt.date(2026, 11, 24)),
    ],
)
def test_today_is_the_participants_calendar_day_as_the_record_gives_it(db, clinician, zone, now, expected):
    protocol = sample_protocol(timezone=zone)
    rec = trials.create_trial(clinician, protocol, "P-001", ADULT, start_date=dt.date(2026, 11, 10))
    patient = Context(db, Actor("P-001", Role.PATIENT), clock=lambda: now)
    assert diary.today(patient, rec.trial_id) == expected
    assert trials.today(patient, rec.trial_id).date == expected


def test_today_of_another_persons_trial_is_not_found_as_the_record_says(db, running_trial):
    stranger = Context(db, Actor("P-999", Role.PATIENT))
    with pytest.raises(NotFound) as light:
        diary.today(stranger, running_trial.trial_id)
    with pytest.raises(NotFound) as full:
        trials.today(stranger, running_trial.trial_id)
    assert str(light.value) == str(full.value)
