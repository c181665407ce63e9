"""Blinding-leak crawl: everything a blinded person can fetch is the same whatever the allocation.

As each blinded role on a still-blinded trial (participant P-001, clinician dr-lee, and pharmacist ph-ann
before uploading her key) the crawl follows every link from the home page, and adds every API read, every
export, the report, the audit views and a few error answers. The trial's sealed box is then re-sealed with
each sequence the design allows (as ``test_blinding.py`` does for the services) and the crawl repeated: after
removing times, CSRF tokens and audit heads, every status, body and header must be identical. Every answer is
also searched for the allocation: its salt, the private key material, the sequence letters (the FHIR study
lists every possible order, all equally often), pack contents ("pack 3: magnesium"), and JSON fields that
would carry an arm.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
import zipfile
from typing import Any

import pytest
from sqlalchemy import text

from magtrial import crypto
from magtrial.core import allocation as alloc
from magtrial.core.diary import DiaryValues
from magtrial.service import Actor, Context, Role, diary, tokens
from tests import test_web_support as support
from tests.test_api import walk
from tests.test_web_support import PACK_CONTENTS, Web

web = support.web  # the fixture
pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)

ROLES = {"patient": "P-003", "clinician": "dr-lee", "pharmacist": "ph-ann"}
CYCLES = 2  # 4 allowed orders, each crawled in full (test_blinding.py re-seals a 3-cycle trial's 8 for the services)
LINK = re.compile(r'(?:href|src)="(/[^"#]*)"')
TIMES = re.compile(r"\d{4}-?\d{2}-?\d{2}[T ]\d{2}:?\d{2}(:?\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
STAMPS = re.compile(r"\b\d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2} UTC")  # the report's "generated" line
HEADS = re.compile(r"\b\d+:[0-9a-f]{64}\b")
SKIP = ("/static/", "/logout")
SLOW = ("/report.pdf", "/protocol.pdf")  # PDFs are the crawled HTML printed (test_blinded_outputs compares reports)
ARM_KEYS = ("arm", "allocation", "sequence", "group", "group_means", "contents")


def api_reads(trial: str) -> list[str]:
    base = f"/api/v1/trials/{trial}"
    return [
        "/api/v1/me",
        "/api/v1/trials",
        base,
        f"{base}/today",
        f"{base}/diary",
        f"{base}/diary?history=true",
        f"{base}/audit",
        f"{base}/analysis",
        f"{base}/exports/csv",
        f"{base}/exports/fhir",
        f"{base}/exports/redcap",
        f"{base}/exports/reminders.ics",
        "/api/v1/audit/head",
        "/api/v1/audit/verify",
        "/api/v1/tokens",
        "/api/v1/trials/mt-00000000",
    ]


def page_extras(trial: str) -> list[str]:
    """Pages no link may point to while blinded, fetched anyway: exports, reports, charts, error answers."""
    return [
        f"/clinic/trials/{trial}/report.html",
        *(f"/clinic/trials/{trial}/export/{f}" for f in ("csv", "fhir", "redcap")),
        f"/clinic/trials/{trial}/charts/timeseries.svg",
        f"/diary/{trial}/charts/posterior.svg",
        f"/diary/{trial}/result",
        f"/pharmacy/{trial}",
        f"/diary/{trial}/reminders.ics",
        "/nowhere",
    ]


def normalise(body: str, csrf: str | None) -> str:
    if csrf:
        body = body.replace(csrf, "CSRF")
    body = HEADS.sub("HEAD", body)
    body = STAMPS.sub("TIME", body)
    return TIMES.sub("TIME", body)


def as_text(response) -> str:  # type: ignore[no-untyped-def]
    kind = response.headers.get("content-type", "")
    if "zip" in kind:
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        return "\n".join(f"== {n}\n" + archive.read(n).decode() for n in archive.namelist())
    return response.text


def crawl(
    trial: str, clients: dict[str, Any], bearer: dict[str, dict[str, str]], skip: tuple[str, ...] = ()
) -> dict[str, str]:
    """Everything each role can fetch: (role, url) -> status, the headers that matter, the body."""
    seen: dict[str, str] = {}
    for role, client in clients.items():
        queue, visited = ["/", *page_extras(trial)], set()
        while queue:
            url = queue.pop(0)
            if url in visited or url.startswith(SKIP) or url.endswith(SLOW) or any(s in url for s in skip):
                continue
            visited.add(url)
            response = client.get(url)
            body = as_text(response)
            if "html" in response.headers.get("content-type", ""):
                queue += [u.replace("&amp;", "&") for u in LINK.findall(body)]
            seen[f"{role} page {url}"] = record(response, body, client.csrf)
        for url in api_reads(trial):
            response = client.get(url, headers=bearer[role])
            seen[f"{role} api {url}"] = record(response, as_text(response), None)
    return seen


def record(response, body: str, csrf: str | None) -> str:  # type: ignore[no-untyped-def]
    headers = {
        k: v
        for k, v in response.headers.items()
        if k in ("content-type", "content-disposition", "x-magtrial-audit-head", "location")
    }
    return normalise(f"{response.status_code} {json.dumps(headers, sort_keys=True)}\n{body}", csrf)


def reseal(web: Web, trial: str, key_files, sequence: tuple[alloc.Arm, ...], salt: str) -> None:  # type: ignore[no-untyped-def]
    recipients = [k.info for _, k in key_files.values()]
    plain = alloc.canonical_bytes(trial, alloc.Design.PAIRED, sequence, salt)
    with web.db.engine.begin() as conn:
        conn.execute(
            text("UPDATE sealed_allocations SET sealed = :s WHERE trial_id = :t"),
            {"s": crypto.seal(plain, recipients), "t": trial},
        )


def leaks(seen: dict[str, str], salt: str, letters: str, orders: list[str], key_material: list[str]) -> list[str]:
    found = []
    for where, raw in seen.items():
        for secret in (salt, salt.upper(), base64.b64encode(bytes.fromhex(salt)).decode(), *key_material):
            if secret in raw:
                found.append(f"{where}: holds the salt or key material")
        if len({raw.count(order) for order in orders}) != 1:
            found.append(f"{where}: the order {letters} stands out")
        if PACK_CONTENTS.search(raw) or "magnesium (active)" in raw:
            found.append(f"{where}: pack contents {PACK_CONTENTS.search(raw)}")
        body = raw.split("\n", 1)[1]
        if body.lstrip().startswith(("{", "[")):
            try:
                doc = json.loads(body)
            except ValueError:
                continue
            pairs = list(walk(doc))
            if any(k in ARM_KEYS and v not in (None, "", [], {}) for k, v in pairs):
                found.append(f"{where}: a JSON field carries an arm")
            if any(v in ("magnesium", "comparator") for _, v in pairs):
                found.append(f"{where}: a JSON value names an arm")
    return found


def test_nothing_a_blinded_role_can_fetch_depends_on_the_allocation(web: Web, key_files, capsys) -> None:  # type: ignore[no-untyped-def]
    from magtrial.service import accounts, trials, unblinding
    from tests.helpers import ADULT, sample_protocol

    today = dt.date.today()
    lee = Context(web.db, Actor("dr-lee", Role.CLINICIAN))
    trial = trials.create_trial(
        lee, sample_protocol(cycles=CYCLES), "P-003", ADULT, start_date=today - dt.timedelta(days=12)
    ).trial_id
    accounts.set_password(lee, "P-003", "participant-three-pw")
    patient = Context(web.db, Actor("P-003", Role.PATIENT))
    for back in range(1, 9):
        diary.add_entry(
            patient,
            trial,
            today - dt.timedelta(days=back),
            DiaryValues(3 + back % 4, 7, back % 3, side_effects=frozenset({"nausea"}) if back == 3 else ()),
        )
    diary.correct_entry(patient, trial, today - dt.timedelta(days=2), {"average_pain": 2}, "tapped 3")
    clients = {
        role: web.login(name, "participant-three-pw" if role == "patient" else None) for role, name in ROLES.items()
    }
    bearer = {
        role: {
            "Authorization": "Bearer " + tokens.create_token(Context(web.db, Actor(name, Role(role))), "crawl").secret
        }
        for role, name in ROLES.items()
    }
    private = [k.private.encode().hex() for _, k in key_files.values()]
    private += [base64.b64encode(k.private.encode()).decode() for _, k in key_files.values()]

    truth = unblinding.pharmacist_record(
        Context(web.db, Actor("ph-ann", Role.PHARMACIST)),
        trial,
        key_files["pharmacist"][1],
        "test: the truth to search for",
    ).allocation
    sequences = list(alloc.possible_sequences(alloc.Design.PAIRED, CYCLES))
    orders = ["".join(a.letter for a in s) for s in sequences]
    views, found = {}, []
    others = (web.trial, web.other)  # the clinician's other participants: crawled once, not re-sealed
    first = crawl(trial, clients, bearer)  # the sealed box made at creation: the real sequence and salt
    found += leaks(first, truth.salt, truth.letters, orders, private)
    for sequence in sequences:
        reseal(web, trial, key_files, sequence, "ef" * 32)
        seen = crawl(trial, clients, bearer, skip=others)
        found += leaks(seen, "ef" * 32, "".join(a.letter for a in sequence), orders, private)
        views["".join(a.letter for a in sequence)] = seen
    reference = views[orders[0]]
    # audit/verify replays the tables: it rightly reports any re-sealed box as "not the one sealed at creation"
    # (the same words for every re-sealed order), so only that answer differs from the real box's.
    assert [k for k in reference if first[k] != reference[k]] == ["clinician api /api/v1/audit/verify"]
    differing = sorted({k for v in views.values() for k in v if v.get(k) != reference.get(k)})
    with capsys.disabled():
        pages = {r: sum(1 for k in first if k.startswith(r + " page")) for r in ROLES}
        print(
            f"\nleak crawl: {len(first)} answers (pages per role {pages}, plus API reads) searched for the salt, "
            f"key material, the order and pack contents; {len(reference)} compared across {len(views)} "
            f"allowed allocations: {len(differing)} differ, {len(found)} leaks"
        )
    assert found == []
    assert differing == []
    assert any(k.endswith(f"/diary/{trial}/history") for k in reference)  # the crawl reached the diary pages
    assert any(k.endswith(f"/clinic/trials/{trial}") for k in reference)
