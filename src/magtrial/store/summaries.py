"""Cached per-trial effect likelihoods, streamed for pooling without touching diary rows.

Only unblinded trials have a summary, and the stream joins on ``trials.status = 'unblinded'`` so
a trial that is (again) blinded can never be pooled.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from magtrial.core.likelihood import EffectLikelihood
from magtrial.store.models import EffectSummaryRow, TrialRow


@dataclass(frozen=True)
class StoredSummary:
    trial_id: str
    condition: str
    route: str
    salt: str
    elemental_mg_per_day: float | None
    n_days: int
    likelihood: EffectLikelihood


def save_summary(
    session: Session,
    *,
    trial_id: str,
    outcome: str,
    method: str,
    likelihood: EffectLikelihood,
    n_days: int,
    condition: str,
    route: str,
    salt: str,
    elemental_mg_per_day: float | None,
    at: dt.datetime,
) -> None:
    row = session.get(EffectSummaryRow, (trial_id, outcome))
    if row is None:
        row = EffectSummaryRow(trial_id=trial_id, outcome=outcome)
        session.add(row)
    row.method, row.n_days, row.computed_at = method, n_days, at
    row.grid = json.dumps([round(float(x), 6) for x in likelihood.grid])
    row.log_lik = json.dumps([round(float(x), 6) for x in likelihood.log_lik])
    row.condition, row.route, row.salt, row.elemental_mg_per_day = condition, route, salt, elemental_mg_per_day


def count_summaries(session: Session, outcome: str) -> int:
    from sqlalchemy import func

    return session.execute(
        select(func.count())
        .select_from(EffectSummaryRow)
        .join(TrialRow, TrialRow.id == EffectSummaryRow.trial_id)
        .where(EffectSummaryRow.outcome == outcome, TrialRow.status == "unblinded")
    ).scalar_one()


def stream_summaries(session: Session, outcome: str = "average_pain", batch: int = 1000) -> Iterator[StoredSummary]:
    """Unblinded trials' summaries in trial-id order, ``batch`` rows at a time (keyset pagination)."""
    last = ""
    while True:
        rows = (
            session.execute(
                select(EffectSummaryRow)
                .join(TrialRow, TrialRow.id == EffectSummaryRow.trial_id)
                .where(
                    EffectSummaryRow.outcome == outcome,
                    TrialRow.status == "unblinded",
                    EffectSummaryRow.trial_id > last,
                )
                .order_by(EffectSummaryRow.trial_id)
                .limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            return
        for r in rows:
            yield StoredSummary(
                r.trial_id,
                r.condition,
                r.route,
                r.salt,
                r.elemental_mg_per_day,
                r.n_days,
                EffectLikelihood(json.loads(r.grid), json.loads(r.log_lik)),
            )
        last = rows[-1].trial_id
        session.expunge_all()
