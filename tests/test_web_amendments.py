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


def test_the_api_amends_lists_and_refuses_with_a_reason(db, clinician, patient, running_trial) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from magtrial.service import tokens
    from magtrial.web.api import create_api_app

    client = TestClient(create_api_app(db))
    url = f"/api/v1/trials/{running_trial.trial_id}/amendments"
    doctor = {"Authorization": f"Bearer {tokens.create_token(clinician, 'test').secret}"}
    person = {"Authorization": f"Bearer {tokens.create_token(patient, 'test').secret}"}
    refused = client.post(url, json={"changes": {"period_days": 2}, "reason": "x"}, headers=doctor)
    assert refused.status_code == 422 and "period length must be 3-84" in refused.text
    assert client.post(url, json={"add_cycles": 1, "reason": "x"}, headers=person).status_code == 403
    made = client.post(url, json={"changes": {"washout_days": 2}, "add_cycles": 1, "reason": "slow"}, headers=doctor)
    assert made.status_code == 201, made.text
    (listed,) = client.get(url, headers=person).json()
    assert listed["reason"] == "slow" and listed["cycles_added"] == 1 and len(listed["commitment"]) == 64
