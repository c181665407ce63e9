"""The report's pooled estimate is cached until the pooled set changes (issue 12)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from magtrial.core.pooling.simulate import simulate_pool
from magtrial.errors import Forbidden
from magtrial.report import evidence_cache
from magtrial.service import accounts
from magtrial.service.access import Actor, Role
from magtrial.service.context import Context
from magtrial.service.pooling import pooled_estimate
from magtrial.store import summaries
from magtrial.store.db import Database
from magtrial.store.models import TrialRow

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def _add(db, items, status="unblinded", at=NOW, prefix="t"):
    with db.transaction() as s:
        for k, item in enumerate(items):
            tid = f"{prefix}-{k}"
            s.add(
                TrialRow(
                    id=tid,
                    participant=f"P-{prefix}{k}",
                    clinician="dr-lee",
                    simulated=False,
                    protocol="{}",
                    start_date=dt.date(2026, 1, 5),
                    status=status,
                    commitment="0" * 64,
                    created_at=at,
                    created_by="test",
                    flags="[]",
                    unblinded_at=at if status == "unblinded" else None,
                )
            )
            c = item.covariates
            summaries.save_summary(
                s,
                trial_id=tid,
                outcome="average_pain",
                method="sim",
                likelihood=item.likelihood,
                n_days=112,
                condition=c.condition,
                route=c.route,
                salt=c.salt,
                elemental_mg_per_day=c.elemental_mg_per_day,
                at=at,
            )


@pytest.fixture
def ctx(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    db.migrate()
    ctx = Context(db, accounts.bootstrap(db, "dr-lee"))
    _add(db, simulate_pool(12, -1.0, 0.5, np.random.default_rng(7)).summaries)
    evidence_cache.clear()
    yield ctx
    evidence_cache.clear()
    db.dispose()


def test_pooled_estimate_is_reused_until_a_trial_is_unblinded(ctx):
    calls = []

    def compute(c, outcome):
        calls.append(outcome)
        return pooled_estimate(c, outcome)

    first = evidence_cache.cached_pooled_estimate(ctx, "average_pain", compute=compute)
    again = evidence_cache.cached_pooled_estimate(ctx, "average_pain", compute=compute)
    assert again is first and len(calls) == 1
    assert first.mu == pytest.approx(pooled_estimate(ctx, "average_pain").mu)
    # a blinded trial does not enter the pool, so the cached answer stands
    _add(ctx.db, simulate_pool(1, -8.0, 0.1, np.random.default_rng(8)).summaries, status="active", prefix="b")
    assert evidence_cache.cached_pooled_estimate(ctx, "average_pain", compute=compute) is first
    assert len(calls) == 1
    # unblinding it changes the pooled set: recomputed
    with ctx.db.transaction() as s:
        row = s.get(TrialRow, "b-0")
        row.status, row.unblinded_at = "unblinded", NOW + dt.timedelta(days=1)
    fresh = evidence_cache.cached_pooled_estimate(ctx, "average_pain", compute=compute)
    assert len(calls) == 2 and fresh is not first
    assert fresh.mu == pytest.approx(pooled_estimate(ctx, "average_pain").mu)


def test_only_clinicians_get_the_pooled_estimate_even_from_the_cache(ctx):
    evidence_cache.cached_pooled_estimate(ctx, "average_pain")
    with pytest.raises(Forbidden):
        evidence_cache.cached_pooled_estimate(Context(ctx.db, Actor("P-1", Role.PATIENT)), "average_pain")
