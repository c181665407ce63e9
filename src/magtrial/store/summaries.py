"""Cached per-trial effect likelihoods, streamed for pooling without touching diary rows.

Curves are stored as float32 little-endian blobs (401 points: 1.6 kB each, decoded with one
``np.frombuffer``), and the stream selects plain columns in keyset-paginated batches, so 10,000
trials stream in about a second without holding them all as ORM objects. Every streamed row
carries its trial's status; the query also keeps unblinded, non-simulated trials only, so a blinded
or demo trial can never be pooled, and pooling checks the status again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from magtrial.core.likelihood import EffectLikelihood
from magtrial.store.consent_models import WithdrawalRow
from magtrial.store.models import EffectSummaryRow, TrialRow

_F32 = np.dtype("<f4")


@dataclass(frozen=True)
class StoredSummary:
    trial_id: str
    status: str
    outcome: str
    condition: str
    route: str
    salt: str
    elemental_mg_per_day: float | None
    n_days: int
    likelihood: EffectLikelihood


def _pack(values: np.ndarray) -> bytes:
    return np.asarray(values, dtype=_F32).tobytes()


def _unpack(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=_F32).astype(float)


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
    """Insert or replace one trial's summary for one outcome, inside the caller's transaction."""
    row = session.get(EffectSummaryRow, (trial_id, outcome))
    if row is None:
        row = EffectSummaryRow(trial_id=trial_id, outcome=outcome)
        session.add(row)
    row.method, row.n_days, row.computed_at = method, n_days, at
    row.grid, row.log_lik = _pack(likelihood.grid), _pack(likelihood.log_lik)
    row.condition, row.route, row.salt, row.elemental_mg_per_day = condition, route, salt, elemental_mg_per_day


def poolable(outcome: str):
    """Real unblinded trials only: a blinded, simulated (demo) or erased (withdrawn) trial is never pooled."""
    erased = select(WithdrawalRow.trial_id).where(
        WithdrawalRow.trial_id == TrialRow.id, WithdrawalRow.choice == "erase"
    )
    return (
        EffectSummaryRow.outcome == outcome,
        TrialRow.status == "unblinded",
        TrialRow.simulated.is_(False),
        ~erased.exists(),
    )


def count_summaries(session: Session, outcome: str) -> int:
    query = (
        select(func.count())
        .select_from(EffectSummaryRow)
        .join(TrialRow, TrialRow.id == EffectSummaryRow.trial_id)
        .where(*poolable(outcome))
    )
    return session.execute(query).scalar_one()


def pooled_fingerprint(session: Session, outcome: str) -> tuple[str | None, ...]:
    """(count, newest computed_at, newest unblinded_at, total analysed days) of the rows pooling reads.

    One aggregate over the ``poolable`` rows: any unblinding, recomputation, erasure or new summary changes it,
    so a cached pooled estimate keyed on it never needs invalidating by hand.
    """
    query = (
        select(
            func.count(),
            func.max(EffectSummaryRow.computed_at),
            func.max(TrialRow.unblinded_at),
            func.coalesce(func.sum(EffectSummaryRow.n_days), 0),
        )
        .select_from(EffectSummaryRow)
        .join(TrialRow, TrialRow.id == EffectSummaryRow.trial_id)
        .where(*poolable(outcome))
    )
    return tuple(str(v) if v is not None else None for v in session.execute(query).one())


def stream_summaries(session: Session, outcome: str = "average_pain", batch: int = 1000) -> Iterator[StoredSummary]:
    """Unblinded trials' summaries in trial-id order, ``batch`` rows per query (keyset pagination)."""
    columns = (
        EffectSummaryRow.trial_id,
        TrialRow.status,
        EffectSummaryRow.condition,
        EffectSummaryRow.route,
        EffectSummaryRow.salt,
        EffectSummaryRow.elemental_mg_per_day,
        EffectSummaryRow.n_days,
        EffectSummaryRow.grid,
        EffectSummaryRow.log_lik,
    )
    last = ""
    while True:
        rows = session.execute(
            select(*columns)
            .join(TrialRow, TrialRow.id == EffectSummaryRow.trial_id)
            .where(*poolable(outcome), EffectSummaryRow.trial_id > last)
            .order_by(EffectSummaryRow.trial_id)
            .limit(batch)
        ).all()
        if not rows:
            return
        for trial_id, status, condition, route, salt, mg, n_days, grid, log_lik in rows:
            curve = EffectLikelihood(_unpack(grid), _unpack(log_lik))
            yield StoredSummary(trial_id, status, outcome, condition, route, salt, mg, n_days, curve)
        last = rows[-1][0]
