"""Pooling as a use case: the effect summaries of real, unblinded trials, read through one door.

The store's query keeps unblinded, non-simulated trials only (demo data is never pooled); the
core checks the status again. ``pool``, ``evidence`` and the report's evidence panel all call
``pool_inputs``, so none of them can forget either rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from magtrial.service.access import Role, require
from magtrial.service.context import Context
from magtrial.store import summaries

if TYPE_CHECKING:  # the pooling maths (numpy, scipy) loads when something is pooled, not for ``fingerprint``
    from magtrial.core.pooling import PoolResult
    from magtrial.core.pooling.inputs import PoolingData


def count(ctx: Context, outcome: str = "average_pain") -> int:
    with ctx.db.reader() as s:
        return summaries.count_summaries(s, outcome)


def fingerprint(ctx: Context, outcome: str = "average_pain") -> tuple[str | None, ...]:
    """A cheap stamp of exactly the rows ``pool_inputs`` reads (``summaries.pooled_fingerprint``)."""
    with ctx.db.reader() as s:
        return summaries.pooled_fingerprint(s, outcome)


def pool_inputs(
    ctx: Context, outcome: str = "average_pain", progress: Callable[[int], None] | None = None
) -> PoolingData:
    """Every real unblinded trial's effect likelihood, streamed (pooled data across participants).

    Pooled data cross participants, so only clinicians read them; per-person estimates are
    labelled by trial id and are clinicians' business too.
    """
    from magtrial.core.pooling.bulk import collect_curves
    from magtrial.store import curves

    require(ctx.actor, Role.CLINICIAN, to="pool trials across participants")
    with ctx.db.reader() as s:  # column batches of 20,000 rows: bounded memory, no object per trial
        expected = summaries.count_summaries(s, outcome)
        return collect_curves(curves.read_curves(s, outcome), outcome=outcome, progress=progress, expected=expected)


def pooled_estimate(ctx: Context, outcome: str = "average_pain") -> PoolResult | None:
    """The population estimate beside the published trials, or None while there is nothing to pool."""
    from magtrial.core.pooling import pool_data

    data = pool_inputs(ctx, outcome)
    return pool_data(data, persons=False) if data.n else None
