"""Schemathesis against the API's own OpenAPI schema: every operation, as every role, zero 5xx, zero answers
outside the schema (status, content type, headers, body).

Bounded here (a fixed, derandomized draw per operation, role and mode); ``scripts/fuzz_api.py`` runs the
same with many more examples and random seeds, on SQLite and PostgreSQL, and prints the figures.
"""

from __future__ import annotations

import datetime as dt

import pytest

from magtrial.core.diary import DiaryValues
from magtrial.service import Actor, Context, Role, accounts, diary, tokens, trials
from magtrial.settings import Settings
from magtrial.web.app import create_app
from tests.fuzz_support import ROLES, fuzz
from tests.helpers import ADULT, sample_protocol

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


def fuzz_people(db, clinician, patient, pharmacist, running_trial) -> dict:  # type: ignore[no-untyped-def]
    """Tokens per role, the patient's own trial with two entries, and another clinician's participant's trial."""
    accounts.add_account(clinician, "dr-kim", Role.CLINICIAN)
    kim = Context(db, Actor("dr-kim", Role.CLINICIAN))
    other = trials.create_trial(kim, sample_protocol(), "P-009", ADULT, start_date=running_trial.start_date)
    today = dt.date.today()
    for back in (1, 2):
        diary.add_entry(patient, running_trial.trial_id, today - dt.timedelta(days=back), DiaryValues(4, 6, 2))
    people = {
        role: {"Authorization": f"Bearer {tokens.create_token(ctx, 'fuzz').secret}"}
        for role, ctx in (("patient", patient), ("clinician", clinician), ("pharmacist", pharmacist))
    }
    people.update(
        trial=running_trial.trial_id,
        other=other.trial_id,
        days=[(today - dt.timedelta(days=k)).isoformat() for k in range(4)],
    )
    return people


def test_every_operation_as_every_role_answers_within_the_schema_and_never_5xx(
    db, clinician, patient, pharmacist, running_trial, tmp_path, capsys
):
    people = fuzz_people(db, clinician, patient, pharmacist, running_trial)
    app = create_app(Settings(data_dir=tmp_path), database=db)
    report = fuzz(app, people, max_examples=5, negative_roles=("clinician",), derandomize=True)
    operations = len(report.by_operation)
    with capsys.disabled():
        print(
            f"\nfuzz: {report.cases} cases, {operations} operations x {len(ROLES)} roles, "
            f"{len(report.failures)} failures; statuses {dict(sorted(report.statuses.items()))}"
        )
    assert report.failures == []
    assert operations == 25 and min(report.by_operation.values()) >= len(ROLES)  # 20 + check, stopping, amendments
    assert not any(status >= 500 for status in report.statuses)
    assert any(200 <= status < 300 for status in report.statuses)  # the fuzzer reached real answers too
