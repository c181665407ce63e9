"""The participant's pages: Today, saving in a few taps, errors, stop-and-seek-care, history, corrections."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from magtrial.service import Actor, Context, Role, trials, unblinding
from tests import test_web_support as support
from tests.test_web_support import Web, assert_blinded, post, secrets_of

web = support.web  # the fixture
pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # both backends: test_web_backends.py
TODAY = dt.date.today().isoformat()
YESTERDAY = (dt.date.today() - dt.timedelta(days=1)).isoformat()


def patient_of(web: Web) -> Context:
    return Context(web.db, Actor("P-001", Role.PATIENT))


def save(client, web: Web, **fields):  # type: ignore[no-untyped-def]
    return post(client, f"/diary/{web.trial}", {"day": TODAY, **fields})


def test_today_shows_the_instruction_and_a_form_that_works_without_javascript(web: Web) -> None:
    client = web.login("P-001")
    page = client.get(f"/diary/{web.trial}")
    assert page.status_code == 200
    plan = trials.today(patient_of(web), web.trial)
    assert plan.instruction() in page.text
    form = page.text.split('<form method="post" action="/diary/')[1].split("</form>")[0]
    for field in ("average_pain", "worst_pain", "sleep_interference"):
        assert len(re.findall(rf'type="radio" name="{field}"', form)) == 11
        assert re.search(rf'<label for="{field}-10">10', form)
    assert re.search(r'id="dose-full" value="full" checked', form)
    assert form.count('type="checkbox" name="side_effects"') == 6
    assert "<details" in form and 'name="note"' in form
    assert f"?day={YESTERDAY}" in page.text  # yesterday is missing: offered


def test_three_answers_save_an_entry_with_defaults_and_a_receipt(web: Web) -> None:
    client = web.login("P-001")
    answer = save(client, web, average_pain="5", sleep_interference="3")
    assert answer.status_code == 200
    assert re.search(r"Receipt: <code>\d+:[0-9a-f]{64}</code>", answer.text)
    assert "<dt>Worst pain</dt><dd>5</dd>" in answer.text  # worst defaults to the average
    assert "<dt>Pack taken</dt><dd>full</dd>" in answer.text
    assert "Stop and seek care" not in answer.text
    again = client.get(f"/diary/{web.trial}")
    assert "Saved for" in again.text and "Correct this entry" in again.text
    twice = save(client, web, average_pain="5", sleep_interference="3")
    assert twice.status_code == 409 and "already an entry" in twice.text


def test_worst_below_average_and_missing_answers_are_clear_errors_that_keep_the_choices(web: Web) -> None:
    client = web.login("P-001")
    answer = save(client, web, average_pain="6", worst_pain="4", sleep_interference="2")
    assert answer.status_code == 422
    assert "worst pain (4) cannot be lower than average pain (6)" in answer.text
    assert 'id="average_pain-6" value="6" checked' in answer.text
    assert 'id="worst_pain-4" value="4" checked' in answer.text
    missing = save(client, web, worst_pain="4")
    assert missing.status_code == 422 and "choose your average pain" in missing.text


def test_stop_symptom_shows_the_stop_and_seek_care_panel_at_once_and_flags_the_trial(web: Web) -> None:
    client = web.login("P-001")
    answer = save(client, web, average_pain="4", sleep_interference="2", side_effects=["muscle-weakness", "nausea"])
    assert answer.status_code == 200
    panel = answer.text.split('<section class="urgent" role="alert"')[1].split("</section>")[0]
    assert "Stop and seek care now" in panel and "muscle weakness" in panel
    assert "Do not take any more of the trial packs" in panel and "emergency services" in panel
    assert answer.text.index('class="urgent"') < answer.text.index("<h1>Saved")
    clinic = web.login("dr-lee")
    assert "1 flag" in clinic.get("/clinic").text
    assert "muscle weakness" in clinic.get(f"/clinic/trials/{web.trial}").text


def test_yesterday_can_be_added_and_older_days_are_flagged_late(web: Web) -> None:
    client = web.login("P-001")
    page = client.get(f"/diary/{web.trial}?day={YESTERDAY}")
    assert f'name="day" value="{YESTERDAY}"' in page.text
    answer = post(client, f"/diary/{web.trial}", {"day": YESTERDAY, "average_pain": "3", "sleep_interference": "1"})
    assert answer.status_code == 200 and "recorded late" not in answer.text
    assert f"?day={YESTERDAY}" not in client.get(f"/diary/{web.trial}").text  # no longer offered
    older = (dt.date.today() - dt.timedelta(days=3)).isoformat()  # more than 36 h after that day ended
    answer = post(client, f"/diary/{web.trial}", {"day": older, "average_pain": "3", "sleep_interference": "1"})
    assert answer.status_code == 200 and "recorded late" in answer.text


def test_history_chart_lists_entries_by_pack_number_and_correction_posts_only_changes(web: Web) -> None:
    client = web.login("P-001")
    save(client, web, average_pain="5", worst_pain="7", sleep_interference="3", side_effects=["nausea"])
    history = client.get(f"/diary/{web.trial}/history")
    assert f'data-day="{TODAY}"' in history.text and "average 5, worst 7, sleep 3" in history.text
    assert re.search(r">pack 1</text>", history.text)
    form = client.get(f"/diary/{web.trial}/correct/{TODAY}")
    assert 'id="worst_pain-7" value="7" checked' in form.text and 'value="nausea" checked' in form.text
    no_reason = post(
        client,
        f"/diary/{web.trial}/correct/{TODAY}",
        {"average_pain": "4", "worst_pain": "7", "sleep_interference": "3", "side_effects": ["nausea"]},
    )
    assert no_reason.status_code == 422 and "needs a reason" in no_reason.text
    unchanged = post(
        client,
        f"/diary/{web.trial}/correct/{TODAY}",
        {
            "average_pain": "5",
            "worst_pain": "7",
            "sleep_interference": "3",
            "side_effects": ["nausea"],
            "reason": "checking",
        },
    )
    assert unchanged.status_code == 422 and "nothing was changed" in unchanged.text
    done = post(
        client,
        f"/diary/{web.trial}/correct/{TODAY}",
        {
            "average_pain": "4",
            "worst_pain": "7",
            "sleep_interference": "3",
            "side_effects": ["nausea"],
            "reason": "tapped the wrong number",
            "dose_taken": "full",
        },
    )
    assert done.status_code == 200 and "Correction saved" in done.text
    versions = trials.record(patient_of(web), web.trial).versions
    assert [v.version for v in versions] == [1, 2]
    history = client.get(f"/diary/{web.trial}/history")
    assert "average 4, worst 7" in history.text and "corrected: tapped the wrong number" in history.text
    with web.db.reader() as s:
        from sqlalchemy import select

        from magtrial.store.models import AuditEventRow

        event = s.execute(select(AuditEventRow).where(AuditEventRow.action == "diary.correction")).scalar_one()
    assert event.reason == "tapped the wrong number"


def test_reminders_download_is_an_ics_file(web: Web) -> None:
    answer = web.login("P-001").get(f"/diary/{web.trial}/reminders.ics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/calendar")
    assert answer.content.startswith(b"BEGIN:VCALENDAR") and "attachment" in answer.headers["content-disposition"]


def test_another_participants_trial_is_not_found_and_never_shown(web: Web) -> None:
    client = web.login("P-001")
    for url in (
        f"/diary/{web.other}",
        f"/diary/{web.other}/history",
        f"/diary/{web.other}/reminders.ics",
        f"/diary/{web.other}/result",
        f"/diary/{web.other}/correct/{TODAY}",
    ):
        answer = client.get(url)
        assert answer.status_code == 404 and "P-002" not in answer.text
    assert (
        post(client, f"/diary/{web.other}", {"day": TODAY, "average_pain": "1", "sleep_interference": "1"}).status_code
        == 404
    )
    assert "P-002" not in client.get("/diary", follow_redirects=True).text


def test_clinician_and_pharmacist_pages_are_forbidden_to_participants(web: Web) -> None:
    client = web.login("P-001")
    for url in (
        "/clinic",
        f"/clinic/trials/{web.trial}",
        "/clinic/new",
        "/clinic/keys",
        "/clinic/pooled",
        f"/clinic/trials/{web.trial}/report.html",
        f"/clinic/trials/{web.trial}/export/csv",
        "/pharmacy",
        f"/pharmacy/{web.trial}",
    ):
        assert client.get(url).status_code == 403, url


def test_blinded_participant_pages_never_show_the_allocation(web: Web, pharmacist, pharm_key) -> None:  # type: ignore[no-untyped-def]
    hidden = secrets_of(web, pharmacist, pharm_key)
    client = web.login("P-001")
    save(client, web, average_pain="5", sleep_interference="3")
    for url in (
        f"/diary/{web.trial}",
        f"/diary/{web.trial}/history",
        f"/diary/{web.trial}/correct/{TODAY}",
        f"/diary/{web.trial}/result",
        f"/diary/{web.trial}/reminders.ics",
    ):
        answer = client.get(url)
        assert answer.status_code == 200
        assert_blinded(answer.text, hidden)
        assert "comparator" not in answer.text.lower() and "placebo" not in answer.text.lower()
    assert client.get(f"/diary/{web.trial}/charts/timeseries.svg").status_code == 404
    assert "still blinded" in client.get(f"/diary/{web.trial}/result").text


def test_after_unblinding_the_participant_sees_their_result_in_plain_language(
    web: Web,
    clinician,  # type: ignore[no-untyped-def]
    emergency_key,
) -> None:
    patient = patient_of(web)
    rec = trials.record(patient, web.trial)
    from magtrial.core.diary import DiaryValues
    from magtrial.service import diary

    for offset in range(10, 0, -1):
        day = dt.date.today() - dt.timedelta(days=offset)
        diary.add_entry(
            patient, web.trial, day, DiaryValues(average_pain=4 + offset % 3, worst_pain=7, sleep_interference=2)
        )
    assert rec.blinded
    unblinding.unblind(clinician, web.trial, emergency_key, "participant asked to stop")
    client = web.login("P-001")
    page = client.get(f"/diary/{web.trial}/result")
    assert page.status_code == 200 and "My result" in page.text
    chart = client.get(f"/diary/{web.trial}/charts/timeseries.svg")
    assert chart.status_code == 200 and chart.headers["content-type"] == "image/svg+xml"
    assert "script" not in chart.headers["content-security-policy"]
    closed = client.get(f"/diary/{web.trial}")
    assert "diary of this trial is closed" in closed.text
