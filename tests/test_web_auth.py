"""Login, sessions, CSRF, throttling, invitations and security headers of the web pages."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from magtrial.store.models import AuditEventRow
from magtrial.store.web_models import WebSessionRow
from magtrial.web import sessions
from tests import test_web_support as support
from tests.test_web_support import PASSWORDS, Web, post, token

web = support.web  # the fixture

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


def audit_actions(web: Web) -> list[str]:
    with web.db.reader() as s:
        return list(s.execute(select(AuditEventRow.action).order_by(AuditEventRow.seq)).scalars())


def test_each_role_lands_on_its_own_pages_after_login(web: Web) -> None:
    for name, home in (("P-001", f"/diary/{web.trial}"), ("dr-lee", "/clinic"), ("ph-ann", "/pharmacy")):
        client = web.client()
        page = client.get("/login")
        answer = client.post("/login", data={"name": name, "password": PASSWORDS[name], "csrf": token(page.text)})
        assert answer.status_code == 200 and answer.url.path == home


def test_pages_need_login_and_return_to_the_page_asked_for(web: Web) -> None:
    client = web.client()
    answer = client.get(f"/diary/{web.trial}/history")
    assert answer.url.path == "/login" and "next=%2Fdiary" in str(answer.url)
    answer = client.post(
        "/login",
        data={
            "name": "P-001",
            "password": PASSWORDS["P-001"],
            "csrf": token(answer.text),
            "next": f"/diary/{web.trial}/history",
        },
    )
    assert answer.url.path == f"/diary/{web.trial}/history"


def test_wrong_password_is_refused_audited_and_vague(web: Web) -> None:
    client = web.client()
    page = client.get("/login")
    answer = client.post("/login", data={"name": "P-001", "password": "not-the-password", "csrf": token(page.text)})
    assert answer.status_code == 401
    assert "wrong account name or password" in answer.text
    unknown = client.post("/login", data={"name": "nobody", "password": "whatever-it-is", "csrf": token(page.text)})
    assert unknown.status_code == 401 and "wrong account name or password" in unknown.text
    assert audit_actions(web).count("web.login_failed") == 2


def test_login_and_logout_are_audited_and_logout_ends_the_session(web: Web) -> None:
    client = web.login("P-001")
    cookie = client.cookies.get("mt_session")
    assert post(client, "/logout").url.path == "/login"
    assert audit_actions(web)[-2:] == ["web.login", "web.logout"]
    replay = web.client()
    replay.cookies.set("mt_session", cookie)
    assert replay.get(f"/diary/{web.trial}").url.path == "/login"
    with web.db.reader() as s:
        assert s.execute(select(WebSessionRow)).first() is None


def test_logging_in_again_ends_the_session_the_browser_held(web: Web) -> None:
    client = web.login("P-001")
    first = client.cookies.get("mt_session")
    page = client.get("/login")
    again = client.post("/login", data={"name": "P-001", "password": PASSWORDS["P-001"], "csrf": token(page.text)})
    assert again.status_code == 200 and client.cookies.get("mt_session") != first
    stale = web.client()
    stale.cookies.set("mt_session", first)
    assert stale.get(f"/diary/{web.trial}").url.path == "/login"  # the old token no longer works
    with web.db.reader() as s:
        assert len(s.execute(select(WebSessionRow)).all()) == 1


def test_session_token_is_stored_only_as_a_digest(web: Web) -> None:
    client = web.login("dr-lee")
    cookie = client.cookies.get("mt_session")
    with web.db.reader() as s:
        row = s.execute(select(WebSessionRow)).scalar_one()
    assert row.token_sha256 == sessions.digest(cookie) and cookie not in json.dumps(row.token_sha256)


def test_session_cookie_is_httponly_lax_and_secure_over_https(web: Web) -> None:
    for https in (False, True):
        client = web.client(https)
        page = client.get("/login")
        answer = client.post(
            "/login",
            data={"name": "P-001", "password": PASSWORDS["P-001"], "csrf": token(page.text)},
            follow_redirects=False,
        )
        cookie = answer.headers["set-cookie"].lower()
        assert "mt_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
        assert ("secure" in cookie) is https


def test_session_expires_after_idle_time_and_after_seven_days(web: Web) -> None:
    client = web.login("P-001")
    web.clock.offset = sessions.IDLE + dt.timedelta(minutes=1)
    assert client.get(f"/diary/{web.trial}").url.path == "/login"
    web.clock.offset = dt.timedelta()
    client = web.login("P-001")
    for hours in range(6, 24 * 7, 6):  # used every 6 hours: never idle, still ends at 7 days
        web.clock.offset = dt.timedelta(hours=hours)
        assert client.get(f"/diary/{web.trial}").url.path == f"/diary/{web.trial}"
    web.clock.offset = sessions.ABSOLUTE + dt.timedelta(minutes=1)
    assert client.get(f"/diary/{web.trial}").url.path == "/login"


def test_posts_without_the_csrf_token_are_refused(web: Web) -> None:
    client = web.login("P-001")
    form = {"day": dt.date.today().isoformat(), "average_pain": "4", "sleep_interference": "2"}
    for sent in ({}, {"csrf": "forged"}):
        answer = client.post(f"/diary/{web.trial}", data={**form, **sent})
        assert answer.status_code == 403 and "did not come from this site" in answer.text
    # The header HTMX sends works too; and the login form itself needs its pre-session token.
    assert client.post(f"/diary/{web.trial}", data=form, headers={"X-CSRF-Token": client.csrf}).status_code == 200
    fresh = web.client()
    answer = fresh.post("/login", data={"name": "P-001", "password": PASSWORDS["P-001"], "csrf": "x"})
    assert answer.status_code == 403


def test_login_is_throttled_after_five_failures_from_one_address(web: Web) -> None:
    client = web.client()
    csrf = token(client.get("/login").text)
    for _ in range(sessions.MAX_FAILURES):
        answer = client.post("/login", data={"name": "P-001", "password": "wrong-password", "csrf": csrf})
        assert answer.status_code == 401
    answer = client.post("/login", data={"name": "P-001", "password": PASSWORDS["P-001"], "csrf": csrf})
    assert answer.status_code == 429 and "too many failed logins" in answer.text and "15 minutes" in answer.text
    assert web.login("dr-lee")  # another account is not affected
    web.clock.offset = sessions.FAILURE_WINDOW + dt.timedelta(minutes=1)
    assert web.login("P-001")


def test_invitation_sets_the_password_once_and_logs_the_participant_in(web: Web) -> None:
    clinic = web.login("dr-lee")
    page = post(clinic, f"/clinic/trials/{web.trial}/invite")
    link = page.text.split('id="invitation-link">')[1].split("<")[0]
    path = link.removeprefix("http://testserver")
    person = web.client()
    form = person.get(path)
    assert form.status_code == 200 and "Welcome, P-001" in form.text
    short = person.post(path, data={"password": "short", "repeat": "short", "csrf": token(form.text)})
    assert short.status_code == 422 and "at least 10 characters" in short.text
    done = person.post(
        path, data={"password": "a-new-long-password", "repeat": "a-new-long-password", "csrf": token(form.text)}
    )
    assert done.url.path == f"/diary/{web.trial}"
    again = web.client().get(path)
    assert again.status_code == 409 and "already used" in again.text
    assert web.login("P-001", "a-new-long-password")
    with web.db.reader() as s:
        stored = json.dumps([r.token_sha256 for r in s.execute(select(sessions.InvitationRow)).scalars()])
    assert path.rsplit("/", 1)[1] not in stored


def test_invitation_expires_after_seven_days_and_only_clinicians_invite(web: Web) -> None:
    clinic = web.login("dr-lee")
    link = post(clinic, f"/clinic/trials/{web.trial}/invite").text.split('id="invitation-link">')[1].split("<")[0]
    web.clock.offset = dt.timedelta(days=sessions.INVITATION_DAYS, minutes=1)
    answer = web.client().get(link.removeprefix("http://testserver"))
    assert answer.status_code == 409 and "expired" in answer.text
    web.clock.offset = dt.timedelta()
    assert web.client().get("/invite/not-a-token").status_code == 404
    patient = web.login("P-001")
    assert post(patient, f"/clinic/trials/{web.trial}/invite").status_code == 403


def test_security_headers_on_pages_static_files_and_errors(web: Web) -> None:
    client = web.client()
    for url in ("/login", "/static/magtrial.css", "/no-such-page"):
        headers = client.get(url).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def test_pages_have_no_inline_script_or_style(web: Web) -> None:
    pages = [web.client().get("/login").text]
    patient = web.login("P-001")
    pages += [patient.get(u).text for u in (f"/diary/{web.trial}", f"/diary/{web.trial}/history")]
    clinic = web.login("dr-lee")
    pages += [clinic.get(u).text for u in ("/clinic", f"/clinic/trials/{web.trial}", "/clinic/new")]
    for html in pages:
        assert "<script>" not in html and " style=" not in html and "<style" not in html
        assert '<script src="/static/htmx-2.0.11.min.js"' in html


def test_errors_are_pages_with_a_reason_never_a_traceback(web: Web) -> None:
    client = web.login("P-001")
    answer = client.get("/diary/mt-00000000")
    assert answer.status_code == 404 and "no trial" in answer.text and "Traceback" not in answer.text
    assert client.get("/nowhere").status_code == 404


def test_web_events_keep_the_audit_chain_and_replay_intact(web: Web) -> None:
    from magtrial.service import Actor, Context, Role, audit

    client = web.client()
    csrf = token(client.get("/login").text)
    client.post("/login", data={"name": "P-001", "password": "wrong-password", "csrf": csrf})
    clinic = web.login("dr-lee")
    post(clinic, f"/clinic/trials/{web.trial}/invite")
    post(clinic, "/logout")
    report = audit.verify(Context(web.db, Actor("dr-lee", Role.CLINICIAN)))
    assert report.ok, report.problem
    assert {"web.login_failed", "web.login", "web.invite", "web.logout"} <= set(audit_actions(web))
