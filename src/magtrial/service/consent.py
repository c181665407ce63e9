"""Consent: the clinician sets versioned consent text; the participant signs it; diary writes check it.

Each version is a new row and an audit event; a signature stores the frozen HTML page the participant
agreed to and its SHA-256 in the audit event, so the stored copy can be checked against the chain.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from magtrial.core.consent import (
    MEANING,
    ConsentStatus,
    check_consent_text,
    check_typed_name,
    check_version,
    require_consent,
)
from magtrial.errors import Conflict, NotFound
from magtrial.report.consent import consent_html, consent_pdf
from magtrial.service.access import Role, require, trial_for
from magtrial.service.context import Context, aware
from magtrial.store import audit
from magtrial.store.consent_models import ConsentSignatureRow, ConsentVersionRow, WithdrawalRow


@dataclass(frozen=True)
class ConsentView:
    """The trial's current consent text and whether the participant still has to sign it."""

    trial_id: str
    status: ConsentStatus
    version: int | None
    text: str
    set_at: dt.datetime | None
    signed_at: dt.datetime | None  # of the latest version, if signed
    withdrawn: str | None  # the withdrawal choice, if the participant has withdrawn


def consent_status(s: Session, trial_id: str) -> ConsentStatus:
    latest = s.scalar(select(func.max(ConsentVersionRow.version)).where(ConsentVersionRow.trial_id == trial_id))
    signed = s.scalars(select(ConsentSignatureRow.version).where(ConsentSignatureRow.trial_id == trial_id))
    return ConsentStatus(latest, frozenset(signed))


def check_diary_allowed(s: Session, trial_id: str) -> None:
    """Called by every diary write, inside its transaction: the latest consent version must be signed."""
    require_consent(consent_status(s, trial_id))


def set_text(ctx: Context, trial_id: str, text: str) -> int:
    """A new consent version (the first, or a change that needs re-consent); returns its number."""
    require(ctx.actor, Role.CLINICIAN, to="set a trial's consent text")
    text = check_consent_text(text)
    now = ctx.clock()
    with ctx.db.transaction() as s:
        row = trial_for(s, ctx.actor, trial_id, lock=True)
        if s.get(WithdrawalRow, trial_id) is not None:
            raise Conflict(f"the participant has withdrawn from trial {trial_id}")
        status = consent_status(s, trial_id)
        if status.latest is not None:
            current = s.get(ConsentVersionRow, (trial_id, status.latest))
            if current is not None and current.text == text:
                raise Conflict(f"this is already consent version {status.latest}")
        version = (status.latest or 0) + 1
        s.add(ConsentVersionRow(trial_id=row.id, version=version, text=text, set_at=now, set_by=ctx.actor.name))
        ctx.audit(
            s,
            "consent.set",
            "consent",
            f"v{version}",
            trial_id,
            new={"version": version, "text_sha256": audit.sha256_text(text), "text": text},
        )
    return version


def show(ctx: Context, trial_id: str) -> ConsentView:
    with ctx.db.reader() as s:
        trial_for(s, ctx.actor, trial_id)
        status = consent_status(s, trial_id)
        current = s.get(ConsentVersionRow, (trial_id, status.latest)) if status.latest else None
        signed = s.get(ConsentSignatureRow, (trial_id, status.latest)) if status.latest else None
        withdrawal = s.get(WithdrawalRow, trial_id)
        return ConsentView(
            trial_id,
            status,
            status.latest,
            current.text if current else "",
            aware(current.set_at) if current else None,
            aware(signed.signed_at) if signed else None,
            withdrawal.choice if withdrawal else None,
        )


def sign(ctx: Context, trial_id: str, version: int, typed_name: str) -> str:
    """The participant signs the latest version with their typed name; returns the frozen page's SHA-256."""
    require(ctx.actor, Role.PATIENT, to="sign a trial's consent (the participant signs)")
    name = check_typed_name(typed_name)
    now = ctx.clock()
    with ctx.db.transaction() as s:
        row = trial_for(s, ctx.actor, trial_id, lock=True)
        if s.get(WithdrawalRow, trial_id) is not None:
            raise Conflict(f"you have withdrawn from trial {trial_id}")
        check_version(consent_status(s, trial_id), version)
        text = s.get(ConsentVersionRow, (trial_id, version)).text  # type: ignore[union-attr]
        html = consent_html(
            trial_id=row.id, version=version, text=text, typed_name=name, meaning=MEANING, signed_at=now,
            account=ctx.actor.name,
        )  # fmt: skip
        digest = audit.sha256_text(html)
        s.add(
            ConsentSignatureRow(
                trial_id=row.id,
                version=version,
                typed_name=name,
                meaning=MEANING,
                signed_at=now,
                signed_by=ctx.actor.name,
                html=html,
                html_sha256=digest,
            )
        )
        ctx.audit(
            s,
            "consent.sign",
            "consent",
            f"v{version}",
            trial_id,
            new={"version": version, "typed_name": name, "meaning": MEANING, "html_sha256": digest},
        )
    return digest


def frozen_copy(ctx: Context, trial_id: str, version: int | None = None, fmt: str = "html") -> bytes:
    """The stored page exactly as signed (HTML), or laid out as PDF from those same bytes."""
    require(ctx.actor, Role.PATIENT, Role.CLINICIAN, to="see a signed consent")
    with ctx.db.reader() as s:
        trial_for(s, ctx.actor, trial_id)
        if version is None:
            version = s.scalar(
                select(func.max(ConsentSignatureRow.version)).where(ConsentSignatureRow.trial_id == trial_id)
            )
        signed = s.get(ConsentSignatureRow, (trial_id, version)) if version else None
        if signed is None:
            raise NotFound(f"no signed consent{f' version {version}' if version else ''} for trial {trial_id}")
        html = signed.html
    if fmt == "pdf":
        return consent_pdf(html)
    return html.encode("utf-8")
