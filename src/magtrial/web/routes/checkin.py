"""Pages for the blinding check and adaptive stopping.

- participant: the Today page asks "Which pack do you think held magnesium?" after a period ends
  (``today_extras`` feeds ``participant/_checkin.html``; three buttons, no typing) and shows the
  stopping status; the answer is posted here.
- clinician: the answers by pack, Bang's index once unblinded, and the stopping status.
- pharmacist: evaluate the stopping rule with the uploaded key (used for that request only).

Blinded people see only ``core.stopping.MESSAGES``: the same bytes whichever way the rule stopped.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from magtrial.core.blinding_check import QUESTION, Guess
from magtrial.errors import Forbidden
from magtrial.service import Context, Role, blinding_check, stopping, trials
from magtrial.web.deps import ContextDep
from magtrial.web.keyupload import unlocked_key
from magtrial.web.pages import render
from magtrial.web.security import verify_csrf

router = APIRouter(dependencies=[Depends(verify_csrf)])


def today_extras(ctx: Context, trial_id: str) -> dict[str, Any]:
    """What the participant's Today page adds: a pending blinding-check question and the stopping status."""
    status = stopping.status(ctx, trial_id)
    return {
        "check_pack": blinding_check.pending_period(ctx, trial_id),
        "check_question": QUESTION,
        "check_choices": [(g.value, g.label) for g in Guess],
        "stopping": status if status.adaptive and status.status is not None else None,
    }


@router.post("/diary/{trial_id}/blinding-check")
async def answer(request: Request, trial_id: str, ctx: ContextDep) -> Response:
    if ctx.actor.role is not Role.PATIENT:
        raise Forbidden("only the participant answers the blinding check")
    form = await request.form()
    raw = str(form.get("pack") or "")
    pack = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else -1  # -1: refused, after the trial check
    blinding_check.record_guess(ctx, trial_id, pack, str(form.get("guess") or ""))
    return RedirectResponse(f"/diary/{trial_id}", status_code=303)


@router.get("/clinic/trials/{trial_id}/blinding-check")
def clinician_view(request: Request, trial_id: str, ctx: ContextDep) -> Response:
    if ctx.actor.role is not Role.CLINICIAN:
        raise Forbidden("this is the clinician's page")
    rec = trials.record(ctx, trial_id)
    return render(
        request,
        "clinic/checkin.html",
        {
            "rec": rec,
            "check": blinding_check.check(ctx, trial_id),
            "stopping": stopping.status(ctx, trial_id),
            "rule": rec.protocol.stopping,
            "question": QUESTION,
        },
    )


@router.post("/pharmacy/{trial_id}/stopping")
async def evaluate(
    request: Request,
    trial_id: str,
    ctx: ContextDep,
    passphrase: Annotated[str, Form()] = "",
    key: Annotated[UploadFile | None, File()] = None,
) -> Response:
    if ctx.actor.role is not Role.PHARMACIST:
        raise Forbidden("these are the pharmacist's pages")
    rec = trials.record(ctx, trial_id)
    unlocked = await unlocked_key(key, passphrase)
    result = stopping.evaluate(ctx, trial_id, unlocked)
    del unlocked
    return render(request, "pharmacy/stopping.html", {"rec": rec, "stopping": result})
