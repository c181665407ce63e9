"""``POST /safety/check``: a magnesium regimen against the sourced safety tables; nothing is stored.

The same core call as ``magtrial safety check --file``: the body has the file's keys (``person``,
``product`` list, ``medication`` list, ``jurisdiction``) plus optional waking hours.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from magtrial.core.inputs import ClockTime
from magtrial.core.protocol import Product
from magtrial.core.safety import check_regimen
from magtrial.core.safety.model import Jurisdiction, Medication, Person, SafetyReport
from magtrial.data.safety import load_safety_rules
from magtrial.web.api.auth import Ctx
from magtrial.web.api.errors import ERRORS
from magtrial.web.api.router import api_router
from magtrial.web.api.schemas import FindingOut, In, Out

router = api_router(tags=["safety"])


class SafetyCheckIn(In):
    person: Person
    product: list[Product] = Field(min_length=1, max_length=10)
    medication: list[Medication] = Field(default_factory=list, max_length=50)
    jurisdiction: Jurisdiction = Jurisdiction.US
    wake: ClockTime = dt.time(7, 0)
    sleep: ClockTime = dt.time(22, 0)


class DoseOut(Out):
    product: str
    route: str
    elemental_mg_per_day: float
    counts_toward_ul: bool
    basis: str  # how the dose was worked out


class DoseTimeOut(Out):
    time: str  # HH:MM
    label: str


class TimetableOut(Out):
    feasible: bool
    reason: str
    doses: list[DoseTimeOut]
    constraints: list[str]


class SafetyReportOut(Out):
    verdict: str = Field(description="ok, caution, needs-clinician or blocked (the most serious finding)")
    may_start: bool
    needs_acknowledgement: bool
    summary: str
    total_oral_mg: float
    upper_limit_mg: float | None
    rda_mg: float | None
    jurisdiction: str
    findings: list[FindingOut] = Field(description="Most serious first, each with its rule's source")
    doses: list[DoseOut]
    timetable: TimetableOut | None

    @classmethod
    def of(cls, r: SafetyReport) -> SafetyReportOut:
        t = r.timetable
        return cls(
            verdict=r.verdict.value,
            may_start=r.may_start,
            needs_acknowledgement=r.needs_acknowledgement,
            summary=r.summary(),
            total_oral_mg=r.total_oral_mg,
            upper_limit_mg=r.upper_limit_mg,
            rda_mg=r.rda_mg,
            jurisdiction=r.jurisdiction.value,
            findings=[FindingOut.of(f) for f in r.by_level()],
            doses=[
                DoseOut(
                    product=d.product_name,
                    route=d.route,
                    elemental_mg_per_day=d.elemental_mg_per_day,
                    counts_toward_ul=d.counts_toward_ul,
                    basis=d.basis,
                )
                for d in r.doses
            ],
            timetable=None
            if t is None
            else TimetableOut(
                feasible=t.feasible,
                reason=t.reason,
                constraints=list(t.constraints),
                doses=[DoseTimeOut(time=f"{d.time:%H:%M}", label=d.label) for d in t.doses],
            ),
        )


@router.post("/safety/check", response_model=SafetyReportOut, responses=ERRORS)
def check(ctx: Ctx, body: SafetyCheckIn) -> SafetyReportOut:
    """Check a person's regimen: elemental dose, upper limit, kidneys, conditions, interactions, dose times."""
    report = check_regimen(
        body.person,
        body.product,
        body.medication,
        body.jurisdiction,
        rules=load_safety_rules(),
        wake=body.wake,
        sleep=body.sleep,
    )
    return SafetyReportOut.of(report)
