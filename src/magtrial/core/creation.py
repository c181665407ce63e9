"""What the clinician must be told when a trial is created, in the same words by CLI, web and report.

Two things are easy to get wrong without noticing: a start date already in the past (the order is then
drawn after the first diary day, so days entered for before creation were not written blind to a drawn
order), and the time zone (days begin and end in it; left unset it is UTC, which is wrong for most people).
"""

from __future__ import annotations

from magtrial.core.record import TrialRecord


def days_started_before_creation(record: TrialRecord) -> int:
    """How many days the first diary day lies before the day (participant's calendar) the trial was created."""
    created = record.protocol.local_date(record.created_at)
    return max((created - record.start_date).days, 0)


def past_start_warning(record: TrialRecord) -> str | None:
    """The warning for a start date before the creation day, or None."""
    days = days_started_before_creation(record)
    if not days:
        return None
    return (
        f"The start date {record.start_date:%d %b %Y} is {days} day(s) before the trial was created: the "
        "allocation was drawn after the first diary day, so diary days before creation were not entered "
        "blind to a drawn order (the report says so)."
    )


def timezone_note(record: TrialRecord) -> str:
    """Which zone diary days follow; says so loudly when it is the UTC default."""
    zone = record.protocol.timezone
    if zone == "UTC":
        return (
            "Time zone: UTC, because none was given. Diary days, late entries and reminders follow UTC; "
            "amend the protocol's timezone (an IANA name such as Europe/London) if the participant lives elsewhere."
        )
    return f"Time zone: {zone}; diary days, late entries and reminders follow it."


def creation_notes(record: TrialRecord) -> list[str]:
    """Every note for the clinician: the past-start warning first when there is one, then the time zone."""
    warning = past_start_warning(record)
    return [*([warning] if warning else []), timezone_note(record)]
