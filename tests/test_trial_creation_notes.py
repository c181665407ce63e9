"""A start date in the past and the time zone are said out loud at creation, by CLI, web and report alike."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from magtrial.core.creation import creation_notes, days_started_before_creation, past_start_warning
from magtrial.report.build import build_context
from magtrial.service import trials
from tests import test_web_support as support
from tests.helpers import ADULT, sample_protocol, setup_clinic
from tests.test_cli import create
from tests.test_web_clinic import SETUP
from tests.test_web_support import Web, post

web = support.web  # the fixture


def _method(record) -> str:  # type: ignore[no-untyped-def]
    return build_context(record, charts=False)["randomization"]["method"]


def test_a_past_start_date_warns_and_the_report_does_not_claim_the_order_came_first(clinician):
    start = dt.date.today() - dt.timedelta(days=5)
    rec = trials.create_trial(clinician, sample_protocol(), "P-001", ADULT, start_date=start)
    assert days_started_before_creation(rec) in (4, 5, 6)  # the participant's calendar, not UTC's
    warning = past_start_warning(rec)
    assert warning is not None and "drawn after the first diary day" in warning
    assert creation_notes(rec)[0] == warning
    assert "before the first diary day" not in _method(rec) and "day(s) after the start date" in _method(rec)


def test_a_start_date_of_today_or_later_draws_the_order_before_the_diary(clinician):
    later = trials.create_trial(
        clinician, sample_protocol(), "P-001", ADULT, start_date=dt.date.today() + dt.timedelta(days=3)
    )
    assert past_start_warning(later) is None and days_started_before_creation(later) == 0
    assert "before the first diary day" in _method(later)
    assert [n for n in creation_notes(later) if "drawn after" in n] == []


def test_the_time_zone_is_named_and_the_utc_default_is_called_a_default(clinician):
    utc = trials.create_trial(clinician, sample_protocol(), "P-001", ADULT, start_date=dt.date.today())
    assert utc.protocol.timezone == "UTC"
    assert "UTC, because none was given" in creation_notes(utc)[-1]
    london = dataclasses.replace(utc, protocol=dataclasses.replace(utc.protocol, timezone="Europe/London"))
    assert creation_notes(london) == ["Time zone: Europe/London; diary days, late entries and reminders follow it."]


def test_cli_create_prints_the_past_start_warning_and_the_time_zone(run, tmp_path):
    setup_clinic(run, tmp_path)
    _, result = create(run)  # starts 9 days ago, no --timezone
    assert "Warning:" in result.output and "drawn after the first diary day" in result.output
    assert "Time zone: UTC, because none was given" in result.output
    _, today = create(run, "--start", dt.date.today().isoformat(), "--timezone", "Europe/Paris")
    assert "Warning:" not in today.output and "Time zone: Europe/Paris" in today.output


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_web_trial_page_shows_the_past_start_warning_and_the_time_zone(web: Web) -> None:
    client = web.login("dr-lee")
    past = (dt.date.today() - dt.timedelta(days=7)).isoformat()
    page = post(client, "/clinic/new", {**SETUP, "participant": "P-010", "start_date": past})
    assert page.status_code == 200 and "drawn after the first diary day" in page.text
    assert "Time zone: Europe/London" in page.text
    today = post(client, "/clinic/new", {**SETUP, "participant": "P-011", "start_date": dt.date.today().isoformat()})
    assert today.status_code == 200 and "drawn after the first diary day" not in today.text
