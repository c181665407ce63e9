"""``/trials/{id}/blinding-check`` and ``/trials/{id}/stopping``: the same services as the pages and the CLI.

The stopping answer is the same for a benefit and a futility stop; the blinding-check answers are
raw by pack until unblinding, then Bang's index per arm is added.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from magtrial.core.blinding_check import Guess
from magtrial.service import blinding_check, stopping
from magtrial.web.api.auth import Ctx
from magtrial.web.api.errors import ERRORS
from magtrial.web.api.router import api_router
from magtrial.web.api.schemas import In, Out
from magtrial.web.api.writer import write

router = api_router(tags=["blinding check and stopping"])


class StoppingOut(Out):
    trial: str
    adaptive: bool = Field(description="The protocol has a stopping rule")
    cycles_evaluated: int
    status: str | None = Field(description='"continue" or "complete" (null for a fixed design)')
    message: str


class AnswerOut(Out):
    pack: int
    guess: str
    recorded_at: dt.datetime


class IndexOut(Out):
    arm: str
    correct: int
    incorrect: int
    dont_know: int
    estimate: float | None
    se: float | None


class BlindingCheckOut(Out):
    trial: str
    blinded_design: bool
    answers: list[AnswerOut]
    bang_index: list[IndexOut] | None = Field(description="Per arm, only once the trial is unblinded")


class GuessIn(In):
    pack: int = Field(ge=1, le=24, description="The pack (period) that has ended")
    guess: Guess = Field(description="this, other or dont-know: which pack held magnesium?")


@router.get("/trials/{trial_id}/stopping", response_model=StoppingOut, responses=ERRORS)
def stopping_status(ctx: Ctx, trial_id: str) -> StoppingOut:
    """Continue or trial complete: the same words whichever way the rule stopped."""
    return StoppingOut(**stopping.status(ctx, trial_id).to_dict())  # type: ignore[arg-type]


def _check_out(view: blinding_check.BlindingCheck) -> BlindingCheckOut:
    indices = None
    if view.indices is not None:
        indices = [
            IndexOut(
                arm=i.arm,
                correct=i.correct,
                incorrect=i.incorrect,
                dont_know=i.dont_know,
                estimate=i.estimate,
                se=i.se,
            )
            for i in view.indices
        ]
    answers = [AnswerOut(pack=a.period, guess=a.guess.value, recorded_at=a.recorded_at) for a in view.answers]
    return BlindingCheckOut(
        trial=view.trial_id, blinded_design=view.blinded_design, answers=answers, bang_index=indices
    )


@router.get("/trials/{trial_id}/blinding-check", response_model=BlindingCheckOut, responses=ERRORS)
def get_blinding_check(ctx: Ctx, trial_id: str) -> BlindingCheckOut:
    """The participant's answers by pack; Bang's blinding index per arm once unblinded."""
    return _check_out(blinding_check.check(ctx, trial_id))


@router.post("/trials/{trial_id}/blinding-check", status_code=201, response_model=BlindingCheckOut, responses=ERRORS)
async def answer(ctx: Ctx, trial_id: str, body: GuessIn) -> BlindingCheckOut:
    """The participant answers for one ended pack; one answer per pack, kept as given (409 for a second)."""
    await write(ctx.db, blinding_check.record_guess, ctx, trial_id, body.pack, body.guess)
    return _check_out(blinding_check.check(ctx, trial_id))
