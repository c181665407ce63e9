"""``/trials``: list, read, create, today's plan. Blinded reads carry no arm and no grouping of packs.

What a record holds is decided by ``service.trials.record``: arms exist only once a trial is
unblinded, so ``TrialOut.periods[].arm`` and ``TrialOut.allocation`` are null before that,
whoever asks; the per-period calendar speaks of packs only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Query
from pydantic import Field

from magtrial.core.protocol import Protocol
from magtrial.core.record import TrialRecord
from magtrial.core.safety.profile import SafetyProfile
from magtrial.service import trials
from magtrial.web.api.auth import Ctx
from magtrial.web.api.errors import ERRORS
from magtrial.web.api.router import api_router
from magtrial.web.api.schemas import FindingOut, In, Out
from magtrial.web.api.writer import write

router = api_router(tags=["trials"])


class TrialSummaryOut(Out):
    id: str
    participant: str
    status: str  # active, unblinded, stopped
    start: dt.date
    flags: int  # safety flags raised for the clinician
    simulated: bool


class PeriodOut(Out):
    number: int
    pack: int
    cycle: int
    start: dt.date
    end: dt.date
    analysis_start: dt.date  # first day after the carry-over window
    arm: str | None = Field(None, description="magnesium or comparator; null until the trial is unblinded")


class AllocationOut(Out):
    """Revealed at unblinding; with the commitment anyone can recheck it (`magtrial trial verify`)."""

    design: str
    sequence: list[str]
    salt: str


class SafetyOut(Out):
    verdict: str
    total_oral_mg: float | None = None
    upper_limit_mg: float | None = None
    findings: list[FindingOut]
    timetable: list[str]  # dose times HH:MM
    clinician_acknowledged: bool


class TrialOut(Out):
    id: str
    participant: str
    status: str
    simulated: bool
    blinded: bool
    commitment: str = Field(description="SHA-256 commitment to the allocation, published at creation")
    start_date: dt.date
    end_date: dt.date
    created_at: dt.datetime
    unblinded_at: dt.datetime | None
    protocol: dict[str, Any] = Field(description="The protocol's keys, as in a trial file")
    periods: list[PeriodOut]
    allocation: AllocationOut | None
    flags: list[str]
    safety: SafetyOut | None
    audit_head: str = Field(description="SEQ:HASH of the audit chain when this was read")

    @classmethod
    def of(cls, rec: TrialRecord) -> TrialOut:
        schedule, allocation = rec.schedule, rec.allocation
        periods = [
            PeriodOut(
                number=p.number,
                pack=p.pack,
                cycle=p.cycle,
                start=p.start,
                end=p.end,
                analysis_start=p.analysis_start,
                arm=allocation.arm_of_period(p.number).value if allocation else None,
            )
            for p in schedule.periods
        ]
        safety: Any = rec.extra.get("safety")
        return cls(
            id=rec.trial_id,
            participant=rec.participant,
            status=rec.status,
            simulated=rec.simulated,
            blinded=rec.blinded,
            commitment=rec.commitment,
            start_date=rec.start_date,
            end_date=schedule.end,
            created_at=rec.created_at,
            unblinded_at=rec.unblinded_at,
            protocol=rec.protocol.to_dict(),
            periods=periods,
            flags=list(rec.flags),
            audit_head=rec.audit_head,
            allocation=None
            if allocation is None
            else AllocationOut(
                design=allocation.design.value, sequence=[a.value for a in allocation.sequence], salt=allocation.salt
            ),
            safety=None
            if not safety
            else SafetyOut(
                verdict=safety["verdict"],
                total_oral_mg=safety.get("total_oral_mg"),
                upper_limit_mg=safety.get("upper_limit_mg"),
                findings=[FindingOut.of_dict(f) for f in safety.get("findings", [])],
                timetable=list(safety.get("timetable", [])),
                clinician_acknowledged=bool(safety.get("clinician_acknowledged")),
            ),
        )


class TrialIn(In):
    participant: str = Field(max_length=100, description="The participant's pseudonym, never a real name")
    protocol: Protocol
    safety: SafetyProfile = Field(description="person, medication and jurisdiction for the safety check")
    start_date: dt.date | None = None
    clinician_ack: bool = Field(False, description="The clinician acknowledges 'needs clinician' findings")
    pharmacist: str | None = Field(None, max_length=100, description="Whose pharmacist key seals the allocation")


class DayPlanOut(Out):
    date: dt.date
    kind: str  # before-start, run-in, period, washout, after-end
    period: int | None
    pack: int | None
    day_in_period: int | None
    counts_for_analysis: bool
    instruction: str


@router.get("/trials", response_model=list[TrialSummaryOut], responses=ERRORS)
def list_trials(ctx: Ctx) -> list[dict[str, Any]]:
    """Your trials: a participant's own, a clinician's participants', a pharmacist's."""
    return trials.list_trials(ctx)


@router.post("/trials", status_code=201, response_model=TrialOut, responses=ERRORS)
async def create_trial(ctx: Ctx, body: TrialIn) -> TrialOut:
    """Create a trial (clinicians): safety check, allocation drawn and sealed to the unblinding keys."""
    rec = await write(
        ctx.db,
        trials.create_trial,
        ctx,
        body.protocol,
        body.participant,
        body.safety.to_dict(),
        body.start_date,
        body.clinician_ack,
        pharmacist=body.pharmacist,
    )
    return TrialOut.of(rec)


@router.get("/trials/{trial_id}", response_model=TrialOut, responses=ERRORS)
def get_trial(ctx: Ctx, trial_id: str) -> TrialOut:
    """One trial: protocol, calendar by period and pack (arms only once unblinded), flags, audit head."""
    return TrialOut.of(trials.record(ctx, trial_id))


@router.get("/trials/{trial_id}/today", response_model=DayPlanOut, responses=ERRORS)
def today(ctx: Ctx, trial_id: str, date: dt.date | None = Query(None, description="Another day")) -> DayPlanOut:
    """What to take today: a pack number, never an arm."""
    plan = trials.today(ctx, trial_id, date)
    return DayPlanOut(
        date=plan.date,
        kind=plan.kind.value,
        period=plan.period,
        pack=plan.pack,
        day_in_period=plan.day_in_period,
        counts_for_analysis=plan.counts_for_analysis,
        instruction=plan.instruction(),
    )
