"""Compare the consent and withdrawal tables with their audit events (part of ``audit verify``'s replay).

A consent text edited in the table, a signature or frozen page swapped, inserted or deleted by hand, or a
withdrawal choice changed from "keep" to "erase" (or back) each shows as a difference. Signatures
tombstoned by an erasure are expected to be gone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from magtrial.store.audit import erased_events, sha256_text
from magtrial.store.consent_models import ConsentSignatureRow, ConsentVersionRow, WithdrawalRow
from magtrial.store.models import AuditEventRow

ACTIONS = ("consent.set", "consent.sign", "trial.withdraw")


def consent_differences(session: Session) -> Iterator[str]:
    erased = erased_events(session)
    texts: dict[tuple[str, int], str] = {}
    pages: dict[tuple[str, int], str] = {}
    choices: dict[str, str] = {}
    events = session.execute(
        select(AuditEventRow.seq, AuditEventRow.trial_id, AuditEventRow.action, AuditEventRow.new)
        .where(AuditEventRow.action.in_(ACTIONS))
        .order_by(AuditEventRow.seq)
    )
    for seq, trial, action, new in events:
        trial_id, data = trial or "", json.loads(new)
        if action == "trial.withdraw":
            choices[trial_id] = data["choice"]
        elif seq in erased:
            continue  # an erased signature: its row is gone too
        elif action == "consent.set":
            texts[(trial_id, data["version"])] = data["text_sha256"]
        else:
            pages[(trial_id, data["version"])] = data["html_sha256"]
    for text in session.execute(select(ConsentVersionRow)).scalars():
        if texts.pop((text.trial_id, text.version), None) != sha256_text(text.text):
            yield f"consent version {text.version} of trial {text.trial_id} differs from its audit event"
    for signed in session.execute(select(ConsentSignatureRow)).scalars():
        page = sha256_text(signed.html)
        if pages.pop((signed.trial_id, signed.version), None) != page or signed.html_sha256 != page:
            yield f"the signed consent (v{signed.version}) of trial {signed.trial_id} differs from its audit event"
    for trial_id, version in sorted(texts):
        yield f"consent version {version} of trial {trial_id} is in the audit trail but missing (deleted?)"
    for trial_id, version in sorted(pages):
        yield f"the signed consent (version {version}) of trial {trial_id} is audited but missing (deleted?)"
    for withdrawal in session.execute(select(WithdrawalRow)).scalars():
        if choices.pop(withdrawal.trial_id, None) != withdrawal.choice:
            yield f"the withdrawal from trial {withdrawal.trial_id} differs from its audit event"
    for trial_id in sorted(choices):
        yield f"the withdrawal from trial {trial_id} is audited but missing (deleted?)"
