"""Consent and withdrawal pages over real HTTP: sign with a typed name, re-consent redirects the diary, and
withdrawal takes three taps with a confirmation step; bad input is a 4xx with a reason and changes nothing."""

from __future__ import annotations

import pytest

from magtrial.service import Actor, Context, Role, audit, consent, trials
from tests import test_web_support as support
from tests.test_web_support import Web, post

web = support.web  # the fixture
pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


def test_clinician_sets_consent_and_the_participant_signs_before_the_diary(web: Web) -> None:
    clinic = web.login("dr-lee")
    page = post(clinic, f"/clinic/trials/{web.trial}/consent", {"text": "Take the packs.\n\nStop any time."})
    assert page.status_code == 200 and "Version 1" in page.text and "not signed yet" in page.text
    person = web.login("P-001")
    today = person.get(f"/diary/{web.trial}")  # redirected: sign first
    assert str(today.url).endswith(f"/diary/{web.trial}/consent") and "Take the packs." in today.text
    assert "I agree to take part" in today.text
    blank = post(person, f"/diary/{web.trial}/consent", {"version": "1", "name": "  "})
    assert blank.status_code == 422 and "type your full name" in blank.text
    signed = post(person, f"/diary/{web.trial}/consent", {"version": "1", "name": "Pat One"})
    assert signed.status_code == 200 and str(signed.url).endswith(f"/diary/{web.trial}")
    copy = person.get(f"/diary/{web.trial}/consent/signed.html")
    assert copy.status_code == 200 and "Pat One" in copy.text
    # A new version: the diary waits again.
    post(clinic, f"/clinic/trials/{web.trial}/consent", {"text": "Take ten packs.\n\nStop any time."})
    again = person.get(f"/diary/{web.trial}")
    assert str(again.url).endswith("/consent") and "The consent form has changed" in again.text
    refused = post(person, f"/diary/{web.trial}", {"average_pain": "4", "sleep_interference": "2"})
    assert refused.status_code == 409 and "sign a new version of the consent (version 2)" in refused.text


def test_withdrawal_asks_for_confirmation_then_erases(web: Web) -> None:
    person = web.login("P-001")
    page = person.get(f"/diary/{web.trial}/withdraw")
    assert 'value="keep"' in page.text and 'value="erase"' in page.text
    before = audit.head(Context(web.db, Actor("dr-lee", Role.CLINICIAN)))
    confirm = post(person, f"/diary/{web.trial}/withdraw", {"choice": "erase"})
    assert confirm.status_code == 200 and "cannot be undone" in confirm.text
    bad = post(person, f"/diary/{web.trial}/withdraw", {"choice": "maybe", "confirm": "yes"})
    assert bad.status_code == 422 and "(keep what I entered for analysis) or" in bad.text
    assert audit.head(Context(web.db, Actor("dr-lee", Role.CLINICIAN))) == before  # nothing changed yet
    done = post(person, f"/diary/{web.trial}/withdraw", {"choice": "erase", "confirm": "yes"})
    assert done.status_code == 200 and "Your data has been erased" in done.text
    assert trials.record(Context(web.db, Actor("P-001", Role.PATIENT)), web.trial).status == "withdrawn"
    assert "The diary of this trial is closed" in person.get(f"/diary/{web.trial}").text
    again = post(person, f"/diary/{web.trial}/withdraw", {"choice": "erase", "confirm": "yes"})
    assert again.status_code == 409 and "already withdrawn" in again.text


def test_only_the_owner_sees_or_signs(web: Web) -> None:
    consent.set_text(Context(web.db, Actor("dr-lee", Role.CLINICIAN)), web.other, "Other trial's consent.")
    person = web.login("P-001")
    assert person.get(f"/diary/{web.other}/consent").status_code == 404
    assert post(person, f"/diary/{web.other}/withdraw", {"choice": "keep"}).status_code == 404
    assert post(person, f"/clinic/trials/{web.trial}/consent", {"text": "mine"}).status_code == 403


def test_the_clinic_pages_still_work_for_an_erased_trial(web: Web) -> None:
    from magtrial.service import withdrawal

    withdrawal.withdraw(Context(web.db, Actor("P-001", Role.PATIENT)), web.trial, "erase")
    clinic = web.login("dr-lee")
    page = clinic.get(f"/clinic/trials/{web.trial}")
    assert page.status_code == 200 and "Consent and withdrawal" in page.text
    assert "data erased" in clinic.get(f"/clinic/trials/{web.trial}/consent").text
    assert clinic.get("/clinic").status_code == 200
