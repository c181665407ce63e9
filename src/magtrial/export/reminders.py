"""Diary and dose reminders as an iCalendar file any phone calendar can subscribe to.

One daily series for the diary (the whole trial) and one per dose time (first to last period, with
washout days excluded), each with an alarm, in the participant's own time zone so the reminder
stays at 20:00 local across daylight-saving changes. Wording is blinded by construction: it says
"take your trial pack", never what the pack holds. Dose times come from the safety checker's
timetable when it is available (it spaces magnesium away from interacting medicines); a caller may
pass them explicitly. The calendar carries the audit head the record was read at as
``X-MAGTRIAL-AUDIT-HEAD`` when there is one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar

from magtrial.core.record import TrialRecord
from magtrial.core.schedule import DayKind

PRODID = "-//magtrial//N-of-1 trial reminders//EN"
DEFAULT_DIARY_TIME = dt.time(20, 0)
DEFAULT_DOSE_TIMES = {
    1: ("08:00",),
    2: ("08:00", "20:00"),
    3: ("08:00", "14:00", "20:00"),
    4: ("08:00", "12:00", "16:00", "20:00"),
    5: ("07:00", "10:30", "14:00", "17:30", "21:00"),
    6: ("07:00", "10:00", "13:00", "16:00", "19:00", "22:00"),
}


def default_dose_times(record: TrialRecord) -> list[dt.time]:
    """Evenly spread times for the product's doses per day, when no safety timetable is given."""
    return [dt.time.fromisoformat(t) for t in DEFAULT_DOSE_TIMES[record.protocol.product.doses_per_day]]


def dose_times_for(record: TrialRecord) -> list[dt.time]:
    """The safety checker's timetable stored with the trial (spaced from interacting medicines), else defaults.

    Only the times are taken, never the timetable's labels, which may name the product.
    """
    stored = record.stored_safety.get("timetable") or []
    times = [t if isinstance(t, dt.time) else dt.time.fromisoformat(str(t)) for t in stored]
    return sorted(times) or default_dose_times(record)


def reminders_calendar(
    record: TrialRecord,
    *,
    diary_time: dt.time = DEFAULT_DIARY_TIME,
    dose_times: Sequence[dt.time] | None = None,
    generated_at: dt.datetime | None = None,
) -> icalendar.Calendar:
    """A calendar with a daily diary series, one daily series per dose time and a note on each pack start.

    ``dose_times`` defaults to the safety timetable stored with the trial (``dose_times_for``).
    """
    generated_at = generated_at or dt.datetime.now(dt.UTC)
    tz = ZoneInfo(record.protocol.timezone)
    schedule = record.schedule
    times = sorted(dose_times) if dose_times is not None else dose_times_for(record)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Trial {record.trial_id} reminders")
    cal.add("x-wr-timezone", record.protocol.timezone)
    if record.audit_head:
        cal.add("x-magtrial-audit-head", record.audit_head)

    def series(
        uid: str,
        start: dt.date,
        end: dt.date,
        at: dt.time,
        summary: str,
        description: str,
        exclude: Sequence[dt.date] = (),
    ) -> icalendar.Event:
        event = icalendar.Event()
        event.add("uid", f"{record.trial_id}-{uid}@magtrial")
        event.add("dtstamp", generated_at)
        event.add("dtstart", dt.datetime.combine(start, at, tzinfo=tz))
        event.add("duration", dt.timedelta(minutes=10))
        last = dt.datetime.combine(end, at, tzinfo=tz).astimezone(dt.UTC)
        event.add("rrule", {"freq": "daily", "until": last})
        if exclude:
            event.add("exdate", [dt.datetime.combine(d, at, tzinfo=tz) for d in exclude])
        event.add("summary", summary)
        event.add("description", description)
        event.add("transp", "TRANSPARENT")
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", dt.timedelta(0))
        event.add_component(alarm)
        cal.add_component(event)
        return event

    series(
        "diary",
        schedule.start,
        schedule.end,
        diary_time,
        "Fill in your pain diary",
        "Rate today's average and worst pain (0-10), sleep, whether you took your trial pack, and any side "
        "effects. Late entries are marked late, so please fill it in today.",
    )
    first, last = schedule.periods[0].start, schedule.periods[-1].end
    washouts = [d.date for d in schedule.days() if d.kind is DayKind.WASHOUT]
    packs = "; ".join(f"pack {p.pack}: {p.start:%d %b} to {p.end:%d %b}" for p in schedule.periods)
    for i, at in enumerate(times, start=1):
        series(
            f"dose-{i}-{at:%H%M}",
            first,
            last,
            at,
            f"Take your trial pack dose ({i} of {len(times)})",
            f"Take the dose from the pack for the current period ({packs}). Skip on washout days.",
            washouts,
        )
    for p in schedule.periods:
        start = icalendar.Event()
        start.add("uid", f"{record.trial_id}-pack-{p.pack}@magtrial")
        start.add("dtstamp", generated_at)
        start.add("dtstart", p.start)
        start.add("dtend", p.start + dt.timedelta(days=1))
        start.add("summary", f"Start pack {p.pack} today (period {p.number})")
        start.add("transp", "TRANSPARENT")
        cal.add_component(start)
    cal.add_missing_timezones()
    return cal


def reminders_ics(record: TrialRecord, **kwargs) -> bytes:
    return reminders_calendar(record, **kwargs).to_ical()


def write_reminders(record: TrialRecord, path: str | Path, **kwargs) -> Path:
    path = Path(path)
    path.write_bytes(reminders_ics(record, **kwargs))
    return path
