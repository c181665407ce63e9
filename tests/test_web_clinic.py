"""The clinician's and the pharmacist's pages: dashboard, set-up with the live safety check, keys, packs,
unblinding with an uploaded key, results, reports and exports; each refused to the other roles."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from magtrial.service import Actor, Context, Role, diary
from magtrial.store.models import AuditEventRow
from tests import test_web_support as support
from tests.helpers import KEY_PASSPHRASE
from tests.test_web_support import Web, assert_blinded, post, secrets_of

web = support.web  # the fixture
pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)
SETUP = {
    "participant": "P-009",
    "age": "50",
    "sex": "female",
    "egfr": "80",
    "product_name": "Mg citrate",
    "salt": "citrate",
    "elemental_mg_per_unit": "100",
    "units_per_day": "2",
    "doses_per_day": "2",
    "route": "oral",
    "jurisdiction": "US",
    "condition": "crps-1",
    "comparator": "matched-placebo",
    "design": "paired",
    "cycles": "3",
    "period_days": "7",
    "run_in_days": "3",
    "washout_days": "0",
    "carryover_days": "2",
    "timezone": "Europe/London",
    "medications": "gabapentin@08:00,20:00",
}


def key_upload(key_files, purpose: str) -> dict:  # type: ignore[no-untyped-def]
    path = key_files[purpose][0]
    return {"key": (path.name, path.read_bytes(), "application/json")}


def fill_diary(web: Web, days: int = 10) -> None:
    patient = Context(web.db, Actor("P-001", Role.PATIENT))
    from magtrial.core.diary import DiaryValues

    for offset in range(days, 0, -1):
        values = DiaryValues(
            average_pain=3 + offset % 4,
            worst_pain=8,
            sleep_interference=2,
            dose_taken="full" if offset % 5 else "partial",
        )
        diary.add_entry(patient, web.trial, dt.date.today() - dt.timedelta(days=offset), values)


def test_dashboard_lists_participants_with_completeness_adherence_and_alerts(web: Web) -> None:
    fill_diary(web, 5)
    page = web.login("dr-lee").get("/clinic")
    assert page.status_code == 200
    row = page.text.split(f'href="/clinic/trials/{web.trial}"')[1].split("</tr>")[0]
    assert "P-001" in row and re.search(r"5 / 1[01] \(\d+%\)", row) and "% full-dose days" in row
    assert "P-002" in page.text


def test_blinded_clinician_pages_show_packs_and_progress_but_never_the_allocation(
    web: Web,
    pharmacist,  # type: ignore[no-untyped-def]
    pharm_key,
) -> None:
    fill_diary(web)
    hidden = secrets_of(web, pharmacist, pharm_key)
    client = web.login("dr-lee")
    for url in (
        "/clinic",
        f"/clinic/trials/{web.trial}",
        "/clinic/keys",
        "/clinic/pooled",
        f"/clinic/trials/{web.trial}/report.html",
        f"/clinic/trials/{web.trial}/export/csv",
        f"/clinic/trials/{web.trial}/export/fhir",
    ):
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert_blinded(answer.text, hidden, fhir=url.endswith("fhir"))
    page = client.get(f"/clinic/trials/{web.trial}")
    assert "pack 1" in page.text and "Unblind this trial" in page.text and "Result" not in page.text
    assert "opened the pack list" in page.text  # the test's own pharmacist view counted
    assert client.get(f"/clinic/trials/{web.trial}/charts/timeseries.svg").status_code == 404
    assert client.get(f"/clinic/trials/{web.trial}/export/redcap").headers["content-type"] == "application/zip"


def test_keys_page_shows_which_keys_each_trial_is_sealed_to(web: Web, key_files) -> None:  # type: ignore[no-untyped-def]
    page = web.login("dr-lee").get("/clinic/keys")
    for _, key in key_files.values():
        assert key.info.fingerprint[:4] in page.text.replace(" ", "")
    assert "pharmacist" in page.text and "emergency" in page.text and web.trial in page.text


def test_live_safety_check_partial_and_trial_creation(web: Web) -> None:
    client = web.login("dr-lee")
    form = client.get("/clinic/new")
    assert 'hx-post="/clinic/safety-check"' in form.text and 'id="ack"' in form.text
    partial = post(client, "/clinic/safety-check", SETUP, headers={"HX-Request": "true"})
    assert partial.status_code == 200 and partial.text.startswith('<div id="safety-result"')
    assert "Verdict: caution" in partial.text and "gabapentin" in partial.text and "<html" not in partial.text
    full = post(client, "/clinic/safety-check", SETUP)  # without JavaScript: the whole form again
    assert "<html" in full.text and "Verdict: caution" in full.text and 'value="P-009"' in full.text
    created = post(client, "/clinic/new", SETUP)
    assert created.status_code == 200 and re.search(r"/clinic/trials/mt-[0-9a-f]{8}$", str(created.url))
    assert "P-009" in created.text


def test_blocked_and_unacknowledged_regimens_cannot_start(web: Web) -> None:
    client = web.login("dr-lee")
    blocked = post(client, "/clinic/new", {**SETUP, "egfr": "20"})
    assert blocked.status_code == 409 and "blocked" in blocked.text
    needs = {**SETUP, "egfr": "45"}
    partial = post(client, "/clinic/safety-check", needs, headers={"HX-Request": "true"})
    assert "must acknowledge" in partial.text
    refused = post(client, "/clinic/new", needs)
    assert refused.status_code == 409 and "acknowledge" in refused.text
    assert post(client, "/clinic/new", {**needs, "ack": "on"}).status_code == 200
    bad = post(client, "/clinic/safety-check", {**SETUP, "age": "old"}, headers={"HX-Request": "true"})
    assert "age must be a number" in bad.text


def test_a_condition_whose_name_holds_a_comma_is_read_as_one(web: Web) -> None:
    client = web.login("dr-lee")
    form = {**SETUP, "conditions": "chronic kidney disease, stage 5; asthma"}
    partial = post(client, "/clinic/safety-check", form, headers={"HX-Request": "true"})
    assert "Verdict: blocked" in partial.text and "not recognised" in partial.text


def test_unblinding_early_needs_a_reason_and_the_right_passphrase(web: Web, key_files) -> None:  # type: ignore[no-untyped-def]
    fill_diary(web)
    client = web.login("dr-lee")
    wrong = post(
        client,
        f"/clinic/trials/{web.trial}/unblind",
        {"reason": "test", "passphrase": "not it"},
        files=key_upload(key_files, "emergency"),
    )
    assert wrong.status_code == 403 and "wrong passphrase" in wrong.text
    early = post(
        client,
        f"/clinic/trials/{web.trial}/unblind",
        {"passphrase": KEY_PASSPHRASE},
        files=key_upload(key_files, "emergency"),
    )
    assert early.status_code == 422 and "needs a reason" in early.text
    done = post(
        client,
        f"/clinic/trials/{web.trial}/unblind",
        {"reason": "suspected hypermagnesaemia", "passphrase": KEY_PASSPHRASE},
        files=key_upload(key_files, "emergency"),
    )
    assert done.status_code == 200 and "Commitment verifies" in done.text and "No estimate yet" in done.text
    assert client.get(f"/clinic/trials/{web.trial}/charts/timeseries.svg").status_code == 200
    with web.db.reader() as s:
        event = s.execute(select(AuditEventRow).where(AuditEventRow.action == "trial.unblind")).scalar_one()
    assert event.reason == "suspected hypermagnesaemia" and event.actor == "dr-lee"


def test_after_unblinding_a_finished_trial_shows_analysis_charts_report_and_exports(
    web: Web,
    clinician,  # type: ignore[no-untyped-def]
    key_files,
) -> None:
    from magtrial.core.diary import DiaryValues
    from magtrial.service import trials
    from tests.helpers import ADULT, sample_protocol

    protocol = sample_protocol()
    start = dt.date.today() - dt.timedelta(days=protocol.total_days + 2)
    rec = trials.create_trial(clinician, protocol, "P-003", ADULT, start_date=start)
    for day in rec.schedule.days():
        values = DiaryValues(average_pain=4 + day.date.day % 3, worst_pain=8, sleep_interference=2)
        diary.add_entry(clinician, rec.trial_id, day.date, values)
    client = web.login("dr-lee")
    done = post(
        client,
        f"/clinic/trials/{rec.trial_id}/unblind",
        {"passphrase": KEY_PASSPHRASE},
        files=key_upload(key_files, "emergency"),
    )
    assert done.status_code == 200 and "Commitment verifies" in done.text and "No estimate yet" not in done.text
    for name in ("timeseries", "posterior"):
        chart = client.get(f"/clinic/trials/{rec.trial_id}/charts/{name}.svg")
        assert chart.status_code == 200 and chart.text.startswith("<svg")
        assert "script-src" not in chart.headers["content-security-policy"]
    pdf = client.get(f"/clinic/trials/{rec.trial_id}/report.pdf")
    assert pdf.content.startswith(b"%PDF") and "attachment" in pdf.headers["content-disposition"]
    html = client.get(f"/clinic/trials/{rec.trial_id}/report.html")
    assert html.status_code == 200 and "script-src" not in html.headers["content-security-policy"]
    for fmt, kind in (("csv", "text/csv"), ("fhir", "application/fhir+json"), ("redcap", "application/zip")):
        answer = client.get(f"/clinic/trials/{rec.trial_id}/export/{fmt}")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(kind)
    assert client.get(f"/clinic/trials/{rec.trial_id}/export/nope").status_code == 404


def test_pharmacist_unlocks_labels_and_pack_list_with_their_key_and_each_view_is_audited(
    web: Web,  # type: ignore[no-untyped-def]
    key_files,
) -> None:
    client = web.login("ph-ann")
    listing = client.get("/pharmacy")
    assert web.trial in listing.text
    form = client.get(f"/pharmacy/{web.trial}")
    assert 'enctype="multipart/form-data"' in form.text and "magnesium (active)" not in form.text
    wrong = post(
        client, f"/pharmacy/{web.trial}/packs", {"passphrase": "wrong one"}, files=key_upload(key_files, "pharmacist")
    )
    assert wrong.status_code == 403 and "wrong passphrase" in wrong.text
    sheet = post(
        client,
        f"/pharmacy/{web.trial}/packs",
        {"passphrase": KEY_PASSPHRASE},
        files=key_upload(key_files, "pharmacist"),
    )
    assert sheet.status_code == 200 and sheet.headers["cache-control"] == "no-store"
    labels = sheet.text.split('class="labels"')[1].split("</section>")[0]
    assert labels.count('class="label"') == 6 and "P-001" in labels and web.trial in labels
    assert not re.search(r"magnesium|comparator|placebo", labels, re.IGNORECASE)
    blocks = re.findall(r'<div class="label">(.*?)</div>\s*</div>', labels, re.S)
    shapes = {re.sub(r"Pack \d+|\d{2} \w{3} \d{4}", "", b) for b in blocks}
    assert len(shapes) == 1  # every label looks the same apart from its number and dates
    pack_list = sheet.text.split('id="list-title"')[1]
    assert pack_list.count("magnesium (active)") == 3 and pack_list.count("comparator (matched-placebo)") == 3
    with web.db.reader() as s:
        views = s.execute(select(AuditEventRow).where(AuditEventRow.action == "allocation.view")).scalars().all()
    assert [v.actor for v in views] == ["ph-ann"]
    not_a_key = post(
        client,
        f"/pharmacy/{web.trial}/packs",
        {"passphrase": KEY_PASSPHRASE},
        files={"key": ("notes.key", b"hello", "application/json")},
    )
    assert not_a_key.status_code == 422 and "not a magtrial key file" in not_a_key.text


def test_clinician_and_participant_cannot_use_the_pharmacy_and_the_pharmacist_sees_no_diary(
    web: Web,  # type: ignore[no-untyped-def]
    key_files,
) -> None:
    for name in ("dr-lee", "P-001"):
        client = web.login(name)
        assert client.get("/pharmacy").status_code == 403
        answer = post(
            client,
            f"/pharmacy/{web.trial}/packs",
            {"passphrase": KEY_PASSPHRASE},
            files=key_upload(key_files, "pharmacist"),
        )
        assert answer.status_code == 403
    pharmacist = web.login("ph-ann")
    for url in ("/clinic", f"/clinic/trials/{web.trial}", f"/diary/{web.trial}"):
        assert pharmacist.get(url).status_code == 403
    assert pharmacist.get(f"/pharmacy/{web.other}").status_code in (200, 404)  # sealed to ph-ann too: allowed


def test_a_clinician_never_sees_another_clinicians_trials(web: Web, db) -> None:  # type: ignore[no-untyped-def]
    from magtrial.service import accounts

    lee = Context(db, Actor("dr-lee", Role.CLINICIAN))
    accounts.add_account(lee, "dr-roe", Role.CLINICIAN, "clinician-two-pw")
    client = web.login("dr-roe", "clinician-two-pw")
    assert web.trial not in client.get("/clinic").text
    for url in (
        f"/clinic/trials/{web.trial}",
        f"/clinic/trials/{web.trial}/report.html",
        f"/clinic/trials/{web.trial}/export/csv",
    ):
        answer = client.get(url)
        assert answer.status_code == 404 and "P-001" not in answer.text


def test_the_report_page_reuses_the_pooled_estimate_until_another_trial_is_unblinded(
    web: Web,
    clinician,  # type: ignore[no-untyped-def]
    key_files,
) -> None:
    """The evidence panel must not re-pool every trial on every render (issue 12): the page keeps the pooled
    estimate while the pooled rows are unchanged, and pools again once another trial is unblinded."""
    from magtrial.core.diary import DiaryValues
    from magtrial.report import evidence_cache
    from magtrial.service import trials
    from tests.helpers import ADULT, sample_protocol

    evidence_cache.clear()
    protocol = sample_protocol()
    start = dt.date.today() - dt.timedelta(days=protocol.total_days + 2)
    client = web.login("dr-lee")
    made = []
    for person, shift in (("P-003", 0), ("P-004", 1)):
        rec = trials.create_trial(clinician, protocol, person, ADULT, start_date=start)
        for day in rec.schedule.days():
            values = DiaryValues(average_pain=4 + (day.date.day + shift) % 3, worst_pain=8, sleep_interference=2)
            diary.add_entry(clinician, rec.trial_id, day.date, values)
        made.append(rec.trial_id)
    first, second = made
    post(
        client,
        f"/clinic/trials/{first}/unblind",
        {"passphrase": KEY_PASSPHRASE},
        files=key_upload(key_files, "emergency"),
    )
    key = (web.db.url, "average_pain")
    assert client.get(f"/clinic/trials/{first}/report.html").status_code == 200
    stamp, estimate = evidence_cache._cache[key]
    assert estimate is not None and estimate.n_trials == 1
    assert client.get(f"/clinic/trials/{first}/report.html").status_code == 200
    assert evidence_cache._cache[key][1] is estimate  # reused, not pooled again
    post(
        client,
        f"/clinic/trials/{second}/unblind",
        {"passphrase": KEY_PASSPHRASE},
        files=key_upload(key_files, "emergency"),
    )
    assert client.get("/clinic/pooled").status_code == 200
    new_stamp, new_estimate = evidence_cache._cache[key]
    assert new_stamp != stamp and new_estimate is not estimate and new_estimate.n_trials == 2
