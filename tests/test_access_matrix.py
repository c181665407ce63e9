"""Every route (enumerated from ``app.routes``) x every role x own / another participant's object, in one table.

Roles: nobody logged in, participant P-001, clinician dr-lee, pharmacist ph-ann; pages through a login
session, the API through each account's Bearer token. "Own" is P-001's trial (dr-lee's participant, sealed
to ph-ann's key); "other" is P-009's trial, made by another clinician (dr-kim) and sealed to another
pharmacist's key (ph-bob). Another person's object must answer as if it did not exist (404) or be refused
for the role (403) -- never a 2xx, never their pseudonym -- and nothing stored changes while the whole
"other" column runs (a snapshot before and after). The clinic's emergency key and ph-ann's pharmacist key
are uploaded against the other trial too: holding a key opens nothing that is not yours.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from magtrial import crypto
from magtrial.core.diary import DiaryValues
from magtrial.service import Actor, Context, Role, accounts, diary, keys, tokens, trials
from tests import test_web_support as support
from tests.helpers import ADULT, KEY_PASSPHRASE, sample_protocol
from tests.test_api import snapshot
from tests.test_web_support import Web

web = support.web  # the fixture
pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)

ROLES = ("anon", "patient", "clinician", "pharmacist")
ACCOUNT = {"patient": "P-001", "clinician": "dr-lee", "pharmacist": "ph-ann"}
TODAY = dt.date.today()
DAY = {role: (TODAY - dt.timedelta(days=k)).isoformat() for k, role in enumerate(ROLES)}  # a free day each
EXISTING = (TODAY - dt.timedelta(days=5)).isoformat()  # an entry on both trials, to correct
API_DAY = {role: (TODAY - dt.timedelta(days=k)).isoformat() for role, k in (("patient", 4), ("clinician", 10))}
VOIDABLE = {role: (TODAY - dt.timedelta(days=6 + k)).isoformat() for k, role in enumerate(ROLES)}
VALUES = {"average_pain": 3, "worst_pain": 5, "sleep_interference": 1}
LOGIN = "login"  # pages: 303 to /login; API: 401

# (method, path): expected status per role as "own/other" (one value when the route names no object).
# 2xx and 303 (to somewhere other than the login page) are written as they come; "login" as above.
MATRIX: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/"): {"anon": LOGIN, "patient": "303", "clinician": "303", "pharmacist": "303"},
    ("GET", "/login"): {"anon": "200", "patient": "200", "clinician": "200", "pharmacist": "200"},
    ("POST", "/login"): {"anon": "401", "patient": "401", "clinician": "401", "pharmacist": "401"},
    ("POST", "/logout"): {"anon": LOGIN, "patient": LOGIN, "clinician": LOGIN, "pharmacist": LOGIN},  # -> /login
    ("GET", "/invite/{token}"): {"anon": "404", "patient": "404", "clinician": "404", "pharmacist": "404"},
    ("POST", "/invite/{token}"): {"anon": "404", "patient": "404", "clinician": "404", "pharmacist": "404"},
    ("GET", "/diary"): {"anon": LOGIN, "patient": "303", "clinician": "403", "pharmacist": "403"},
    ("GET", "/diary/{trial_id}"): {
        "anon": LOGIN,
        "patient": "200/404",
        "clinician": "403/403",
        "pharmacist": "403/403",
    },
    ("POST", "/diary/{trial_id}"): {
        "anon": LOGIN,
        "patient": "200/404",
        "clinician": "403/403",
        "pharmacist": "403/403",
    },
    ("GET", "/diary/{trial_id}/history"): {
        "anon": LOGIN,
        "patient": "200/404",
        "clinician": "403/403",
        "pharmacist": "403/403",
    },
    ("GET", "/diary/{trial_id}/correct/{day}"): {
        "anon": LOGIN,
        "patient": "200/404",
        "clinician": "403/403",
        "pharmacist": "403/403",
    },
    ("POST", "/diary/{trial_id}/correct/{day}"): {
        "anon": LOGIN,
        "patient": "200/404",
        "clinician": "403/403",
        "pharmacist": "403/403",
    },
    ("GET", "/diary/{trial_id}/reminders.ics"): {
        "anon": LOGIN,
        "patient": "200/404",
        "clinician": "403/403",
        "pharmacist": "403/403",
    },
    ("GET", "/diary/{trial_id}/result"): {
        "anon": LOGIN,
        "patient": "200/404",
        "clinician": "403/403",
        "pharmacist": "403/403",
    },
    ("GET", "/diary/{trial_id}/charts/{name}.svg"): {
        "anon": LOGIN,
        "patient": "404/404",
        "clinician": "403/403",
        "pharmacist": "403/403",
    },
    ("GET", "/clinic"): {"anon": LOGIN, "patient": "403", "clinician": "200", "pharmacist": "403"},
    ("GET", "/clinic/trials/{trial_id}"): {
        "anon": LOGIN,
        "patient": "403/403",
        "clinician": "200/404",
        "pharmacist": "403/403",
    },
    ("POST", "/clinic/trials/{trial_id}/invite"): {
        "anon": LOGIN,
        "patient": "403/403",
        "clinician": "200/404",
        "pharmacist": "403/403",
    },
    ("POST", "/clinic/trials/{trial_id}/unblind"): {
        "anon": LOGIN,
        "patient": "403/403",
        "clinician": "422/404",
        "pharmacist": "403/403",
    },
    ("GET", "/clinic/trials/{trial_id}/charts/{name}.svg"): {
        "anon": LOGIN,
        "patient": "403/403",
        "clinician": "404/404",
        "pharmacist": "403/403",
    },
    ("GET", "/clinic/trials/{trial_id}/report.{fmt}"): {
        "anon": LOGIN,
        "patient": "403/403",
        "clinician": "200/404",
        "pharmacist": "403/403",
    },
    ("GET", "/clinic/trials/{trial_id}/export/{fmt}"): {
        "anon": LOGIN,
        "patient": "403/403",
        "clinician": "200/404",
        "pharmacist": "403/403",
    },
    ("GET", "/clinic/keys"): {"anon": LOGIN, "patient": "403", "clinician": "200", "pharmacist": "403"},
    ("GET", "/clinic/pooled"): {"anon": LOGIN, "patient": "403", "clinician": "200", "pharmacist": "403"},
    ("GET", "/clinic/pooled/forest.svg"): {"anon": LOGIN, "patient": "403", "clinician": "200", "pharmacist": "403"},
    ("GET", "/clinic/new"): {"anon": LOGIN, "patient": "403", "clinician": "200", "pharmacist": "403"},
    ("POST", "/clinic/safety-check"): {"anon": LOGIN, "patient": "403", "clinician": "200", "pharmacist": "403"},
    ("POST", "/clinic/new"): {"anon": LOGIN, "patient": "403", "clinician": "422", "pharmacist": "403"},
    ("GET", "/pharmacy"): {"anon": LOGIN, "patient": "403", "clinician": "403", "pharmacist": "200"},
    ("GET", "/pharmacy/{trial_id}"): {
        "anon": LOGIN,
        "patient": "403/403",
        "clinician": "403/403",
        "pharmacist": "200/404",
    },
    ("POST", "/pharmacy/{trial_id}/packs"): {
        "anon": LOGIN,
        "patient": "403/403",
        "clinician": "403/403",
        "pharmacist": "200/404",
    },
    ("GET", "/api/v1/trials"): {"anon": LOGIN, "patient": "200", "clinician": "200", "pharmacist": "200"},
    ("POST", "/api/v1/trials"): {"anon": LOGIN, "patient": "403", "clinician": "201", "pharmacist": "403"},
    ("GET", "/api/v1/trials/{trial_id}"): {
        "anon": LOGIN,
        "patient": "200/404",
        "clinician": "200/404",
        "pharmacist": "200/404",
    },
    ("GET", "/api/v1/trials/{trial_id}/today"): {
        "anon": LOGIN,
        "patient": "200/404",
        "clinician": "200/404",
        "pharmacist": "200/404",
    },
    ("GET", "/api/v1/trials/{trial_id}/diary"): {
        "anon": LOGIN,
        "patient": "200/404",
        "clinician": "200/404",
        "pharmacist": "200/404",
    },
    ("POST", "/api/v1/trials/{trial_id}/diary"): {
        "anon": LOGIN,
        "patient": "201/404",
        "clinician": "201/404",
        "pharmacist": "403/403",
    },
    ("POST", "/api/v1/trials/{trial_id}/diary/{day}/corrections"): {
        "anon": LOGIN,
        "patient": "201/404",
        "clinician": "201/404",
        "pharmacist": "403/403",
    },
    ("POST", "/api/v1/trials/{trial_id}/diary/{day}/void"): {
        "anon": LOGIN,
        "patient": "201/404",
        "clinician": "201/404",
        "pharmacist": "403/403",
    },
    ("POST", "/api/v1/safety/check"): {"anon": LOGIN, "patient": "200", "clinician": "200", "pharmacist": "200"},
    ("GET", "/api/v1/trials/{trial_id}/analysis"): {
        "anon": LOGIN,
        "patient": "403/404",
        "clinician": "403/404",
        "pharmacist": "403/404",
    },
    ("GET", "/api/v1/trials/{trial_id}/exports/csv"): {
        "anon": LOGIN,
        "patient": "200/404",
        "clinician": "200/404",
        "pharmacist": "200/404",
    },
    ("GET", "/api/v1/trials/{trial_id}/exports/fhir"): {
        "anon": LOGIN,
        "patient": "200/404",
        "clinician": "200/404",
        "pharmacist": "200/404",
    },
    ("GET", "/api/v1/trials/{trial_id}/exports/redcap"): {
        "anon": LOGIN,
        "patient": "200/404",
        "clinician": "200/404",
        "pharmacist": "200/404",
    },
    ("GET", "/api/v1/trials/{trial_id}/exports/reminders.ics"): {
        "anon": LOGIN,
        "patient": "200/404",
        "clinician": "200/404",
        "pharmacist": "200/404",
    },
    ("GET", "/api/v1/audit/head"): {"anon": LOGIN, "patient": "200", "clinician": "200", "pharmacist": "200"},
    ("GET", "/api/v1/audit/verify"): {"anon": LOGIN, "patient": "403", "clinician": "200", "pharmacist": "403"},
    ("GET", "/api/v1/trials/{trial_id}/audit"): {
        "anon": LOGIN,
        "patient": "200/404",
        "clinician": "200/404",
        "pharmacist": "200/404",
    },
    ("GET", "/api/v1/me"): {"anon": LOGIN, "patient": "200", "clinician": "200", "pharmacist": "200"},
    ("GET", "/api/v1/tokens"): {"anon": LOGIN, "patient": "200", "clinician": "200", "pharmacist": "200"},
    ("DELETE", "/api/v1/tokens/{token_id}"): {
        "anon": LOGIN,
        "patient": "200/404",
        "clinician": "200/404",
        "pharmacist": "200/404",
    },
    ("GET", "/api/v1/openapi.json"): {"anon": "200", "patient": "200", "clinician": "200", "pharmacist": "200"},
    ("GET", "/api/v1/docs"): {"anon": "200", "patient": "200", "clinician": "200", "pharmacist": "200"},
    # Blinding check and adaptive stopping (web/routes/checkin.py, web/api/checkin.py): no answer or key sent here.
    ("POST", "/diary/{trial_id}/blinding-check"): {
        "anon": LOGIN,
        "patient": "422/404",
        "clinician": "403/403",
        "pharmacist": "403/403",
    },
    ("GET", "/clinic/trials/{trial_id}/blinding-check"): {
        "anon": LOGIN,
        "patient": "403/403",
        "clinician": "200/404",
        "pharmacist": "403/403",
    },
    ("POST", "/pharmacy/{trial_id}/stopping"): {
        "anon": LOGIN,
        "patient": "403/403",
        "clinician": "403/403",
        "pharmacist": "422/404",
    },
    ("GET", "/api/v1/trials/{trial_id}/stopping"): {
        "anon": LOGIN,
        "patient": "200/404",
        "clinician": "200/404",
        "pharmacist": "200/404",
    },
    ("GET", "/api/v1/trials/{trial_id}/blinding-check"): {
        "anon": LOGIN,
        "patient": "200/404",
        "clinician": "200/404",
        "pharmacist": "200/404",
    },
    ("POST", "/api/v1/trials/{trial_id}/blinding-check"): {
        "anon": LOGIN,
        "patient": "422/422",
        "clinician": "422/422",
        "pharmacist": "422/422",
    },
    # Co-interventions, clinic measurements, late-entry approvals (web/routes/clinic_records.py): the matrix's
    # form holds no kind or item, so a clinician's post is refused as invalid; an approval of a free day succeeds.
    ("GET", "/clinic/trials/{trial_id}/clinic-record"): {
        "anon": LOGIN,
        "patient": "403/403",
        "clinician": "200/404",
        "pharmacist": "403/403",
    },
    ("POST", "/clinic/trials/{trial_id}/co-interventions"): {
        "anon": LOGIN,
        "patient": "403/403",
        "clinician": "422/422",
        "pharmacist": "403/403",
    },
    ("POST", "/clinic/trials/{trial_id}/measurements"): {
        "anon": LOGIN,
        "patient": "403/403",
        "clinician": "422/422",
        "pharmacist": "403/403",
    },
    ("POST", "/clinic/trials/{trial_id}/late-entries"): {
        "anon": LOGIN,
        "patient": "403/403",
        "clinician": "303/404",
        "pharmacist": "403/403",
    },
    # Amendments, protocol document, timeline (web/routes/amendments.py): the matrix's form changes nothing (422);
    # the protocol document is html or pdf, so the matrix's "csv" is not found.
    ("GET", "/clinic/trials/{trial_id}/amendments"): {
        "anon": LOGIN,
        "patient": "403/403",
        "clinician": "200/404",
        "pharmacist": "403/403",
    },
    ("POST", "/clinic/trials/{trial_id}/amendments"): {
        "anon": LOGIN,
        "patient": "403/403",
        "clinician": "422/404",
        "pharmacist": "403/403",
    },
    ("GET", "/clinic/trials/{trial_id}/protocol.{fmt}"): {
        "anon": LOGIN,
        "patient": "403/403",
        "clinician": "404/404",
        "pharmacist": "403/403",
    },
    ("GET", "/clinic/trials/{trial_id}/timeline.svg"): {
        "anon": LOGIN,
        "patient": "403/403",
        "clinician": "200/404",
        "pharmacist": "403/403",
    },
    ("GET", "/api/v1/trials/{trial_id}/amendments"): {
        "anon": LOGIN,
        "patient": "200/404",
        "clinician": "200/404",
        "pharmacist": "200/404",
    },
    ("POST", "/api/v1/trials/{trial_id}/amendments"): {
        "anon": LOGIN,
        "patient": "403/403",
        "clinician": "422/404",
        "pharmacist": "403/403",
    },
    # Consent and withdrawal (web/routes/consent.py): the matrix's form holds no version, choice or text (422);
    # the own trial has no signed consent, and the copy is signed.html or signed.pdf, so "csv" is not found.
    ("GET", "/diary/{trial_id}/consent"): {
        "anon": LOGIN,
        "patient": "200/404",
        "clinician": "403/403",
        "pharmacist": "403/403",
    },
    ("POST", "/diary/{trial_id}/consent"): {
        "anon": LOGIN,
        "patient": "422/404",
        "clinician": "403/403",
        "pharmacist": "403/403",
    },
    ("GET", "/diary/{trial_id}/consent/signed.{fmt}"): {
        "anon": LOGIN,
        "patient": "404/404",
        "clinician": "404/404",
        "pharmacist": "404/404",
    },
    ("GET", "/diary/{trial_id}/withdraw"): {
        "anon": LOGIN,
        "patient": "200/404",
        "clinician": "403/403",
        "pharmacist": "403/403",
    },
    ("POST", "/diary/{trial_id}/withdraw"): {
        "anon": LOGIN,
        "patient": "422/404",
        "clinician": "403/403",
        "pharmacist": "403/403",
    },
    ("GET", "/clinic/trials/{trial_id}/consent"): {
        "anon": LOGIN,
        "patient": "403/403",
        "clinician": "200/404",
        "pharmacist": "403/403",
    },
    ("POST", "/clinic/trials/{trial_id}/consent"): {
        "anon": LOGIN,
        "patient": "403/403",
        "clinician": "422/404",
        "pharmacist": "403/403",
    },
}


def every_route(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every route the app serves (FastAPI's included routers flattened); static files aside."""
    try:
        from fastapi.routing import iter_route_contexts

        found = [(c.route, c.path) for c in iter_route_contexts(app.router.routes)]
    except ImportError:  # older FastAPI: app.routes is already flat
        found = [(r, getattr(r, "path", "")) for r in app.routes]
    return sorted({(m, path) for route, path in found for m in (getattr(route, "methods", None) or ()) if m != "HEAD"})


def setup_other_world(web: Web, tmp_path) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """dr-kim's participant P-009, sealed to ph-bob's key; entries and tokens on both sides."""
    db = web.db
    lee = Context(db, Actor("dr-lee", Role.CLINICIAN))
    accounts.add_account(lee, "dr-kim", Role.CLINICIAN)
    accounts.add_account(lee, "ph-bob", Role.PHARMACIST)
    bob_key = crypto.generate_key_file(tmp_path / "bob.key", "pharmacist", "ph-bob", KEY_PASSPHRASE)
    keys.register_key(lee, bob_key)
    kim = Context(db, Actor("dr-kim", Role.CLINICIAN))
    other = trials.create_trial(
        kim, sample_protocol(), "P-009", ADULT, start_date=TODAY - dt.timedelta(days=20), pharmacist="ph-bob"
    )
    p001, p009 = Context(db, Actor("P-001", Role.PATIENT)), Context(db, Actor("P-009", Role.PATIENT))
    for ctx, trial in ((p001, web.trial), (p009, other.trial_id)):
        for day in (EXISTING, *VOIDABLE.values()):
            diary.add_entry(ctx, trial, dt.date.fromisoformat(day), DiaryValues(4, 6, 2))
    api = {role: tokens.create_token(Context(db, Actor(name, Role(role))), "matrix") for role, name in ACCOUNT.items()}
    spare = {
        role: tokens.create_token(Context(db, Actor(name, Role(role))), "to revoke") for role, name in ACCOUNT.items()
    }
    theirs = tokens.create_token(p009, "P-009's own")
    return {"own": web.trial, "other": other.trial_id, "api": api, "spare": spare, "theirs": theirs.token_id}


def request_for(method: str, path: str, role: str, which: str, world: dict[str, Any], key_files) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """URL and body for one cell: the object is ``which`` ('own' or 'other'), writes touch this role's own day."""
    trial = world[which]
    names = {
        "trial_id": trial,
        "day": EXISTING,
        "name": "timeseries",
        "fmt": "html" if "report" in path else "csv",
        "token": "not-an-invitation",
        "token_id": world["spare"][role].token_id if which == "own" and role != "anon" else world["theirs"],
    }
    if path.endswith("/void"):
        names["day"] = VOIDABLE[role]
    url = path
    for name, value in names.items():
        url = url.replace("{" + name + "}", value)
    kwargs: dict[str, Any] = {}
    if url.startswith("/api/"):
        if method == "POST":
            kwargs["json"] = {
                "/api/v1/trials": {
                    "participant": f"P-1{ROLES.index(role)}",
                    "protocol": sample_protocol().to_dict(),
                    "safety": ADULT,
                    "pharmacist": "ph-ann",
                },
                "/api/v1/safety/check": {
                    "person": {"age": 50},
                    "product": [
                        {"name": "Mg citrate", "salt": "citrate", "elemental_mg_per_unit": 100, "units_per_day": 2}
                    ],
                },
            }.get(path) or (
                {"day": API_DAY.get(role, DAY[role]), "values": VALUES}
                if path.endswith("/diary")
                else {"changes": {"note": f"by {role}"}, "reason": "matrix"}
                if path.endswith("corrections")
                else {"reason": "matrix"}
            )
        return {"url": url, **kwargs}
    if method == "POST":
        data: dict[str, Any] = {
            "average_pain": "3",
            "sleep_interference": "1",
            "day": DAY[role],
            "reason": "matrix",
            "note": f"by {role}",
            "name": "nobody",
            "password": "wrong-password-1",
            "repeat": "wrong-password-1",
            "participant": "",
            "passphrase": KEY_PASSPHRASE,
        }
        if path.endswith("/unblind") or path.endswith("/packs"):
            purpose = "emergency" if path.endswith("/unblind") else "pharmacist"
            if which == "other" or purpose == "pharmacist":  # the real key: own pack list opens, other's never
                key_path = key_files[purpose][0]
                kwargs["files"] = {"key": (key_path.name, key_path.read_bytes(), "application/json")}
        kwargs["data"] = data
    return {"url": url, **kwargs}


def send(client: TestClient, method: str, cell: dict[str, Any], headers: dict[str, str]):  # type: ignore[no-untyped-def]
    url = cell.pop("url")
    if "data" in cell and getattr(client, "csrf", None):
        cell["data"] = {**cell["data"], "csrf": client.csrf}  # type: ignore[attr-defined]
    return client.request(method, url, headers=headers, follow_redirects=False, **cell)


def outcome(response, api: bool) -> str:  # type: ignore[no-untyped-def]
    status = response.status_code
    if status == 303 and response.headers["location"].startswith("/login"):
        return LOGIN
    if status == 401 and api:
        return LOGIN
    return str(status)


def test_every_route_for_every_role_on_own_and_other_objects(web: Web, key_files, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    routes = every_route(web.app)
    assert set(routes) == set(MATRIX), {
        "not in the table": set(routes) - set(MATRIX),
        "no longer served": set(MATRIX) - set(routes),
    }
    world = setup_other_world(web, tmp_path)
    clients = {"anon": web.client(), **{role: web.login(name) for role, name in ACCOUNT.items()}}
    clients["anon"].csrf = support.token(clients["anon"].get("/login").text)  # type: ignore[attr-defined]
    checked, wrong = 0, []
    for which in ("own", "other"):
        before = snapshot(web.db) if which == "other" else None
        for (method, path), expected in MATRIX.items():
            for role in ROLES:
                want = expected[role].split("/")
                if len(want) == 1 and which == "other":
                    continue  # no object in the route: one cell only
                want_here = want[0] if which == "own" else want[-1]
                api = path.startswith("/api/")
                headers = {"Authorization": f"Bearer {world['api'][role].secret}"} if api and role != "anon" else {}
                client = clients[role] if not api else clients["anon"]
                if path == "/logout" and role != "anon":
                    client = web.login(ACCOUNT[role])  # a session of its own, so the others stay logged in
                response = send(client, method, request_for(method, path, role, which, world, key_files), headers)
                got = outcome(response, api)
                checked += 1
                if got != want_here:
                    wrong.append(
                        f"{method} {path} as {role} on {which}: {got}, expected {want_here}: {response.text[:160]!r}"
                    )
                if which == "other":
                    assert not got.startswith("2"), (method, path, role, response.text[:300])
                    assert "P-009" not in response.text, (method, path, role)
        if before is not None:
            after = snapshot(web.db)
            changed = {t for t in before if before[t] != after[t]}
            assert changed <= {"login_failures", "audit_events", "audit_head"}, changed
            # A failed login (the POST /login cell) is the only event written while the other column runs.
            new_events = [row for row in after["audit_events"] if row not in before["audit_events"]]
            assert all("web.login_failed" in map(str, row) for row in new_events), new_events
    with capsys.disabled():
        print(f"\naccess matrix: {len(routes)} routes x {len(ROLES)} roles x own/other = {checked} requests")
    assert wrong == [], "\n".join(wrong)
