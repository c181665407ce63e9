"""The participant's pages: Today (instruction + diary form), history chart, corrections, reminders, result.

The diary form is a plain HTML form (no JavaScript needed): scores are radio buttons drawn as large
buttons, the dose defaults to "full", and worst pain defaults to the average when left out, so an
entry takes three or four taps. Every write goes through ``service.diary``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from magtrial.core.diary import SCORE_FIELDS, SELF_REPORT_ITEMS, SIDE_EFFECTS, DiaryValues, DoseTaken
from magtrial.core.record import TrialRecord
from magtrial.core.schedule import DayKind
from magtrial.errors import DiaryError, Forbidden, MagtrialError
from magtrial.service import Context, Role, diary, trials
from magtrial.web import progress, results
from magtrial.web.deps import ContextDep
from magtrial.web.pages import render
from magtrial.web.routes.checkin import today_extras  # the blinding-check question and the stopping status
from magtrial.web.routes.consent import pending as consent_pending
from magtrial.web.security import verify_csrf

router = APIRouter(prefix="/diary", dependencies=[Depends(verify_csrf)])
LABELS = {
    "average_pain": "Average pain in the last 24 hours",
    "worst_pain": "Worst pain in the last 24 hours",
    "sleep_interference": "How much pain disturbed your sleep",
}
ANCHORS = {
    "average_pain": ("no pain", "worst imaginable"),
    "worst_pain": ("no pain", "worst imaginable"),
    "sleep_interference": ("not at all", "could not sleep"),
}
TEXT_FIELDS = ("side_effect_other", "rescue_medication", "note")


def _participant(ctx: Context) -> Context:
    if ctx.actor.role is not Role.PATIENT:
        raise Forbidden("these are the participant's diary pages; use the clinic or pharmacy pages")
    return ctx


def _record(ctx: Context, trial_id: str) -> tuple[TrialRecord, dt.date]:
    rec = trials.record(_participant(ctx), trial_id)
    return rec, progress.local_today(rec, ctx.clock())


def _day(value: str | None, today: dt.date) -> dt.date:
    if not value:
        return today
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise DiaryError(f"{value[:20]!r} is not a date (YYYY-MM-DD)") from None


def _score(form: FormData, name: str) -> int | None:
    raw = form.get(name)
    if raw in (None, ""):
        return None
    text = str(raw).strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 2):  # not "５", "٥", "0_4", "4.5" or "4e0"
        raise DiaryError(f"{name.replace('_', ' ')} must be a whole number 0-10")
    return int(text)


def values_from_form(form: FormData) -> DiaryValues:
    """The diary answers of a submitted form; worst pain defaults to the average when not chosen."""
    average, worst, sleep = (_score(form, name) for name in SCORE_FIELDS)
    if average is None:
        raise DiaryError("choose your average pain (0-10)")
    if sleep is None:
        raise DiaryError("choose how much pain disturbed your sleep (0-10)")
    data: dict[str, Any] = {
        "average_pain": average,
        "worst_pain": average if worst is None else worst,
        "sleep_interference": sleep,
        "dose_taken": str(form.get("dose_taken") or DoseTaken.FULL.value),
        "side_effects": [str(s) for s in form.getlist("side_effects")],
    }
    data.update({name: str(form.get(name) or "").strip() for name in TEXT_FIELDS})
    data.update({name: str(form.get(name)) for name in SELF_REPORT_ITEMS if form.get(name)})  # optional taps
    return DiaryValues.from_dict(data)


def _form_values(form: FormData) -> dict[str, Any]:
    """What the person chose, to show the form again after an error."""
    return {
        **{k: str(form.get(k) or "") for k in (*SCORE_FIELDS, "dose_taken", *TEXT_FIELDS, *SELF_REPORT_ITEMS)},
        "side_effects": list(form.getlist("side_effects")),
    }


def _late_days(rec: TrialRecord) -> list[dt.date]:
    """Days older than the late window that the clinician approved and that still have no entry."""
    approved: list[dt.date] = list(rec.extra.get("late_approvals") or [])  # type: ignore[call-overload]
    return [d for d in approved if d not in rec.current()]


def _today_context(rec: TrialRecord, today: dt.date, day: dt.date) -> dict[str, Any]:
    current = rec.current()
    plan = rec.schedule.day(day)
    yesterday = today - dt.timedelta(days=1)
    open_diary = rec.status == "active"
    missing_yesterday = open_diary and rec.schedule.start <= yesterday <= rec.schedule.end and yesterday not in current
    product = rec.protocol.product
    times = rec.stored_safety.get("timetable") or []
    dose = None
    if plan.kind is DayKind.PERIOD:
        units = f"{product.units_per_day:g} unit{'s' if product.units_per_day != 1 else ''} a day"
        dose = f"{units}, in {product.doses_per_day} dose{'s' if product.doses_per_day != 1 else ''}" + (
            f" (at {', '.join(times)})" if times else ""
        )
    return {
        "rec": rec,
        "today": today,
        "day": day,
        "plan": plan,
        "is_today": day == today,
        "dose": dose,
        "entry": current.get(day),
        "missing_yesterday": missing_yesterday,
        "late_days": _late_days(rec) if open_diary else [],
        "yesterday": yesterday,
        "open_diary": open_diary,
        "in_calendar": rec.schedule.start <= day <= rec.schedule.end,
        "labels": LABELS,
        "anchors": ANCHORS,
        "score_fields": SCORE_FIELDS,
        "side_effects": SIDE_EFFECTS,
        "doses": [d.value for d in DoseTaken],
    }


@router.get("")
def my_trials(request: Request, ctx: ContextDep) -> Response:
    mine = trials.list_trials(_participant(ctx))
    active = [t for t in mine if t["status"] == "active"]
    if len(mine) == 1 or len(active) == 1:
        return RedirectResponse(f"/diary/{(active or mine)[0]['id']}", status_code=303)
    return render(request, "participant/trials.html", {"trials": mine})


@router.get("/{trial_id}")
def today_page(request: Request, trial_id: str, ctx: ContextDep, day: str | None = None) -> Response:
    rec, today = _record(ctx, trial_id)
    if consent_pending(ctx, trial_id):  # the current consent version is signed before the diary
        return RedirectResponse(f"/diary/{trial_id}/consent", status_code=303)
    context = {**_today_context(rec, today, _day(day, today)), "chosen": {}, **today_extras(ctx, trial_id)}
    return render(request, "participant/today.html", context)


@router.post("/{trial_id}")
async def save_entry(request: Request, trial_id: str, ctx: ContextDep) -> Response:
    rec, today = _record(ctx, trial_id)
    form = await request.form()
    day = _day(str(form.get("day") or ""), today)
    try:
        result = diary.add_entry(ctx, trial_id, day, values_from_form(form))
    except MagtrialError as exc:
        if exc.status not in (409, 422):
            raise
        context = {**_today_context(rec, today, day), "error": str(exc), "chosen": _form_values(form)}
        return render(request, "participant/today.html", context, status=exc.status)
    rec, _ = _record(ctx, trial_id)
    return render(request, "participant/saved.html", {**_today_context(rec, today, day), "result": result})


@router.get("/{trial_id}/history")
def history(request: Request, trial_id: str, ctx: ContextDep) -> Response:
    rec, today = _record(ctx, trial_id)
    entries = sorted(rec.current().values(), key=lambda v: v.day, reverse=True)
    changes = {v.day for v in rec.versions if v.version > 1}
    return render(
        request,
        "participant/history.html",
        {
            "rec": rec,
            "today": today,
            "entries": entries,
            "chart": progress.history_chart(rec, today, width=420, height=300),
            "changed": changes,
            "series": progress.SERIES,
            "plans": {v.day: rec.schedule.day(v.day) for v in entries},
            "versions": [v for v in rec.versions if v.version > 1],
        },
    )


@router.get("/{trial_id}/correct/{day}")
def correction_form(request: Request, trial_id: str, day: str, ctx: ContextDep) -> Response:
    rec, today = _record(ctx, trial_id)
    return _correction_page(request, rec, today, _day(day, today))


def _correction_page(
    request: Request,
    rec: TrialRecord,
    today: dt.date,
    day: dt.date,
    error: str = "",
    chosen: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    entry = rec.current().get(day)
    if entry is None or entry.values is None:
        raise DiaryError(f"there is no entry for {day.isoformat()} to correct")
    values = entry.values.as_dict()
    shown = chosen or {
        **{k: str(v) for k, v in values.items() if k != "side_effects"},
        "side_effects": values["side_effects"],
    }
    return render(
        request,
        "participant/correct.html",
        {**_today_context(rec, today, day), "entry": entry, "chosen": shown, "error": error},
        status=status,
    )


@router.post("/{trial_id}/correct/{day}")
async def correct(request: Request, trial_id: str, day: str, ctx: ContextDep) -> Response:
    rec, today = _record(ctx, trial_id)
    date = _day(day, today)
    form = await request.form()
    entry = rec.current().get(date)
    try:
        if entry is None or entry.values is None:
            raise DiaryError(f"there is no entry for {date.isoformat()} to correct")
        reason = str(form.get("reason") or "").strip()
        if not reason:
            raise DiaryError('a correction needs a reason (for example: "tapped the wrong number")')
        new = values_from_form(form).as_dict()
        old = entry.values.as_dict()
        changes = {k: v for k, v in new.items() if v != old.get(k)}
        if not changes:
            raise DiaryError("nothing was changed; change at least one answer, or go back")
        result = diary.correct_entry(ctx, trial_id, date, changes, reason)
    except MagtrialError as exc:
        if exc.status not in (409, 422):
            raise
        return _correction_page(request, rec, today, date, str(exc), _form_values(form), exc.status)
    rec, _ = _record(ctx, trial_id)
    return render(
        request, "participant/saved.html", {**_today_context(rec, today, date), "result": result, "corrected": True}
    )


@router.get("/{trial_id}/reminders.ics")
def reminders(trial_id: str, ctx: ContextDep) -> Response:
    rec, _ = _record(ctx, trial_id)
    return results.reminders_response(rec)


@router.get("/{trial_id}/result")
def result(request: Request, trial_id: str, ctx: ContextDep) -> Response:
    rec, today = _record(ctx, trial_id)
    analysis, reason = results.analysis_of(rec)
    return render(request, "participant/result.html", {"rec": rec, "analysis": analysis, "reason": reason})


@router.get("/{trial_id}/charts/{name}.svg")
def chart(trial_id: str, name: str, ctx: ContextDep) -> Response:
    rec, _ = _record(ctx, trial_id)
    return results.chart_response(rec, name)
