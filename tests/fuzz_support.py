"""Schemathesis against the API's own OpenAPI schema, shared by the suite (bounded) and the long script.

``fuzz(app, people, ...)`` draws requests for every operation of ``/api/v1/openapi.json`` with
Hypothesis, sends each as every role (Bearer tokens), and checks every answer: no 5xx, a status
the operation documents, the documented content type, and a body valid against the response
schema. Path parameters are drawn from the caller's own trial, another participant's trial and
whatever the schema allows (so most requests reach the handlers, not only the 404).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hseed
from hypothesis import strategies as st

API_SCHEMA = "/api/v1/openapi.json"
ROLES = ("patient", "clinician", "pharmacist")


@dataclass
class FuzzReport:
    cases: int = 0
    by_operation: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def _checks() -> list[Any]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
    ]


def fuzz(
    app: Any,
    people: dict[str, Any],
    max_examples: int,
    *,
    negative_roles: tuple[str, ...] = ROLES,
    seed: int | None = None,
    derandomize: bool = False,
) -> FuzzReport:
    """Fuzz every operation as every role in ``people`` (role -> headers; plus 'trial', 'other', 'days').

    Valid requests (Hypothesis' positive mode) go out as every role; requests that break the schema
    (negative mode: wrong types, missing fields, odd bytes) as each of ``negative_roles``.
    """
    import schemathesis
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_asgi(API_SCHEMA, app)
    report = FuzzReport()
    checks = _checks()
    odd_ids = st.text(st.characters(exclude_characters="/?#."), min_size=1, max_size=12)
    trial_ids = st.sampled_from([people["trial"], people["other"]]) | odd_ids
    days = st.sampled_from(people["days"]) | st.dates(dt.date(1900, 1, 1), dt.date(2200, 1, 1)).map(str)
    for result in schema.get_all_operations():
        operation = result.ok()
        for role in ROLES:
            modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if role in negative_roles else [])
            for mode in modes:
                run = _one(operation, mode, people[role], trial_ids, days, checks, report)
                run = settings(
                    max_examples=max_examples,
                    deadline=None,
                    database=None,
                    derandomize=derandomize,
                    suppress_health_check=list(HealthCheck),
                    print_blob=False,
                )(run)
                if seed is not None:
                    run = hseed(seed)(run)
                run()
    return report


def _one(
    operation: Any, mode: Any, headers: dict[str, str], trial_ids: Any, days: Any, checks: list[Any], report: FuzzReport
) -> Any:
    from schemathesis import GenerationMode
    from schemathesis.core.failures import FailureGroup

    @given(case=operation.as_strategy(generation_mode=mode), trial=trial_ids, day=days)
    def run(case: Any, trial: str, day: str) -> None:
        if mode is GenerationMode.POSITIVE:  # mostly real objects, so requests reach the handlers
            for name, value in (("trial_id", trial), ("day", day)):
                if name in (case.path_parameters or {}):
                    case.path_parameters[name] = value
        response = case.call(headers=headers)
        report.cases += 1
        report.by_operation[operation.label] += 1
        report.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except FailureGroup as group:  # every failure is collected and reported, the draw goes on
            titles = sorted({getattr(e, "title", type(e).__name__) for e in group.exceptions})
            request = response.request
            report.failures.append(
                f"{operation.label} as {mode.value} -> {response.status_code} "
                f"{', '.join(titles)}: {request.method} {request.url} {request.body!r:.200}"
            )

    return run
