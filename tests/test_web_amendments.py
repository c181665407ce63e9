"""The amendment page, protocol document and timeline over real HTTP (the app in-process, a real SQLite file)."""

from __future__ import annotations

import pytest

from tests import test_web_support as support
from tests.test_web_support import Web, assert_blinded, post, secrets_of

web = support.web  # the fixture


def test_clinician_amends_from_the_next_period_and_sees_the_new_version(web: Web) -> None:
    client = web.login("dr-lee")
    page = client.get(f"/clinic/trials/{web.trial}")
    assert f"/clinic/trials/{web.trial}/amendments" in page.text
    form = client.get(f"/clinic/trials/{web.trial}/amendments")
    assert form.status_code == 200 and "No amendments." in form.text
    done = post(
        client, f"/clinic/trials/{web.trial}/amendments", {"period_days": "10", "add_cycles": "1", "reason": "slow"}
    )
    assert done.status_code == 200 and "period days 7 -&gt; 10" in done.text and "slow" in done.text
    svg = client.get(f"/clinic/trials/{web.trial}/timeline.svg")
    assert (
        svg.headers["content-type"].startswith("image/svg+xml") and "pack 8" in svg.text and "protocol v2" in svg.text
    )
    doc = client.get(f"/clinic/trials/{web.trial}/protocol.html")
    assert "SPENT 2019" in doc.text and "slow" in doc.text
    assert client.get(f"/clinic/trials/{web.trial}/protocol.pdf").content.startswith(b"%PDF")
    assert client.get(f"/clinic/trials/{web.trial}/protocol.docx").status_code == 404


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"period_days": "10", "reason": ""}, 422, "needs a reason"),
        ({"period_days": "ten", "reason": "x"}, 422, "whole number"),
        ({"units_per_day": "lots", "reason": "x"}, 422, "must be a number"),
        ({"reminders": "25:00", "reason": "x"}, 422, "HH:MM"),
        ({"reason": "x"}, 422, "changes nothing"),
    ],
)
def test_bad_amendments_get_a_reason_and_change_nothing(web: Web, data: dict, status: int, message: str) -> None:
    client = web.login("dr-lee")
    answer = post(client, f"/clinic/trials/{web.trial}/amendments", data)
    assert answer.status_code == status and message in answer.text
    assert "No amendments." in client.get(f"/clinic/trials/{web.trial}/amendments").text


def test_participant_and_pharmacist_cannot_amend_and_pages_stay_blinded(web: Web, pharmacist, pharm_key) -> None:
    hidden = secrets_of(web, pharmacist, pharm_key)
    patient = web.login("P-001")
    assert (
        post(patient, f"/clinic/trials/{web.trial}/amendments", {"period_days": "10", "reason": "x"}).status_code == 403
    )
    client = web.login("dr-lee")
    for url in ("amendments", "protocol.html", "timeline.svg"):
        answer = client.get(f"/clinic/trials/{web.trial}/{url}")
        assert answer.status_code == 200
        assert_blinded(answer.text, hidden)
