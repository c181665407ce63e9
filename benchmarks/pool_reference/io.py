"""Frozen copy of the old read path (ccdc0e3, before issue 13): one ``StoredSummary`` object per row from
``store/summaries.stream_summaries`` and ``core/pooling/inputs.collect`` interpolating each curve on its own.
Do not optimise."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from magtrial.core.likelihood import EffectLikelihood
from magtrial.core.pooling.inputs import Covariates, PoolingData, TrialSummary, summary_from_stored
from magtrial.store.models import EffectSummaryRow, TrialRow
from magtrial.store.summaries import StoredSummary

_F32 = np.dtype("<f4")


def _unpack(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=_F32).astype(float)


def stream_summaries(session: Session, outcome: str = "average_pain", batch: int = 1000) -> Iterator[StoredSummary]:
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
    where = (EffectSummaryRow.outcome == outcome, TrialRow.status == "unblinded", TrialRow.simulated.is_(False))
    while True:
        rows = session.execute(
            select(*columns)
            .join(TrialRow, TrialRow.id == EffectSummaryRow.trial_id)
            .where(*where, EffectSummaryRow.trial_id > last)
            .order_by(EffectSummaryRow.trial_id)
            .limit(batch)
        ).all()
        if not rows:
            return
        for trial_id, status, condition, route, salt, mg, n_days, grid, log_lik in rows:
            curve = EffectLikelihood(_unpack(grid), _unpack(log_lik))
            yield StoredSummary(trial_id, status, outcome, condition, route, salt, mg, n_days, curve)
        last = rows[-1][0]


def _chunks(items: Iterable[TrialSummary], size: int) -> Iterator[list[TrialSummary]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def collect(
    summaries: Iterable[TrialSummary],
    outcome: str = "average_pain",
    chunk_size: int = 1000,
    progress: Callable[[int], None] | None = None,
    dtype: type = np.float32,
) -> PoolingData:
    from benchmarks.pool_reference.engine import beta_grid

    grid = beta_grid()
    rows: list[np.ndarray] = []
    ids: list[str] = []
    covs: list[Covariates] = []
    seen: set[str] = set()
    excluded: dict[str, int] = {}
    for chunk in _chunks(summaries, chunk_size):
        block = np.empty((len(chunk), grid.size), dtype=dtype)
        k = 0
        for s in chunk:
            reason = None
            if not s.poolable:
                reason = "blinded" if s.status != "stopped" else "stopped before unblinding"
            elif s.outcome != outcome:
                reason = "other outcome"
            elif s.trial_id in seen:
                reason = "duplicate trial"
            if reason:
                excluded[reason] = excluded.get(reason, 0) + 1
                continue
            seen.add(s.trial_id)
            block[k] = np.exp(s.likelihood.on(grid))
            ids.append(s.trial_id)
            covs.append(s.covariates)
            k += 1
        rows.append(block[:k])
        if progress is not None:
            progress(len(chunk))
    lik = np.concatenate(rows) if rows else np.empty((0, grid.size), dtype=dtype)
    return PoolingData(grid, lik, ids, covs, excluded)


def read_store(session: Session, outcome: str = "average_pain") -> PoolingData:
    """The old service path: stream objects, adapt each, collect."""
    stream = (summary_from_stored(x, outcome=outcome) for x in stream_summaries(session, outcome, batch=1000))
    return collect(stream, outcome=outcome)
