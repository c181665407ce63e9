"""``/trials/{id}/amendments``: list a trial's amendments, or amend it from its next period (the clinician).

The same service as the page and the CLI: past periods never change, a reason and a new safety check
are required, added cycles get their own sealed order. Nothing here depends on the allocation.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from magtrial.service import amendments
from magtrial.web.api.auth import Ctx
from magtrial.web.api.errors import ERRORS
from magtrial.web.api.router import api_router
from magtrial.web.api.schemas import In, Out
from magtrial.web.api.writer import write

router = api_router(tags=["amendments"])


class AmendmentOut(Out):
    number: int
    at: str
    by: str
    reason: str
    version: int = Field(description="The protocol version this amendment created")
    from_period: int = Field(description="First period the new version governs (0: reminder times only)")
    changes: str
    cycles_added: int
    first_added_period: int | None
    commitment: str | None = Field(description="SHA-256 commitment of the added cycles' sealed order")


class AmendmentIn(In):
    changes: dict[str, Any] = Field(
        default_factory=dict, description="period_days, washout_days, carryover_days and/or product (whole table)"
    )
    add_cycles: int = Field(0, ge=0, le=12, description="Cycles to add after the last period")
    reminder_times: list[str] | None = Field(None, max_length=6, description="Dose reminder times HH:MM")
    reason: str = Field(max_length=2000)
    clinician_ack: bool = False


@router.get("/trials/{trial_id}/amendments", response_model=list[AmendmentOut], responses=ERRORS)
def list_amendments(ctx: Ctx, trial_id: str) -> list[AmendmentOut]:
    """The trial's amendments, oldest first: reason, clinician, version, from which period, what changed."""
    return [AmendmentOut(**a) for a in amendments.list_amendments(ctx, trial_id)]


@router.post("/trials/{trial_id}/amendments", status_code=201, response_model=list[AmendmentOut], responses=ERRORS)
async def amend(ctx: Ctx, trial_id: str, body: AmendmentIn) -> list[AmendmentOut]:
    """Clinician: amend from the next period on (422 with the reason when refused; nothing stored then)."""
    await write(
        ctx.db,
        amendments.amend,
        ctx,
        trial_id,
        body.changes,
        body.reason,
        add_cycles=body.add_cycles,
        reminder_times=body.reminder_times,
        clinician_ack=body.clinician_ack,
    )
    return list_amendments(ctx, trial_id)
