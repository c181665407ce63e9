"""Pages for consent and withdrawal.

- participant: read and sign the current consent version (the name typed is the signature; one
  button), open the frozen copy of what was signed, and withdraw in three taps with no typing: choose
  "keep" or "erase", continue, confirm on a second page that says what will happen.
- clinician: set a new consent version for their participant's trial.

Consent and withdrawal do not depend on the allocation, so blinded viewers may see all of it.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from magtrial.core.consent import MEANING, WithdrawalChoice, check_choice
from magtrial.errors import Forbidden, MagtrialError, NotFound, ValidationError
from magtrial.service import Context, Role, consent, trials, withdrawal
from magtrial.web.deps import ContextDep
from magtrial.web.pages import render
from magtrial.web.results import attachment
from magtrial.web.security import DOCUMENT_CSP, verify_csrf

router = APIRouter(dependencies=[Depends(verify_csrf)])
CHOICES = {
    WithdrawalChoice.KEEP: "Stop, and keep what I entered for analysis",
    WithdrawalChoice.ERASE: "Stop, and erase my data",
}


def _participant(ctx: Context) -> Context:
    if ctx.actor.role is not Role.PATIENT:
        raise Forbidden("these are the participant's pages")
    return ctx


def pending(ctx: Context, trial_id: str) -> bool:
    """The participant must sign a consent version before the diary (the Today page redirects here)."""
    if ctx.actor.role is not Role.PATIENT:
        return False
    view = consent.show(ctx, trial_id)
    return view.status.needs_signature and view.withdrawn is None  # an erasure deletes the signature too


def _consent_page(request: Request, ctx: Context, trial_id: str, error: str = "", status: int = 200) -> Response:
    view = consent.show(_participant(ctx), trial_id)
    paragraphs = [p.strip() for p in view.text.split("\n\n") if p.strip()]
    context = {"view": view, "paragraphs": paragraphs, "meaning": MEANING, "error": error}
    return render(request, "participant/consent.html", context, status=status)


@router.get("/diary/{trial_id}/consent")
def consent_page(request: Request, trial_id: str, ctx: ContextDep) -> Response:
    return _consent_page(request, ctx, trial_id)


@router.post("/diary/{trial_id}/consent")
async def sign(request: Request, trial_id: str, ctx: ContextDep) -> Response:
    form = await request.form()
    raw = str(form.get("version") or "")
    try:
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 6):
            raise ValidationError("the consent version is missing; reload the page")
        consent.sign(_participant(ctx), trial_id, int(raw), str(form.get("name") or ""))
    except MagtrialError as exc:
        if exc.status not in (409, 422):
            raise
        return _consent_page(request, ctx, trial_id, str(exc), exc.status)
    return RedirectResponse(f"/diary/{trial_id}", status_code=303)


@router.get("/diary/{trial_id}/consent/signed.{fmt}")
def signed_copy(trial_id: str, fmt: str, ctx: ContextDep) -> Response:
    if fmt not in ("html", "pdf"):
        raise NotFound("the signed copy is signed.html or signed.pdf")
    body = consent.frozen_copy(ctx, trial_id, fmt=fmt)
    if fmt == "pdf":
        return attachment(body, "application/pdf", f"{trial_id}-consent.pdf")
    return Response(
        body,
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": DOCUMENT_CSP, "Cache-Control": "no-store"},
    )


@router.get("/diary/{trial_id}/withdraw")
def withdraw_page(request: Request, trial_id: str, ctx: ContextDep) -> Response:
    rec = trials.record(_participant(ctx), trial_id)
    view = consent.show(ctx, trial_id)
    return render(request, "participant/withdraw.html", {"rec": rec, "view": view, "choices": CHOICES})


@router.post("/diary/{trial_id}/withdraw")
async def withdraw(request: Request, trial_id: str, ctx: ContextDep) -> Response:
    """First post: the confirmation page; the second (``confirm=yes``) withdraws."""
    rec = trials.record(_participant(ctx), trial_id)
    form = await request.form()
    try:
        choice = check_choice(str(form.get("choice") or ""))
    except ValidationError as exc:
        view = consent.show(ctx, trial_id)
        context = {"rec": rec, "view": view, "choices": CHOICES, "error": str(exc)}
        return render(request, "participant/withdraw.html", context, status=422)
    if form.get("confirm") != "yes":
        return render(request, "participant/withdraw_confirm.html", {"rec": rec, "choice": choice, "choices": CHOICES})
    result = withdrawal.withdraw(ctx, trial_id, choice.value)
    return render(request, "participant/withdrawn.html", {"rec": rec, "result": result})


@router.get("/clinic/trials/{trial_id}/consent")
def clinic_consent(request: Request, trial_id: str, ctx: ContextDep, error: str = "") -> Response:
    if ctx.actor.role is not Role.CLINICIAN:
        raise Forbidden("this is the clinician's page")
    view = consent.show(ctx, trial_id)
    return render(request, "clinic/consent.html", {"view": view, "trial_id": trial_id, "error": error})


@router.post("/clinic/trials/{trial_id}/consent")
async def clinic_set_consent(request: Request, trial_id: str, ctx: ContextDep) -> Response:
    if ctx.actor.role is not Role.CLINICIAN:
        raise Forbidden("this is the clinician's page")
    form = await request.form()
    try:
        consent.set_text(ctx, trial_id, str(form.get("text") or ""))
    except MagtrialError as exc:
        if exc.status not in (409, 422):
            raise
        view = consent.show(ctx, trial_id)
        context = {"view": view, "trial_id": trial_id, "error": str(exc), "draft": str(form.get("text") or "")}
        return render(request, "clinic/consent.html", context, status=exc.status)
    return RedirectResponse(f"/clinic/trials/{trial_id}/consent", status_code=303)
