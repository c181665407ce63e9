"""``/audit``: the chain's head (a receipt anyone may keep), a full verification, a trial's events."""

from __future__ import annotations

from typing import Any

from fastapi import Query

from magtrial.service import Role, audit
from magtrial.service.access import require
from magtrial.web.api.auth import Ctx
from magtrial.web.api.errors import ERRORS
from magtrial.web.api.router import api_router
from magtrial.web.api.schemas import Out

router = api_router(tags=["audit"])


class HeadOut(Out):
    head: str  # SEQ:HASH


class VerifyOut(Out):
    ok: bool
    events: int
    head: str
    problem: str  # the first difference found, "" when ok
    bad_seq: int | None
    legacy_clear_allocations: int


class EventOut(Out):
    seq: int
    at: str
    actor: str
    role: str
    action: str
    entity: str
    entity_id: str
    old: Any
    new: Any  # allocation details read "[sealed until unblinding]" while blinded
    reason: str


@router.get("/audit/head", response_model=HeadOut, responses=ERRORS)
def head(ctx: Ctx) -> HeadOut:
    """The newest link of the audit chain; `audit/verify?expect_head=` later proves it still holds."""
    return HeadOut(head=str(audit.head(ctx)))


@router.get("/audit/verify", response_model=VerifyOut, responses=ERRORS)
def verify(ctx: Ctx, expect_head: str | None = Query(None, max_length=80, description="A kept SEQ:HASH")) -> VerifyOut:
    """Walk the chain, check a kept head, replay the events against the tables (clinicians)."""
    # The replay's messages name any trial and account, so only a clinician-administrator sees them.
    require(ctx.actor, Role.CLINICIAN, to="verify the whole audit trail")
    r = audit.verify(ctx, expect_head)
    return VerifyOut(
        ok=r.ok,
        events=r.events,
        head=str(r.head),
        problem=r.problem,
        bad_seq=r.bad_seq,
        legacy_clear_allocations=r.legacy_clear_allocations,
    )


@router.get("/trials/{trial_id}/audit", response_model=list[EventOut], responses=ERRORS)
def trail(ctx: Ctx, trial_id: str) -> list[EventOut]:
    """A trial's events, for anyone who may see the trial."""
    return [EventOut(**vars(e)) for e in audit.trail(ctx, trial_id)]
