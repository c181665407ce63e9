"""The clinician's pages: participants, one trial (keys, packs, invitation, unblinding, results), pooled view.

Blinded trials show pack numbers, dates, completeness, adherence and safety only; the analysis,
charts with arms, and the comparison appear once the service hands out an unblinded record.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from magtrial import crypto
from magtrial.core.creation import creation_notes
from magtrial.errors import Forbidden, NotFound
from magtrial.report.evidence_cache import cached_pooled_estimate
from magtrial.service import Context, Role, audit, keys, pooling, trials, unblinding
from magtrial.web import progress, results, sessions
from magtrial.web.deps import ContextDep
from magtrial.web.keyupload import unlocked_key
from magtrial.web.pages import render
from magtrial.web.security import IMAGE_CSP, verify_csrf

router = APIRouter(prefix="/clinic", dependencies=[Depends(verify_csrf)])


def _clinician(ctx: Context) -> Context:
    if ctx.actor.role is not Role.CLINICIAN:
        raise Forbidden("these are the clinician's pages")
    return ctx


@router.get("")
def participants(request: Request, ctx: ContextDep) -> Response:
    rows = []
    for t in trials.list_trials(_clinician(ctx)):
        rec = trials.record(ctx, t["id"])
        today = progress.local_today(rec, ctx.clock())
        safety = rec.extra.get("safety") or {}
        rows.append(
            {
                "rec": rec,
                "progress": progress.progress(rec, today),
                "today": rec.schedule.day(today),
                "verdict": safety.get("verdict", "") if isinstance(safety, dict) else "",
            }
        )
    return render(request, "clinic/participants.html", {"rows": rows})


def sealing(ctx: Context, trial_id: str) -> dict:
    """Which keys the allocation is sealed to, and when the pharmacist last opened the pack list."""
    events = audit.trail(ctx, trial_id)
    created = next((e for e in events if e.action == "trial.create"), None)
    fingerprints = created.new.get("sealed_to", []) if created and isinstance(created.new, dict) else []
    registered = {k.fingerprint: k for k in keys.list_keys(ctx)}
    sealed_to = [
        {
            "short": crypto.short(f),
            "purpose": registered[f].purpose if f in registered else "?",
            "owner": registered[f].owner if f in registered else "?",
        }
        for f in fingerprints
    ]
    views = [e for e in events if e.action == "allocation.view" and isinstance(e.new, dict)]
    packs = [e for e in views if e.new.get("purpose") == "prepare packs"]
    return {
        "sealed_to": sealed_to,
        "pack_views": len(packs),
        "last_pack_view": packs[-1].at[:16] if packs else "",
        "views": len(views),
    }


@router.get("/trials/{trial_id}")
def trial_page(request: Request, trial_id: str, ctx: ContextDep, invitation: str = "") -> Response:
    rec = trials.record(_clinician(ctx), trial_id)
    today = progress.local_today(rec, ctx.clock())
    analysis, reason = results.analysis_of(rec)
    check = unblinding.verify_commitment(ctx, trial_id) if not rec.blinded else None
    recent = sorted(rec.current().values(), key=lambda v: v.day, reverse=True)[:14]
    return render(
        request,
        "clinic/trial.html",
        {
            "rec": rec,
            "today": today,
            "plan": rec.schedule.day(today),
            "progress": progress.progress(rec, today),
            "chart": progress.history_chart(rec, today),
            "series": progress.SERIES,
            "recent": recent,
            "safety": rec.extra.get("safety") or {},
            "setup_notes": creation_notes(rec),  # a start date in the past; the time zone days follow
            "sealing": sealing(ctx, trial_id),
            "analysis": analysis,
            "reason": reason,
            "check": check,
            "invitation": invitation,
        },
    )


@router.post("/trials/{trial_id}/invite")
def invite(request: Request, trial_id: str, ctx: ContextDep) -> Response:
    rec = trials.record(_clinician(ctx), trial_id)
    token = sessions.invite(ctx, rec.participant)
    link = str(request.base_url).rstrip("/") + f"/invite/{token}"
    return render(request, "clinic/invited.html", {"rec": rec, "link": link, "days": sessions.INVITATION_DAYS})


@router.post("/trials/{trial_id}/unblind")
async def unblind(
    request: Request,
    trial_id: str,
    ctx: ContextDep,
    reason: Annotated[str, Form()] = "",
    passphrase: Annotated[str, Form()] = "",
    key: Annotated[UploadFile | None, File()] = None,
) -> Response:
    _clinician(ctx)
    unlocked = await unlocked_key(key, passphrase)
    allocation = unblinding.unblind(ctx, trial_id, unlocked, reason)
    del unlocked, allocation
    return RedirectResponse(f"/clinic/trials/{trial_id}", status_code=303)


@router.get("/trials/{trial_id}/charts/{name}.svg")
def chart(trial_id: str, name: str, ctx: ContextDep) -> Response:
    return results.chart_response(trials.record(_clinician(ctx), trial_id), name)


@router.get("/trials/{trial_id}/report.{fmt}")
def report(trial_id: str, fmt: str, ctx: ContextDep) -> Response:
    rec = trials.record(_clinician(ctx), trial_id)
    if fmt not in ("html", "pdf"):
        raise NotFound("a report is html or pdf")
    return results.report_response(rec, fmt, cached_pooled_estimate(ctx, rec.protocol.primary_outcome))


@router.get("/trials/{trial_id}/export/{fmt}")
def export(trial_id: str, fmt: str, ctx: ContextDep) -> Response:
    return results.export_response(trials.record(_clinician(ctx), trial_id), fmt)


@router.get("/keys")
def keys_page(request: Request, ctx: ContextDep) -> Response:
    _clinician(ctx)
    rows = []
    for t in trials.list_trials(ctx):
        rows.append({"trial": t, **sealing(ctx, t["id"])})
    return render(request, "clinic/keys.html", {"keys": keys.list_keys(ctx), "rows": rows})


@router.get("/pooled")
def pooled(request: Request, ctx: ContextDep) -> Response:
    from magtrial.data.evidence import load_evidence
    from magtrial.report.evidence_panel import evidence_section

    estimate = cached_pooled_estimate(_clinician(ctx))  # re-pooled only when a pooled trial changes
    return render(
        request,
        "clinic/pooled.html",
        {"pooled": estimate, "n": pooling.count(ctx), "section": evidence_section(load_evidence(), estimate)},
    )


@router.get("/pooled/forest.svg")
def forest(ctx: ContextDep) -> Response:
    from magtrial.data.evidence import load_evidence
    from magtrial.report.evidence_panel import forest_svg

    svg = forest_svg(load_evidence(), pooling.pooled_estimate(_clinician(ctx)))
    if svg is None:
        raise NotFound("nothing to draw")
    return Response(svg, media_type="image/svg+xml", headers={"Content-Security-Policy": IMAGE_CSP})
