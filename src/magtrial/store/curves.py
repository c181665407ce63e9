"""Stored effect curves read in bulk for pooling: column arrays per batch, no object per row.

``stream_summaries`` builds an ``EffectLikelihood`` and a dataclass for every trial, which at 100,000 trials
costs more than the pooling arithmetic. Here each keyset-paginated batch (``batch`` rows, so memory stays
bounded however many trials there are) becomes a ``CurveBatch``: the blobs of a column joined into one
buffer and viewed as an (n, K) float32 array. Which rows may be pooled is decided by the same
``summaries.poolable`` condition as the row stream and the count, so a new exclusion is added once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from magtrial.core.pooling.bulk import CovariateColumns, CurveBatch
from magtrial.store.models import EffectSummaryRow, TrialRow
from magtrial.store.summaries import _F32
from magtrial.store.summaries import poolable as _poolable

_COLUMNS = (
    EffectSummaryRow.trial_id,
    TrialRow.status,
    EffectSummaryRow.condition,
    EffectSummaryRow.route,
    EffectSummaryRow.salt,
    EffectSummaryRow.elemental_mg_per_day,
    EffectSummaryRow.grid,
    EffectSummaryRow.log_lik,
)


def _matrix(blobs: list[bytes]) -> np.ndarray:
    """Equal-length float32 blobs as one (n, K) array read from a single joined buffer."""
    return np.frombuffer(b"".join(blobs), dtype=_F32).reshape(len(blobs), -1)


def _split_by_length(rows: Sequence[Any], outcome: str) -> Iterator[CurveBatch]:
    columns = [list(c) for c in zip(*rows, strict=True)]
    lengths = np.fromiter((len(g) for g in columns[6]), dtype=np.int64, count=len(rows))
    cuts = [0, *(np.flatnonzero(np.diff(lengths)) + 1).tolist(), len(rows)]
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):  # runs of one curve length, in trial-id order
        cols = columns if b - a == len(rows) else [c[a:b] for c in columns]
        ids, status, condition, route, salt, mg, grid, log_lik = cols
        yield CurveBatch(
            trial_ids=ids,
            status=status,
            outcome=outcome,
            covariates=CovariateColumns(
                np.array(condition, dtype=object),
                np.array(route, dtype=object),
                np.array(salt, dtype=object),
                np.array([np.nan if v is None else v for v in mg], dtype=float),
            ),
            grid=_matrix(grid),
            log_lik=_matrix(log_lik),
        )


def read_curves(session: Session, outcome: str = "average_pain", batch: int = 20_000) -> Iterator[CurveBatch]:
    """Poolable trials' curves in trial-id order, ``batch`` rows per query (keyset pagination)."""
    last = ""
    conn = session.connection()  # Core rows: the ORM's per-row processing cost ~0.4 s per 100,000 rows
    while True:
        rows = conn.execute(
            select(*_COLUMNS)
            .join(TrialRow, TrialRow.id == EffectSummaryRow.trial_id)
            .where(*_poolable(outcome), EffectSummaryRow.trial_id > last)
            .order_by(EffectSummaryRow.trial_id)
            .limit(batch)
        ).all()
        if not rows:
            return
        last = rows[-1][0]
        yield from _split_by_length(rows, outcome)
