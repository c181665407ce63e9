"""Replay of the blinding-check answers and stopping decisions against their audit events.

``store.replay.differences`` calls ``differences`` here: every answer and decision row must have been
written by its event (same pack and answer; same cycle, status and sealed box by its SHA-256), and
every event must still have its row. Only these events are read, so the check stays cheap.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from magtrial.store.audit import sha256_text
from magtrial.store.models import AuditEventRow
from magtrial.store.stopping_models import BlindingGuessRow, StoppingDecisionRow


def differences(session: Session) -> Iterator[str]:
    guesses: dict[tuple[str, int], str] = {}
    decisions: dict[tuple[str, int], tuple[str, str]] = {}
    events = session.execute(
        select(AuditEventRow.trial_id, AuditEventRow.action, AuditEventRow.new)
        .where(AuditEventRow.action.in_(("blinding.guess", "stopping.decision")))
        .order_by(AuditEventRow.seq)
    )
    for trial_id, action, new_text in events:
        new = json.loads(new_text)
        if action == "blinding.guess":
            if "period" not in new:
                continue  # tombstoned by an erasure (store.erasure), which deleted the answer too
            guesses[(trial_id or "", int(new["period"]))] = new["guess"]
        else:
            decisions[(trial_id or "", int(new["cycle"]))] = (new["status"], new["sealed_sha256"])
    for row in session.execute(select(BlindingGuessRow)).scalars():
        where = f"trial {row.trial_id} pack {row.period} blinding-check answer"
        expected = guesses.pop((row.trial_id, row.period), None)
        if expected is None:
            yield f"{where} is in the table but no audit event recorded it (inserted by hand?)"
        elif expected != row.guess:
            yield f"{where} is {row.guess!r} in the table; the audit trail says {expected!r}"
    for (trial_id, period), _ in sorted(guesses.items()):
        yield f"trial {trial_id} pack {period} blinding-check answer was recorded (audited) but is missing (deleted?)"
    for stop in session.execute(select(StoppingDecisionRow)).scalars():
        where = f"trial {stop.trial_id} cycle {stop.cycle} stopping decision"
        audited = decisions.pop((stop.trial_id, stop.cycle), None)
        if audited is None:
            yield f"{where} is in the table but no audit event recorded it (inserted by hand?)"
        elif audited != (stop.status, sha256_text(stop.sealed)):
            yield f"{where} differs from the audit trail (status {stop.status!r}; sealed box changed?)"
    for (trial_id, cycle), _ in sorted(decisions.items()):
        yield f"trial {trial_id} cycle {cycle} stopping decision was recorded (audited) but is missing (deleted?)"
