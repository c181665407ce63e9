"""Fixtures for the web tests: the app on the real test database, and logged-in clients per role.

(No tests here; other ``test_web_*`` modules import these fixtures.)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from magtrial.service import Context, accounts, trials, unblinding
from magtrial.service.context import utcnow
from magtrial.settings import Settings
from magtrial.store.db import Database
from tests.helpers import ADULT, sample_protocol

PASSWORDS = {
    "dr-lee": "clinician-password",
    "ph-ann": "pharmacist-password",
    "P-001": "participant-one-pw",
    "P-002": "participant-two-pw",
}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class MovableClock:
    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return utcnow() + self.offset


@dataclass
class Web:
    app: FastAPI
    db: Database
    clock: MovableClock
    trial: str  # P-001's running trial (dr-lee's, sealed to ph-ann's key)
    other: str  # P-002's trial (same clinician)

    def client(self, https: bool = False) -> TestClient:
        return TestClient(
            self.app, base_url="https://testserver" if https else "http://testserver", follow_redirects=True
        )

    def login(self, name: str, password: str | None = None, https: bool = False) -> TestClient:
        client = self.client(https)
        page = client.get("/login")
        answer = client.post(
            "/login",
            data={"name": name, "password": password or PASSWORDS[name], "csrf": token(page.text), "next": "/"},
        )
        assert answer.status_code == 200, answer.text
        client.csrf = token(answer.text)  # type: ignore[attr-defined]
        return client


def token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def post(client: TestClient, url: str, data: dict[str, Any] | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
    return client.post(url, data={"csrf": client.csrf, **(data or {})}, **kwargs)  # type: ignore[attr-defined]


@pytest.fixture
def web(db: Database, clinician: Context, running_trial, tmp_path, monkeypatch) -> Iterator[Web]:  # type: ignore[no-untyped-def]
    from argon2 import PasswordHasher

    from magtrial.web.app import create_app

    # Cheap Argon2 parameters for test speed only (a hash records its own parameters, so checks stay real).
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))

    other = trials.create_trial(
        clinician, sample_protocol(), "P-002", ADULT, start_date=dt.date.today() - dt.timedelta(days=10)
    )
    for name, password in PASSWORDS.items():  # each sets their own (a clinician may set only participants')
        accounts.set_password(Context(db, accounts.actor_for(db, name)), name, password)
    clock = MovableClock()
    app = create_app(Settings(data_dir=tmp_path), database=db, clock=clock)
    yield Web(app, db, clock, running_trial.trial_id, other.trial_id)


def secrets_of(web: Web, pharmacist: Context, key) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """What must never show before unblinding: the sequence (letters and arm names per pack) and the salt."""
    rec = unblinding.pharmacist_record(pharmacist, web.trial, key, "test: what must stay hidden")
    allocation = rec.allocation
    assert allocation is not None
    packs = [(p.number, allocation.arm_of_period(p.number).value) for p in rec.schedule.periods]
    return {"letters": allocation.letters, "salt": allocation.salt, "packs": packs}


PACK_CONTENTS = re.compile(r"pack\s*\d+\s*(=|:|-|\()?\s*(magnesium|comparator|placebo|active)", re.IGNORECASE)


def assert_blinded(html: str, hidden: dict[str, Any], fhir: bool = False) -> None:
    assert hidden["salt"] not in html
    if fhir:  # a FHIR ResearchStudy lists every possible order alike; the subject is assigned none
        assert "assignedArm" not in html and "actualArm" not in html
    else:
        assert hidden["letters"] not in html
    assert not PACK_CONTENTS.search(html), PACK_CONTENTS.search(html)
    assert "magnesium (active)" not in html
