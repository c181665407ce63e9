"""The clinician's page for what else happened: co-interventions (IV magnesium included), clinic
measurements at period-end visits, and approvals of late diary entries. Each form posts to one
service call and comes back to the page; a refused input is a 4xx page with the reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from magtrial.core.clinic import MEASUREMENT_ITEMS, CoInterventionKind
from magtrial.errors import Forbidden, ValidationError
from magtrial.service import Context, Role, clinic, trials
from magtrial.web import progress
from magtrial.web.deps import ContextDep
from magtrial.web.pages import render
from magtrial.web.security import verify_csrf

router = APIRouter(prefix="/clinic/trials/{trial_id}", dependencies=[Depends(verify_csrf)])


def _clinician(ctx: Context) -> Context:
    if ctx.actor.role is not Role.CLINICIAN:
        raise Forbidden("these are the clinician's pages")
    return ctx


def _date(value: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(f"{what} must be a date (YYYY-MM-DD), got {value[:20]!r}") from None


def _number(value: str, what: str) -> float | None:
    value = value.strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise ValidationError(f"{what} must be a number, got {value[:20]!r}") from None


@router.get("/clinic-record")
def page(request: Request, trial_id: str, ctx: ContextDep) -> Response:
    rec = trials.record(_clinician(ctx), trial_id)
    today = progress.local_today(rec, ctx.clock())
    schedule = rec.schedule
    visits = [
        (m, schedule.day(m.day).period if schedule.start <= m.day <= schedule.end else None)
        for m in clinic.measurements(ctx, trial_id)
    ]
    return render(
        request,
        "clinic/records.html",
        {
            "rec": rec,
            "today": today,
            "items": clinic.co_interventions(ctx, trial_id),
            "visits": visits,
            "approvals": clinic.late_approvals(ctx, trial_id),
            "kinds": [k.value for k in CoInterventionKind],
            "measurement_items": MEASUREMENT_ITEMS,
            "magnesium_today": clinic.magnesium_on(ctx, trial_id, today),
        },
    )


def _back(trial_id: str) -> Response:
    return RedirectResponse(f"/clinic/trials/{trial_id}/clinic-record", status_code=303)


@router.post("/co-interventions")
def add_co_intervention(
    trial_id: str,
    ctx: ContextDep,
    kind: Annotated[str, Form(max_length=40)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
    day: Annotated[str, Form(max_length=20)] = "",
    last_day: Annotated[str, Form(max_length=20)] = "",
    dose: Annotated[str, Form(max_length=200)] = "",
    given_by: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    _clinician(ctx)  # the role first: a participant's post is refused whatever it holds
    clinic.add_co_intervention(
        ctx,
        trial_id,
        _date(day, "the date"),
        kind,
        description,
        dose=dose,
        given_by=given_by,
        last_day=_date(last_day, "the last day") if last_day.strip() else None,
    )
    return _back(trial_id)


@router.post("/measurements")
def add_measurement(
    trial_id: str,
    ctx: ContextDep,
    item: Annotated[str, Form(max_length=40)] = "",
    day: Annotated[str, Form(max_length=20)] = "",
    value: Annotated[str, Form(max_length=20)] = "",
    finding: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    _clinician(ctx)
    present = {"present": True, "absent": False, "": None}.get(finding)
    if finding not in ("present", "absent", ""):
        raise ValidationError("the finding must be present or absent")
    clinic.add_measurement(
        ctx, trial_id, _date(day, "the visit date"), item, _number(value, "the value"), present, note
    )
    return _back(trial_id)


@router.post("/late-entries")
def approve_late(
    trial_id: str,
    ctx: ContextDep,
    day: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    _clinician(ctx)
    clinic.approve_late_entry(ctx, trial_id, _date(day, "the day"), reason)
    return _back(trial_id)
