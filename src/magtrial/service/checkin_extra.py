"""What a trial record carries of the blinding check and the stopping rule (``record.extra``), for reports.

Only what every viewer may see: the answers by pack and the public stopping status; never the
sealed reason. Scoring the answers is the report's job, and only once the record holds the allocation.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from magtrial.store.stopping_models import BlindingGuessRow, StoppingDecisionRow


def checkin_extra(s: Session, trial_id: str) -> dict[str, Any]:
    guesses = s.execute(
        select(BlindingGuessRow.period, BlindingGuessRow.guess).where(BlindingGuessRow.trial_id == trial_id)
    ).all()
    decisions = s.execute(
        select(StoppingDecisionRow.cycle, StoppingDecisionRow.status)
        .where(StoppingDecisionRow.trial_id == trial_id)
        .order_by(StoppingDecisionRow.cycle)
    ).all()
    return {
        "blinding_guesses": {int(g.period): str(g.guess) for g in guesses},
        "stopping_decisions": [(int(d.cycle), str(d.status)) for d in decisions],
    }
