"""Pooling as a use case: the effect summaries of real, unblinded trials, read through one door.

The store's query keeps unblinded, non-simulated trials only (demo data is never pooled); the
core checks the status again. ``pool``, ``evidence`` and the report's evidence panel all call
``pool_inputs``, so none of them can forget either rule.
"""

from __future__ import annotations

from collections.abc import Callable

from magtrial.core.pooling import PoolResult, collect, pool_data, summary_from_stored
from magtrial.service.access import Role, require
from magtrial.service.context import Context
from magtrial.store import summaries


def count(ctx: Context, outcome: str = "average_pain") -> int:
    with ctx.db.reader() as s:
        return summaries.count_summaries(s, outcome)


def pool_inputs(ctx: Context, outcome: str = "average_pain", progress: Callable[[int], None] | None = None):
    """Every real unblinded trial's effect likelihood, streamed (pooled data across participants).

    Pooled data cross participants, so only clinicians read them; per-person estimates are
    labelled by trial id and are clinicians' business too.
    """
    require(ctx.actor, Role.CLINICIAN, to="pool trials across participants")
    with ctx.db.reader() as s:
        stream = (summary_from_stored(x, outcome=outcome) for x in summaries.stream_summaries(s, outcome, batch=1000))
        return collect(stream, outcome=outcome, progress=progress)


def pooled_estimate(ctx: Context, outcome: str = "average_pain") -> PoolResult | None:
    """The population estimate beside the published trials, or None while there is nothing to pool."""
    data = pool_inputs(ctx, outcome)
    return pool_data(data, persons=False) if data.n else None
