"""iCalendar reminders: one daily series for the diary, one per dose time, alarms, local time zone."""

import datetime as dt
import re

import icalendar

from magtrial.export.reminders import reminders_ics, write_reminders
from tests.record_factory import AUDIT_HEAD, make_record

WHEN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _series(cal):
    return [e for e in cal.walk("VEVENT") if "RRULE" in e]


def test_ics_parses_with_one_series_per_dose_time_and_one_for_the_diary(tmp_path):
    record = make_record(seed=1)
    path = write_reminders(
        record, tmp_path / "r.ics", dose_times=[dt.time(8), dt.time(13), dt.time(21)], generated_at=WHEN
    )
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    series = _series(cal)
    assert len(series) == 4
    assert sum("diary" in str(e["SUMMARY"]) for e in series) == 1
    assert sorted(e["DTSTART"].dt.time() for e in series if "pack" in str(e["SUMMARY"])) == [
        dt.time(8),
        dt.time(13),
        dt.time(21),
    ]
    assert all(len(list(e.walk("VALARM"))) == 1 for e in series)


def test_reminders_are_in_the_participants_time_zone_until_the_trial_end():
    record = make_record(seed=2, timezone="America/New_York")
    cal = icalendar.Calendar.from_ical(reminders_ics(record, generated_at=WHEN))
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["America/New_York"]
    diary = next(e for e in _series(cal) if "diary" in str(e["SUMMARY"]))
    start = diary["DTSTART"].dt
    assert str(start.tzinfo) == "America/New_York" and start.date() == record.schedule.start
    until = diary["RRULE"]["UNTIL"][0]
    assert until.astimezone(start.tzinfo).date() == record.schedule.end


def test_default_dose_times_follow_doses_per_day():
    record = make_record(seed=3)  # the factory's product is taken twice a day
    cal = icalendar.Calendar.from_ical(reminders_ics(record, generated_at=WHEN))
    assert len(_series(cal)) == 3


def test_washout_days_are_excluded_from_dose_series():
    record = make_record(seed=4, washout_days=3)
    cal = icalendar.Calendar.from_ical(reminders_ics(record, dose_times=[dt.time(9)], generated_at=WHEN))
    dose = next(e for e in _series(cal) if "pack" in str(e["SUMMARY"]))
    excluded = {d.dt.date() for d in dose["EXDATE"].dts}
    assert len(excluded) == 3 * 7
    assert record.schedule.periods[0].end + dt.timedelta(days=1) in excluded


def test_reminder_wording_is_blinded():
    text = reminders_ics(make_record(seed=5), generated_at=WHEN).decode().replace("\r\n ", "").lower()
    for word in ("magnesium", "placebo", "comparator", "arm"):
        assert not re.search(rf"\b{word}\b", text), word
    assert "pack 3" in text


def test_calendar_carries_the_audit_head_when_there_is_one():
    cal = icalendar.Calendar.from_ical(reminders_ics(make_record(seed=7, audit_head=AUDIT_HEAD), generated_at=WHEN))
    assert cal["X-MAGTRIAL-AUDIT-HEAD"] == AUDIT_HEAD
    assert "X-MAGTRIAL-AUDIT-HEAD" not in icalendar.Calendar.from_ical(
        reminders_ics(make_record(seed=7), generated_at=WHEN)
    )


def test_dose_times_come_from_the_stored_safety_timetable():
    import dataclasses

    record = make_record(seed=6)
    record = dataclasses.replace(record, extra={"safety": {"timetable": ["07:30", "19:15"]}})
    cal = icalendar.Calendar.from_ical(reminders_ics(record, generated_at=WHEN))
    times = sorted(e["DTSTART"].dt.time() for e in _series(cal) if "pack" in str(e["SUMMARY"]))
    assert times == [dt.time(7, 30), dt.time(19, 15)]
