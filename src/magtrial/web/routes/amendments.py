"""The clinician's amendment page, the protocol document and the timeline diagram of one trial.

The form posts the same changes the CLI's ``amendment add`` takes; empty fields change nothing.
Nothing on these pages depends on the allocation: the protocol document and the timeline are drawn
from the calendar (arms on the timeline only once the service hands out an unblinded record).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from magtrial.errors import Forbidden, NotFound, ValidationError
from magtrial.service import Context, Role, amendments, trials
from magtrial.web.deps import ContextDep
from magtrial.web.pages import render
from magtrial.web.results import DOCUMENT_CSP, attachment
from magtrial.web.security import IMAGE_CSP, verify_csrf

router = APIRouter(prefix="/clinic", dependencies=[Depends(verify_csrf)])
WHOLE_NUMBERS = {"period_days": "period length", "washout_days": "washout", "carryover_days": "carry-over"}


def _clinician(ctx: Context) -> Context:
    if ctx.actor.role is not Role.CLINICIAN:
        raise Forbidden("only the clinician amends a trial")
    return ctx


def _whole(form: FormData, name: str, label: str) -> int | None:
    raw = str(form.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 3:
        raise ValidationError(f"{label} must be a whole number, got {raw[:20]!r}")
    return int(raw)


@router.get("/trials/{trial_id}/amendments")
def page(request: Request, trial_id: str, ctx: ContextDep) -> Response:
    rec = trials.record(_clinician(ctx), trial_id)
    listed = amendments.list_amendments(ctx, trial_id)
    return render(request, "clinic/amendments.html", {"rec": rec, "amendments": listed, "labels": WHOLE_NUMBERS})


@router.post("/trials/{trial_id}/amendments")
async def amend(request: Request, trial_id: str, ctx: ContextDep) -> Response:
    rec = trials.record(_clinician(ctx), trial_id)
    form = await request.form()
    changes: dict[str, object] = {}
    for name, label in WHOLE_NUMBERS.items():
        value = _whole(form, name, label)
        if value is not None:
            changes[name] = value
    units = str(form.get("units_per_day") or "").strip()
    if units:
        try:
            changes["product"] = {**rec.protocol.to_dict()["product"], "units_per_day": float(units)}
        except ValueError:
            raise ValidationError(f"units per day must be a number, got {units[:20]!r}") from None
    times = [t for t in str(form.get("reminders") or "").replace(",", " ").split() if t]
    amendments.amend(
        ctx,
        trial_id,
        changes,
        str(form.get("reason") or ""),
        add_cycles=_whole(form, "add_cycles", "cycles to add") or 0,
        reminder_times=times or None,
        clinician_ack=form.get("clinician_ack") == "yes",
    )
    return RedirectResponse(f"/clinic/trials/{trial_id}/amendments", status_code=303)


@router.get("/trials/{trial_id}/protocol.{fmt}")
def protocol(trial_id: str, fmt: str, ctx: ContextDep) -> Response:
    from magtrial.report.protocol_doc import render_protocol_html, render_protocol_pdf

    rec = trials.record(_clinician(ctx), trial_id)
    if fmt == "html":  # a self-contained document with its own inline style, like the report
        headers = {"Content-Security-Policy": DOCUMENT_CSP, "Cache-Control": "no-store"}
        return Response(render_protocol_html(rec, ctx.clock()), media_type="text/html", headers=headers)
    if fmt == "pdf":
        return attachment(render_protocol_pdf(rec, ctx.clock()), "application/pdf", f"{trial_id}-protocol.pdf")
    raise NotFound("a protocol document is html or pdf")


@router.get("/trials/{trial_id}/timeline.svg")
def timeline(trial_id: str, ctx: ContextDep) -> Response:
    from magtrial.report.timeline import timeline_markers, timeline_svg

    rec = trials.record(_clinician(ctx), trial_id)
    svg = timeline_svg(rec, timeline_markers(rec))
    return Response(svg, media_type="image/svg+xml", headers={"Content-Security-Policy": IMAGE_CSP})
