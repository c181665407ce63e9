"""A real browser on a 390 px phone: the demo participant is sent to sign a new consent version before the
diary (the typed name is the only typing), then withdraws with erasure in three taps and no typing, while the
server keeps running. Axe-core checks the consent and withdrawal pages; nothing is wider than the screen."""

from __future__ import annotations

from tests.browser.test_web_browser import CHROMIUM, login, serious, shot
from tests.browser.test_web_browser import browser as browser  # noqa: PLC0414  (module-scoped fixtures)
from tests.browser.test_web_browser import server as server  # noqa: PLC0414

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def fits(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate("document.scrollingElement.scrollWidth") <= 390


def test_sign_consent_then_withdraw_and_erase_on_a_phone(server, browser) -> None:  # type: ignore[no-untyped-def]
    from magtrial.service import Actor, Context, Role, audit, consent
    from magtrial.store.db import Database

    assert CHROMIUM.exists()
    base, demo = server["url"], server["demo"]
    trial = demo.trial_id
    db = Database(demo.url)
    clinician = Context(db, Actor("demo-clinician", Role.CLINICIAN))
    consent.set_text(clinician, trial, "You take one pack at a time.\n\nYou can stop whenever you want.")
    page = browser.new_context(**PHONE).new_page()
    login(page, base, "DEMO-001", demo.logins["DEMO-001"])
    assert page.url.endswith(f"/diary/{trial}/consent")  # the diary waits for the signature
    assert "You can stop whenever you want." in page.inner_text("main") and fits(page)
    problems = {"consent": serious(page, "consent")}
    shot(page, "consent-01-sign")
    page.fill("#name", "Demo Person")
    page.click("#sign")
    page.wait_for_load_state()
    assert page.url.endswith(f"/diary/{trial}") and "take pack" in page.inner_text(".instruction")

    taps = 0
    for selector in ("text=Stop taking part", "#choose-erase", "#confirm"):
        page.click(selector)
        page.wait_for_load_state()
        taps += 1
        if selector == "#choose-erase":
            assert "cannot be undone" in page.inner_text("main") and fits(page)
            problems["confirm"] = serious(page, "withdraw-confirm")
            shot(page, "consent-02-confirm")
    assert taps == 3 and "Your data has been erased" in page.inner_text("main") and fits(page)
    problems["withdrawn"] = serious(page, "withdrawn")
    shot(page, "consent-03-erased")
    assert {name: found for name, found in problems.items() if found} == {}
    report = audit.verify(clinician)
    assert report.ok, report.problem
    assert "The diary of this trial is closed" in page.goto(f"{base}/diary/{trial}").text()
    db.dispose()
