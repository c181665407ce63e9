"""The JSON API through HTTP (TestClient on ``create_api_app``), on SQLite and PostgreSQL.

Every route per role, including the forbidden ones: another participant's trial is "not found",
the allocation never appears before unblinding, a bad token is a 401, and bad input is a 4xx with
one line naming the problem while nothing stored changes.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from magtrial.core.allocation import possible_sequences
from magtrial.core.diary import DiaryValues
from magtrial.service import Actor, Context, Role, accounts, diary, tokens, trials, unblinding
from magtrial.store.api_models import ApiTokenRow
from magtrial.store.db import Database
from magtrial.store.models import AccountRow, Base
from magtrial.web.api import create_api_app
from tests.helpers import ADULT, sample_protocol

API = "/api/v1"
VALUES = {"average_pain": 4, "worst_pain": 6, "sleep_interference": 2}


@pytest.fixture
def client(db: Database) -> TestClient:
    return TestClient(create_api_app(db))


def bearer(ctx: Context) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.create_token(ctx, 'test').secret}"}


@pytest.fixture
def people(db: Database, clinician: Context, pharmacist: Context, patient: Context, running_trial):  # type: ignore[no-untyped-def]
    """dr-lee's participant P-001 (the running trial) and dr-kim's participant P-009 (another trial)."""
    accounts.add_account(clinician, "dr-kim", Role.CLINICIAN)
    kim = Context(db, Actor("dr-kim", Role.CLINICIAN))
    other = trials.create_trial(kim, sample_protocol(), "P-009", ADULT, start_date=running_trial.start_date)
    return {
        "trial": running_trial.trial_id,
        "other": other.trial_id,
        "patient": bearer(patient),
        "clinician": bearer(clinician),
        "pharmacist": bearer(pharmacist),
        "other_patient": bearer(Context(db, Actor("P-009", Role.PATIENT))),
        "other_clinician": bearer(kim),
    }


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to show a refused request changed nothing."""
    with db.engine.connect() as conn:
        tables = Base.metadata.sorted_tables
        return {t.name: sorted(map(tuple, conn.execute(select(t)).all()), key=repr) for t in tables}


def walk(value: Any, key: str = ""):  # type: ignore[no-untyped-def]
    """Every (key, scalar) in a JSON document."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v, key)
    else:
        yield key, value


# --- authentication -------------------------------------------------------------------------------


def test_every_route_refuses_a_request_without_a_valid_token(client, people):
    trial = people["trial"]
    routes = [
        ("GET", "/me"),
        ("GET", "/trials"),
        ("POST", "/trials"),
        ("GET", f"/trials/{trial}"),
        ("GET", f"/trials/{trial}/today"),
        ("GET", f"/trials/{trial}/diary"),
        ("POST", f"/trials/{trial}/diary"),
        ("POST", f"/trials/{trial}/diary/2026-01-01/corrections"),
        ("POST", f"/trials/{trial}/diary/2026-01-01/void"),
        ("POST", "/safety/check"),
        ("GET", f"/trials/{trial}/analysis"),
        ("GET", f"/trials/{trial}/exports/csv"),
        ("GET", f"/trials/{trial}/exports/fhir"),
        ("GET", f"/trials/{trial}/exports/redcap"),
        ("GET", f"/trials/{trial}/exports/reminders.ics"),
        ("GET", "/audit/head"),
        ("GET", "/audit/verify"),
        ("GET", f"/trials/{trial}/audit"),
        ("GET", "/tokens"),
        ("DELETE", "/tokens/tok-1"),
        ("GET", f"/trials/{trial}/stopping"),
        ("GET", f"/trials/{trial}/blinding-check"),
        ("POST", f"/trials/{trial}/blinding-check"),
        ("GET", f"/trials/{trial}/amendments"),
        ("POST", f"/trials/{trial}/amendments"),
    ]
    documented = {
        (m, p.replace("{trial_id}", trial).replace("{day}", "2026-01-01").replace("{token_id}", "tok-1"))
        for p, item in client.get(f"{API}/openapi.json").json()["paths"].items()
        for m in (k.upper() for k in item)
    }
    assert documented == {(m, API + p) for m, p in routes}  # the list covers every route
    for headers in (
        {},
        {"Authorization": "Bearer mt_not-a-real-token"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer " + "x" * 500},
    ):
        for method, path in routes:
            r = client.request(method, API + path, headers=headers, json={})
            assert r.status_code == 401, (method, path, r.text)
            assert r.headers["www-authenticate"] == "Bearer"
            assert set(r.json()) == {"detail"} and "\n" not in r.json()["detail"]


def test_a_token_acts_as_its_account_and_is_stored_only_as_a_hash(db, client, patient, running_trial):
    made = tokens.create_token(patient, "phone app", 30)
    me = client.get(f"{API}/me", headers={"Authorization": f"Bearer {made.secret}"})
    assert me.json() == {"name": "P-001", "role": "patient"}
    with db.engine.connect() as conn:
        stored = " ".join(str(v) for t in Base.metadata.sorted_tables for row in conn.execute(select(t)) for v in row)
    assert made.secret not in stored and made.secret[3:] not in stored
    assert tokens.digest(made.secret) in stored  # the digest is what is kept
    with db.reader() as s:
        actions = [r[0] for r in s.execute(text("SELECT action FROM audit_events WHERE entity = 'api_token'"))]
    assert actions == ["token.create"]


def test_revoked_expired_and_deactivated_tokens_are_refused(db, client, patient, running_trial):
    made = tokens.create_token(patient, "phone", 1)
    headers = {"Authorization": f"Bearer {made.secret}"}
    assert client.get(f"{API}/trials", headers=headers).status_code == 200
    listed = client.get(f"{API}/tokens", headers=headers).json()
    assert [(t["id"], t["state"]) for t in listed] == [(made.token_id, "active")]

    later = Context(db, patient.actor, clock=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(days=2))
    expired = TestClient(create_api_app(db))
    expired.app.state.clock = later.clock
    r = expired.get(f"{API}/trials", headers=headers)
    assert r.status_code == 401 and "expired" in r.json()["detail"]

    r = client.delete(f"{API}/tokens/{made.token_id}", headers=headers)  # a token may revoke itself
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    r = client.get(f"{API}/trials", headers=headers)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]

    other = tokens.create_token(patient, "tablet")
    with db.transaction() as s:
        s.execute(update(AccountRow).where(AccountRow.name == "P-001").values(active=False))
    r = client.get(f"{API}/me", headers={"Authorization": f"Bearer {other.secret}"})
    assert r.status_code == 401 and "deactivated" in r.json()["detail"]


def test_one_cannot_revoke_or_list_another_accounts_tokens(db, client, people, clinician):
    theirs = tokens.create_token(clinician, "laptop")
    r = client.delete(f"{API}/tokens/{theirs.token_id}", headers=people["patient"])
    assert r.status_code == 404
    assert theirs.token_id not in json.dumps(client.get(f"{API}/tokens", headers=people["patient"]).json())
    with db.reader() as s:
        assert s.get(ApiTokenRow, theirs.token_id).revoked_at is None


def test_token_service_refuses_bad_names_and_lifetimes(patient, running_trial):
    from magtrial.errors import ValidationError

    for name, days in (("", 30), ("x" * 101, 30), ("ok", 0), ("ok", 367), ("ok", True)):
        with pytest.raises(ValidationError):
            tokens.create_token(patient, name, days)  # type: ignore[arg-type]


# --- who sees what --------------------------------------------------------------------------------


def test_each_role_lists_only_its_own_trials(client, people):
    def ids(who: str) -> set[str]:
        return {t["id"] for t in client.get(f"{API}/trials", headers=people[who]).json()}

    assert ids("patient") == {people["trial"]}
    assert ids("clinician") == {people["trial"]}
    assert ids("other_patient") == ids("other_clinician") == {people["other"]}
    assert ids("pharmacist") == {people["trial"], people["other"]}  # both sealed to ph-ann's key


@pytest.mark.parametrize("who", ["patient", "clinician"])
def test_another_participants_trial_is_not_found_on_every_route(client, people, who):
    other = people["other"]
    headers = people[who]
    for method, path, body in (
        ("GET", f"/trials/{other}", None),
        ("GET", f"/trials/{other}/today", None),
        ("GET", f"/trials/{other}/diary", None),
        ("POST", f"/trials/{other}/diary", {"values": VALUES}),
        ("POST", f"/trials/{other}/diary/{dt.date.today()}/corrections", {"changes": {"note": "x"}, "reason": "r"}),
        ("POST", f"/trials/{other}/diary/{dt.date.today()}/void", {"reason": "r"}),
        ("GET", f"/trials/{other}/analysis", None),
        ("GET", f"/trials/{other}/audit", None),
        *(("GET", f"/trials/{other}/exports/{f}", None) for f in ("csv", "fhir", "redcap", "reminders.ics")),
    ):
        r = client.request(method, API + path, headers=headers, json=body)
        assert r.status_code == 404, (method, path, r.text)
        assert r.json()["detail"].startswith(f"no trial '{other}'")
        assert "P-009" not in r.text


def test_a_participant_and_a_clinician_write_the_diary_a_pharmacist_may_not(db, client, people):
    trial = people["trial"]
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    r = client.post(f"{API}/trials/{trial}/diary", headers=people["pharmacist"], json={"values": VALUES})
    assert r.status_code == 403 and "pharmacist may not write diary entries" in r.json()["detail"]
    assert (
        client.post(f"{API}/trials/{trial}/diary", headers=people["patient"], json={"values": VALUES}).status_code
        == 201
    )
    r = client.post(
        f"{API}/trials/{trial}/diary", headers=people["clinician"], json={"day": yesterday, "values": VALUES}
    )
    assert r.status_code == 201 and r.json()["day"] == yesterday
    for path, body in (
        (f"diary/{yesterday}/corrections", {"changes": {"note": "x"}, "reason": "r"}),
        (f"diary/{yesterday}/void", {"reason": "r"}),
    ):
        r = client.post(f"{API}/trials/{trial}/{path}", headers=people["pharmacist"], json=body)
        assert r.status_code == 403, path


def test_only_a_clinician_creates_trials(db, client, people):
    body = {"participant": "P-020", "protocol": sample_protocol().to_dict(), "safety": ADULT}
    for who in ("patient", "pharmacist"):
        r = client.post(f"{API}/trials", headers=people[who], json=body)
        assert r.status_code == 403 and "may not create a trial" in r.json()["detail"]
    r = client.post(f"{API}/trials", headers=people["clinician"], json=body)
    assert r.status_code == 201
    created = r.json()
    assert created["participant"] == "P-020" and created["blinded"] and created["allocation"] is None
    assert all(p["arm"] is None for p in created["periods"])
    assert created["safety"]["verdict"] in ("ok", "caution")


def test_a_blocked_regimen_is_409_and_needs_clinician_findings_need_the_acknowledgement(client, people):
    protocol = sample_protocol().to_dict()
    kidneys = {"person": {"age": 60, "egfr": 20}}
    r = client.post(
        f"{API}/trials",
        headers=people["clinician"],
        json={"participant": "P-021", "protocol": protocol, "safety": kidneys},
    )
    assert r.status_code == 409 and "blocked" in r.json()["detail"]
    moderate = {"person": {"age": 60, "egfr": 45}}
    body = {"participant": "P-021", "protocol": protocol, "safety": moderate}
    r = client.post(f"{API}/trials", headers=people["clinician"], json=body)
    assert r.status_code == 409 and "acknowledge" in r.json()["detail"]
    r = client.post(f"{API}/trials", headers=people["clinician"], json={**body, "clinician_ack": True})
    assert r.status_code == 201 and r.json()["safety"]["clinician_acknowledged"]


# --- blinding -------------------------------------------------------------------------------------


def blinded_bodies(client: TestClient, headers: dict[str, str], trial: str) -> list[Any]:
    """What a caller can read about a trial: JSON documents, and the export files as text."""
    docs: list[Any] = [
        client.get(f"{API}{p}", headers=headers).json()
        for p in (
            "/trials",
            f"/trials/{trial}",
            f"/trials/{trial}/today",
            f"/trials/{trial}/diary?history=true",
            f"/trials/{trial}/audit",
            f"/trials/{trial}/exports/fhir",
        )
    ]
    for fmt in ("csv", "reminders.ics"):
        docs.append(client.get(f"{API}/trials/{trial}/exports/{fmt}", headers=headers).text)
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"{API}/trials/{trial}/exports/redcap", headers=headers).content))
    docs.extend(archive.read(name).decode() for name in archive.namelist())
    return docs


def test_no_blinded_answer_holds_the_allocation(db, client, people, patient, pharmacist, pharm_key):
    trial = people["trial"]
    diary.add_entry(patient, trial, dt.date.today(), DiaryValues(3, 5, 1))
    opened = unblinding.pharmacist_record(pharmacist, trial, pharm_key, "test: the truth to search for")
    salt, arms = opened.allocation.salt, [a.value for a in opened.allocation.sequence]
    orders = [
        "".join(a.letter for a in seq) for seq in possible_sequences(opened.protocol.design, opened.protocol.cycles)
    ]
    for who in ("patient", "clinician", "pharmacist"):
        for doc in blinded_bodies(client, people[who], trial):
            flat = json.dumps(doc) if not isinstance(doc, str) else doc
            assert salt not in flat and ",".join(arms) not in flat, who
            # The FHIR study lists every order the design allows; none may stand out.
            assert len({flat.count(order) for order in orders}) == 1, who
            if not isinstance(doc, str):
                pairs = list(walk(doc))
                values = [v for _, v in pairs]
                assert "magnesium" not in values and "comparator" not in values, who  # no pack contents
                assert not any(k in ("arm", "allocation", "sequence", "group") and v for k, v in pairs), who
    detail = client.get(f"{API}/trials/{trial}", headers=people["patient"]).json()
    assert detail["blinded"] and detail["allocation"] is None and all(p["arm"] is None for p in detail["periods"])
    r = client.get(f"{API}/trials/{trial}/analysis", headers=people["clinician"])
    assert r.status_code == 403 and "blinded" in r.json()["detail"]


def test_after_unblinding_arms_allocation_and_analysis_are_shown(db, clinician, emergency_key, client):
    protocol = sample_protocol()
    start = dt.date.today() - dt.timedelta(days=protocol.total_days + 2)
    rec = trials.create_trial(clinician, protocol, "P-030", ADULT, start_date=start)
    p030 = Context(db, Actor("P-030", Role.PATIENT))
    for k, plan in enumerate(rec.schedule.days()):
        diary.add_entry(p030, rec.trial_id, plan.date, DiaryValues(3 + k % 3, 5 + k % 4, 2))
    headers = bearer(p030)
    assert client.get(f"{API}/trials/{rec.trial_id}/analysis", headers=headers).status_code == 403
    unblinding.unblind(clinician, rec.trial_id, emergency_key)
    detail = client.get(f"{API}/trials/{rec.trial_id}", headers=headers).json()
    assert not detail["blinded"] and detail["allocation"]["salt"]
    assert {p["arm"] for p in detail["periods"]} == {"magnesium", "comparator"}
    r = client.get(f"{API}/trials/{rec.trial_id}/analysis", headers=headers)
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["trial_id"] == rec.trial_id and result["effect"]["lower"] <= result["effect"]["mean"]
    assert result["randomization_test"]["n_sequences"] >= 2 and result["text"]
    r = client.get(f"{API}/trials/{rec.trial_id}/analysis?outcome=worst_pain&mcid=30%25-run-in", headers=headers)
    assert r.status_code == 200 and r.json()["outcome"] == "worst_pain"
    r = client.post(
        f"{API}/trials/{rec.trial_id}/diary", headers=headers, json={"day": start.isoformat(), "values": VALUES}
    )
    assert r.status_code == 409 and "locked" in r.json()["detail"]


# --- diary ----------------------------------------------------------------------------------------


def test_diary_add_correct_void_and_history(db, client, people):
    trial, headers = people["trial"], people["patient"]
    day = dt.date.today().isoformat()
    r = client.post(
        f"{API}/trials/{trial}/diary",
        headers=headers,
        json={"values": {**VALUES, "side_effects": ["nausea"], "note": "ok"}},
    )
    assert r.status_code == 201
    entry = r.json()
    assert (entry["day"], entry["version"], entry["kind"], entry["urgent"]) == (day, 1, "original", False)
    assert client.get(f"{API}/audit/head", headers=headers).json()["head"] == entry["receipt"]

    r = client.post(f"{API}/trials/{trial}/diary", headers=headers, json={"values": VALUES})
    assert r.status_code == 409 and "correct it" in r.json()["detail"]

    r = client.post(
        f"{API}/trials/{trial}/diary/{day}/corrections",
        headers=headers,
        json={"changes": {"average_pain": 3}, "reason": "typed 4 by mistake"},
    )
    assert r.status_code == 201
    corrected = r.json()
    assert corrected["version"] == 2 and corrected["values"]["average_pain"] == 3
    assert corrected["values"]["note"] == "ok" and corrected["values"]["side_effects"] == ["nausea"]

    current = client.get(f"{API}/trials/{trial}/diary", headers=headers).json()
    assert [(e["day"], e["version"]) for e in current["entries"]] == [(day, 2)]
    history = client.get(f"{API}/trials/{trial}/diary?history=true", headers=headers).json()
    assert [(e["version"], e["values"]["average_pain"]) for e in history["entries"]] == [(1, 4), (2, 3)]

    r = client.post(f"{API}/trials/{trial}/diary/{day}/void", headers=headers, json={"reason": "wrong day"})
    assert r.status_code == 201 and r.json()["kind"] == "void" and r.json()["values"] is None
    assert client.get(f"{API}/trials/{trial}/diary", headers=headers).json()["entries"] == []
    assert len(client.get(f"{API}/trials/{trial}/diary?history=true", headers=headers).json()["entries"]) == 3
    assert client.get(f"{API}/audit/verify", headers=people["clinician"]).json()["ok"]


def test_a_stop_symptom_comes_back_urgent_and_flags_the_trial(client, people):
    trial = people["trial"]
    r = client.post(
        f"{API}/trials/{trial}/diary",
        headers=people["patient"],
        json={"values": {**VALUES, "side_effects": ["muscle-weakness"]}},
    )
    assert r.status_code == 201
    entry = r.json()
    assert entry["urgent"] and entry["findings"][0]["urgent"] and entry["findings"][0]["source"]
    assert "muscle weakness" in entry["findings"][0]["message"].lower()
    listed = client.get(f"{API}/trials", headers=people["clinician"]).json()
    assert listed[0]["flags"] == 1
    assert any(
        "muscle weakness" in f.lower()
        for f in client.get(f"{API}/trials/{trial}", headers=people["clinician"]).json()["flags"]
    )


def test_today_names_a_pack_never_an_arm(client, people, running_trial):
    r = client.get(f"{API}/trials/{people['trial']}/today", headers=people["patient"])
    plan = r.json()
    assert plan["date"] == dt.date.today().isoformat() and plan["kind"] == "period"
    assert f"pack {plan['pack']}" in plan["instruction"]
    first = client.get(
        f"{API}/trials/{people['trial']}/today?date={running_trial.start_date}", headers=people["patient"]
    ).json()
    assert first["kind"] == "run-in" and first["pack"] is None


# --- safety check, exports, audit -----------------------------------------------------------------


def test_safety_check_returns_the_verdict_and_sourced_findings_and_stores_nothing(db, client, people):
    before = snapshot(db)
    body = {
        "person": {"age": 61, "sex": "male", "egfr": 72},
        "jurisdiction": "US",
        "product": [
            {
                "name": "Mg citrate",
                "salt": "citrate",
                "elemental_mg_per_unit": 100,
                "units_per_day": 2,
                "doses_per_day": 2,
            }
        ],
        "medication": [{"name": "gabapentin", "times": ["08:00", "20:00"]}],
    }
    r = client.post(f"{API}/safety/check", headers=people["patient"], json=body)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["verdict"] == "caution" and report["total_oral_mg"] == 200 and report["may_start"]
    gabapentin = [f for f in report["findings"] if "gabapentin" in f["rule_id"]]
    assert gabapentin and all(f["source"] for f in report["findings"])
    assert report["timetable"]["feasible"] and report["timetable"]["doses"]
    r = client.post(f"{API}/safety/check", headers=people["patient"], json={**body, "person": {"age": 61, "egfr": 20}})
    assert r.json()["verdict"] == "blocked" and not r.json()["may_start"]
    assert snapshot(db) == before


def test_exports_come_in_their_formats_with_the_audit_head(client, people, patient):
    trial, headers = people["trial"], people["clinician"]
    diary.add_entry(patient, trial, dt.date.today(), DiaryValues(3, 5, 1))
    head = client.get(f"{API}/audit/head", headers=headers).json()["head"]
    answers = {
        f: client.get(f"{API}/trials/{trial}/exports/{f}", headers=headers)
        for f in ("csv", "fhir", "redcap", "reminders.ics")
    }
    for r in answers.values():
        assert r.status_code == 200 and r.headers["x-magtrial-audit-head"] == head
        assert "attachment" in r.headers["content-disposition"]
    assert answers["csv"].headers["content-type"].startswith("text/csv") and "average_pain" in answers["csv"].text
    assert answers["fhir"].json()["resourceType"] == "Bundle"
    names = zipfile.ZipFile(io.BytesIO(answers["redcap"].content)).namelist()
    assert names == [f"{trial}_redcap_data.csv", f"{trial}_redcap_dictionary.csv"]
    assert answers["reminders.ics"].text.startswith("BEGIN:VCALENDAR")
    r = client.get(f"{API}/trials/{trial}/exports/reminders.ics?diary_time=21:30&dose_time=09:00", headers=headers)
    assert r.status_code == 200 and "T213000" in r.text


def test_audit_head_for_everyone_full_verify_for_clinicians_only(client, people):
    for who in ("patient", "clinician", "pharmacist"):
        assert ":" in client.get(f"{API}/audit/head", headers=people[who]).json()["head"]
    ok = client.get(f"{API}/audit/verify", headers=people["clinician"]).json()
    assert ok["ok"] and ok["problem"] == ""
    kept = ok["head"]
    assert client.get(f"{API}/audit/verify?expect_head={kept}", headers=people["clinician"]).json()["ok"]
    for who in ("patient", "pharmacist"):
        assert client.get(f"{API}/audit/verify", headers=people[who]).status_code == 403
    events = client.get(f"{API}/trials/{people['trial']}/audit", headers=people["patient"]).json()
    assert events[0]["action"] == "trial.create" and all(e["seq"] for e in events)


def test_openapi_schema_describes_every_route_and_the_docs_page_is_served(client):
    schema = client.get(f"{API}/openapi.json").json()
    assert schema["components"]["securitySchemes"]["access token"]["scheme"].lower() == "bearer"
    for path, item in schema["paths"].items():
        for method, op in item.items():
            ok = op["responses"].get("200") or op["responses"].get("201")
            assert ok and ok["content"], (method, path)
            assert {"401", "404", "422"} <= set(op["responses"]), (method, path)
    diary_in = schema["components"]["schemas"]["DiaryValues"]
    assert diary_in["additionalProperties"] is False and "average_pain" in diary_in["required"]
    docs = client.get(f"{API}/docs")
    assert docs.status_code == 200 and f"{API}/openapi.json" in docs.text
    assert "'sha256-" in docs.headers["content-security-policy"]  # its one inline script, nothing else


# --- bad input: a 4xx with one line, and nothing stored changes -----------------------------------

BIG = "x" * (70 * 1024)
BAD_INPUT = [
    # (case, method, path after /trials/{trial}, JSON body or raw (bytes, content type), status, words in detail)
    (
        "score above 10",
        "POST",
        "/diary",
        {"values": {**VALUES, "average_pain": 11, "worst_pain": 11}},
        422,
        "average pain must be 0-10",
    ),
    ("negative score", "POST", "/diary", {"values": {**VALUES, "sleep_interference": -1}}, 422, "0-10"),
    (
        "score as text",
        "POST",
        "/diary",
        {"values": {**VALUES, "average_pain": "4"}},
        422,
        "values.average_pain must be a whole number",
    ),
    ("score as a fraction", "POST", "/diary", {"values": {**VALUES, "average_pain": 4.5}}, 422, "values.average_pain"),
    ("score as true", "POST", "/diary", {"values": {**VALUES, "average_pain": True}}, 422, "values.average_pain"),
    ("worst below average", "POST", "/diary", {"values": {**VALUES, "worst_pain": 1}}, 422, "worst pain"),
    (
        "unknown side effect",
        "POST",
        "/diary",
        {"values": {**VALUES, "side_effects": ["hiccups"]}},
        422,
        "unknown side effect",
    ),
    ("note too long", "POST", "/diary", {"values": {**VALUES, "note": "x" * 2001}}, 422, "values.note is too long"),
    ("unknown field", "POST", "/diary", {"values": VALUES, "mood": 3}, 422, "unknown key mood"),
    ("unknown diary value", "POST", "/diary", {"values": {**VALUES, "mood": 3}}, 422, "unknown key values.mood"),
    ("values missing", "POST", "/diary", {"day": "2026-01-01"}, 422, "values is missing"),
    ("no body", "POST", "/diary", None, 422, "needs a JSON body"),
    ("future day", "POST", "/diary", {"day": "2999-01-01", "values": VALUES}, 422, "in the future"),
    ("day before the trial", "POST", "/diary", {"day": "2001-01-01", "values": VALUES}, 422, "before the trial"),
    ("day not a date", "POST", "/diary", {"day": "01/02/2026", "values": VALUES}, 422, "day"),
    ("second entry for a day", "POST", "/diary", {"day": "EXISTING", "values": VALUES}, 409, "already an entry"),
    ("plain text body", "POST", "/diary", (b"average 4", "text/plain"), 415, "send the body as JSON"),
    ("form body", "POST", "/diary", (b"average_pain=4", "application/x-www-form-urlencoded"), 415, "JSON"),
    ("broken JSON", "POST", "/diary", (b'{"values": {', "application/json"), 422, "not valid JSON"),
    ("JSON list", "POST", "/diary", (b"[1, 2]", "application/json"), 422, ""),
    ("oversized body", "POST", "/diary", {"values": {**VALUES, "note": BIG}}, 413, "larger than 64 kB"),
    ("oversized chunked body", "POST", "/diary", ("CHUNKS", "application/json"), 413, "64 kB"),
    (
        "correction without reason",
        "POST",
        "/diary/EXISTING/corrections",
        {"changes": {"average_pain": 3}},
        422,
        "reason is missing",
    ),
    (
        "empty reason",
        "POST",
        "/diary/EXISTING/corrections",
        {"changes": {"average_pain": 3}, "reason": ""},
        422,
        "reason",
    ),
    (
        "correction of a day without entry",
        "POST",
        "/diary/EMPTY/corrections",
        {"changes": {"average_pain": 3}, "reason": "r"},
        404,
        "no current entry",
    ),
    (
        "correction with unknown field",
        "POST",
        "/diary/EXISTING/corrections",
        {"changes": {"mood": 3}, "reason": "r"},
        422,
        "unknown key changes.mood",
    ),
    (
        "correction out of range",
        "POST",
        "/diary/EXISTING/corrections",
        {"changes": {"worst_pain": 12}, "reason": "r"},
        422,
        "0-10",
    ),
    (
        "correction of a bad date",
        "POST",
        "/diary/2026-02-31/corrections",
        {"changes": {"average_pain": 3}, "reason": "r"},
        422,
        "path parameter day",
    ),
    ("void without reason", "POST", "/diary/EXISTING/void", {}, 422, "reason is missing"),
    ("history not a flag", "GET", "/diary?history=maybe", None, 422, "query parameter history"),
    ("today of a bad date", "GET", "/today?date=yesterday", None, 422, "query parameter date"),
    ("reminder time out of range", "GET", "/exports/reminders.ics?diary_time=25:00", None, 422, "diary_time"),
    ("analysis before unblinding", "GET", "/analysis", None, 403, "blinded"),
]


@pytest.mark.parametrize(
    ("case", "method", "path", "body", "status", "words"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT]
)
def test_bad_input_is_refused_with_one_line_and_changes_nothing(
    db, client, people, patient, case, method, path, body, status, words
):
    trial = people["trial"]
    existing = dt.date.today() - dt.timedelta(days=1)
    diary.add_entry(patient, trial, existing, DiaryValues(4, 6, 2))
    empty = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    path = path.replace("EXISTING", existing.isoformat()).replace("EMPTY", empty)
    if isinstance(body, dict) and body.get("day") == "EXISTING":
        body = {**body, "day": existing.isoformat()}
    kwargs: dict[str, Any] = {"headers": dict(people["patient"])}
    if isinstance(body, tuple):
        kwargs["content"], kwargs["headers"]["Content-Type"] = body
        if body[0] == "CHUNKS":  # no Content-Length: the limit must hold while reading
            kwargs["content"] = iter([BIG.encode()[:40_000], BIG.encode()[40_000:]])
    elif body is not None:
        kwargs["json"] = body
    before = snapshot(db)
    r = client.request(method, f"{API}/trials/{trial}{path}", **kwargs)
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and words in detail
    assert len(detail) < 400  # a 70 kB note is never echoed back
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("case", "body", "words"),
    [
        ("cycles 0", {"protocol": {"cycles": 0}}, "cycles must be 1-12"),
        ("unknown protocol key", {"protocol": {"colour": "red"}}, "unknown key protocol.colour"),
        ("unknown condition", {"protocol": {"condition": "flu"}}, "protocol.condition must be one of"),
        ("age out of range", {"safety": {"person": {"age": 200}}}, "age must be 0-120"),
        ("participant not text", {"participant": 17}, "participant"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_bad_trial_input_is_refused_and_creates_nothing(db, client, people, case, body, words):
    good = {"participant": "P-040", "protocol": sample_protocol().to_dict(), "safety": ADULT}
    merged = {**good, **body}
    for part in ("protocol", "safety"):
        if part in body:
            merged[part] = {**good[part], **body[part]}
    before = snapshot(db)
    r = client.post(f"{API}/trials", headers=people["clinician"], json=merged)
    assert r.status_code == 422, r.text
    assert words in r.json()["detail"] and "\n" not in r.json()["detail"]
    assert snapshot(db) == before


def test_safety_check_input_errors_name_the_field(client, people):
    for body, words in (
        ({"person": {"age": 61}}, "product is missing"),
        ({"person": {"age": "old"}, "product": []}, "person.age must be a number"),
        ({"person": {"age": 61}, "product": [{"name": "x", "salt": "citrate"}]}, "elemental mg per unit"),
    ):
        r = client.post(f"{API}/safety/check", headers=people["patient"], json=body)
        assert r.status_code == 422 and words in r.json()["detail"], r.text
