"""The clinician's trial set-up form, with the live safety check (HTMX partial, or a full page without JS).

The form's fields become the same protocol and safety-profile dictionaries a trial TOML file gives
the CLI; the check runs the core safety checker on them, and ``trials.create_trial`` runs it
again (and refuses a blocked regimen, or one that needs an acknowledgement without it).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from magtrial.core.protocol import Comparator, Condition, Design, Protocol, Route
from magtrial.core.safety import SafetyProfile, parse_med_spec
from magtrial.core.safety.checker import check_protocol
from magtrial.data.safety import load_safety_rules
from magtrial.errors import Forbidden, MagtrialError, ValidationError
from magtrial.service import Context, Role, accounts, trials
from magtrial.web.deps import ContextDep
from magtrial.web.pages import render
from magtrial.web.security import verify_csrf

router = APIRouter(prefix="/clinic", dependencies=[Depends(verify_csrf)])
NUMBERS = {"cycles": 4, "period_days": 14, "run_in_days": 7, "washout_days": 0, "carryover_days": 3}
DEFAULTS = {
    "condition": Condition.CRPS1.value,
    "comparator": Comparator.PLACEBO.value,
    "design": Design.PAIRED.value,
    "timezone": "Europe/London",
    "product_name": "Magnesium citrate 100 mg",
    "salt": "citrate",
    "elemental_mg_per_unit": "100",
    "units_per_day": "2",
    "doses_per_day": "2",
    "route": "oral",
    "jurisdiction": "US",
    "sex": "unspecified",
    **{k: str(v) for k, v in NUMBERS.items()},
}


def _clinician(ctx: Context) -> Context:
    if ctx.actor.role is not Role.CLINICIAN:
        raise Forbidden("only a clinician sets up trials")
    return ctx


def _text(form: FormData, name: str) -> str:
    return str(form.get(name) or "").strip()


def _number(form: FormData, name: str, label: str, required: bool = True) -> float | None:
    raw = _text(form, name)
    if not raw:
        if required:
            raise ValidationError(f"{label} is required")
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValidationError(f"{label} must be a number, got {raw[:20]!r}") from None


def parse_setup(form: FormData) -> tuple[Protocol, dict[str, Any]]:
    """The protocol and safety profile of a submitted set-up form; errors name the field."""
    product = {
        "name": _text(form, "product_name") or "magnesium",
        "salt": _text(form, "salt"),
        "route": _text(form, "route") or "oral",
        "units_per_day": _number(form, "units_per_day", "units per day"),
        "doses_per_day": int(_number(form, "doses_per_day", "doses per day") or 1),
    }
    elemental = _number(form, "elemental_mg_per_unit", "elemental mg per unit", required=False)
    if elemental is not None:
        product["elemental_mg_per_unit"] = elemental
    data: dict[str, Any] = {
        "condition": _text(form, "condition"),
        "comparator": _text(form, "comparator"),
        "design": _text(form, "design"),
        "timezone": _text(form, "timezone") or "UTC",
        "product": product,
    }
    for name in NUMBERS:
        data[name] = int(_number(form, name, name.replace("_", " ")) or 0)
    if _text(form, "start_date"):
        data["start_date"] = _text(form, "start_date")
    protocol = Protocol.from_dict(data)
    person: dict[str, Any] = {"age": _number(form, "age", "age"), "sex": _text(form, "sex") or "unspecified"}
    egfr = _number(form, "egfr", "eGFR", required=False)
    if egfr is not None:
        person["egfr"] = egfr
    for flag in ("pregnant", "lactating", "dialysis"):
        person[flag] = form.get(flag) == "on"
    # ";" or new lines separate conditions: a comma belongs to names like "chronic kidney disease, stage 5"
    conditions = [c.strip() for c in re.split(r"[;\n]", _text(form, "conditions")) if c.strip()]
    if conditions:
        person["conditions"] = conditions
    medications = []
    for line in _text(form, "medications").splitlines():
        if line.strip():
            med = parse_med_spec(line.strip())
            medications.append({"name": med.name, "times": [f"{t:%H:%M}" for t in med.times]})
    safety = {"person": person, "medication": medications, "jurisdiction": _text(form, "jurisdiction") or "US"}
    return protocol, safety


def _page_context(ctx: Context, form: FormData | None) -> dict[str, Any]:
    chosen = dict(DEFAULTS)
    if form is not None:
        chosen.update({k: str(v) for k, v in form.items() if k != "csrf"})
    pharmacists = [a.name for a in accounts.list_accounts(ctx) if a.role is Role.PHARMACIST and a.active]
    return {
        "chosen": chosen,
        "conditions": [c.value for c in Condition],
        "comparators": [c.value for c in Comparator],
        "designs": [d.value for d in Design],
        "routes": [r.value for r in Route],
        "salts": [s.key for s in load_safety_rules().salts],
        "pharmacists": pharmacists,
    }


def safety_context(form: FormData) -> dict[str, Any]:
    try:
        protocol, safety = parse_setup(form)
        profile = SafetyProfile.from_dict(safety)
        report = check_protocol(
            profile.person, protocol.product, profile.medications, profile.jurisdiction, rules=load_safety_rules()
        )
    except MagtrialError as exc:
        return {"problem": str(exc)}
    return {"report": report, "findings": report.by_level()}


@router.get("/new")
def new_trial(request: Request, ctx: ContextDep) -> Response:
    return render(request, "clinic/new.html", _page_context(_clinician(ctx), None))


@router.post("/safety-check")
async def safety_check(request: Request, ctx: ContextDep) -> Response:
    _clinician(ctx)
    form = await request.form()
    if request.headers.get("HX-Request"):
        return render(request, "clinic/_safety.html", safety_context(form))
    return render(request, "clinic/new.html", {**_page_context(ctx, form), **safety_context(form)})


@router.post("/new")
async def create(request: Request, ctx: ContextDep) -> Response:
    _clinician(ctx)
    form = await request.form()
    try:
        protocol, safety = parse_setup(form)
        participant = _text(form, "participant")
        if not participant:
            raise ValidationError("give the participant's pseudonym (never their real name)")
        start = dt.date.fromisoformat(_text(form, "start_date")) if _text(form, "start_date") else None
        rec = trials.create_trial(
            ctx,
            protocol,
            participant,
            safety,
            start,
            clinician_ack=form.get("ack") == "on",
            pharmacist=_text(form, "pharmacist") or None,
        )
    except (MagtrialError, ValueError) as exc:
        status = exc.status if isinstance(exc, MagtrialError) else 422
        return render(
            request,
            "clinic/new.html",
            {**_page_context(ctx, form), **safety_context(form), "error": str(exc)},
            status=status,
        )
    return RedirectResponse(f"/clinic/trials/{rec.trial_id}", status_code=303)
