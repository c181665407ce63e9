"""The pharmacist's pages: their trials, and per trial the pack labels and pack list after unlocking.

The key file and passphrase come with each request and are dropped after it; opening the pack list
is an audit event written by ``service.unblinding``. The labels show trial, pseudonym, pack number,
dates and instructions only, and look the same for every pack; the pack list (pack -> contents) is
on its own printed page, so the labels can go with the packs without it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from magtrial.errors import Forbidden
from magtrial.service import Context, Role, trials, unblinding
from magtrial.web.deps import ContextDep
from magtrial.web.keyupload import unlocked_key
from magtrial.web.pages import render
from magtrial.web.security import verify_csrf

router = APIRouter(prefix="/pharmacy", dependencies=[Depends(verify_csrf)])
CONTENTS = {"magnesium": "magnesium (active)", "comparator": "comparator"}


def _pharmacist(ctx: Context) -> Context:
    if ctx.actor.role is not Role.PHARMACIST:
        raise Forbidden("these are the pharmacist's pages")
    return ctx


@router.get("")
def my_trials(request: Request, ctx: ContextDep) -> Response:
    return render(request, "pharmacy/trials.html", {"trials": trials.list_trials(_pharmacist(ctx))})


@router.get("/{trial_id}")
def unlock_form(request: Request, trial_id: str, ctx: ContextDep) -> Response:
    rec = trials.record(_pharmacist(ctx), trial_id)
    return render(request, "pharmacy/unlock.html", {"rec": rec})


@router.post("/{trial_id}/packs")
async def packs(
    request: Request,
    trial_id: str,
    ctx: ContextDep,
    passphrase: Annotated[str, Form()] = "",
    key: Annotated[UploadFile | None, File()] = None,
) -> Response:
    rec = trials.record(_pharmacist(ctx), trial_id)
    unlocked = await unlocked_key(key, passphrase)
    pack_list = unblinding.packs(ctx, trial_id, unlocked)
    del unlocked
    product = rec.protocol.product
    instructions = (
        f"{product.units_per_day:g} a day in {product.doses_per_day} dose"
        f"{'s' if product.doses_per_day != 1 else ''}, as prescribed. Keep out of reach of children."
    )
    periods = {p.number: p for p in rec.schedule.periods}
    comparator = rec.protocol.comparator.value
    rows = [
        {
            "pack": n,
            "period": periods[n],
            "contents": CONTENTS.get(arm, arm) if arm != "comparator" else f"comparator ({comparator})",
        }
        for n, arm in pack_list
    ]
    return render(request, "pharmacy/packs.html", {"rec": rec, "rows": rows, "instructions": instructions})
