"""End to end: simulated diaries -> per-person analysis (magtrial.core.analysis) -> pooling."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from magtrial.core.allocation import Allocation, Arm
from magtrial.core.analysis import analyze
from magtrial.core.diary import DiaryVersion, VersionKind
from magtrial.core.pooling import pool, summary_from_record
from magtrial.core.protocol import Condition, Product, Protocol, Route
from magtrial.core.record import TrialRecord
from magtrial.core.schedule import build_schedule
from magtrial.core.sim import Participant, simulate_diary
from magtrial.errors import Forbidden

START = dt.date(2026, 1, 5)
MU, TAU = -1.0, 0.6


def simulated_record(i: int, effect: float, rng: np.random.Generator, status: str = "unblinded") -> TrialRecord:
    cycles = 3 + i % 2
    product = (
        Product(name="Mg glycinate", salt="glycinate", elemental_mg_per_unit=100, units_per_day=1 + i % 3)
        if i % 5
        else Product(name="Mg oil", salt="chloride", route=Route.OIL)
    )
    protocol = Protocol(
        condition=(Condition.CRPS1, Condition.DIABETIC_NEUROPATHY)[i % 2],
        product=product,
        cycles=cycles,
        period_days=14,
        run_in_days=7,
        start_date=START,
    )
    seq = tuple(
        a
        for _ in range(cycles)
        for a in ((Arm.MAGNESIUM, Arm.COMPARATOR) if rng.random() < 0.5 else (Arm.COMPARATOR, Arm.MAGNESIUM))
    )
    allocation = Allocation(protocol.design, seq, "0" * 64)
    person = Participant(effect=effect, sd=rng.uniform(0.8, 2.0), rho=rng.uniform(0.2, 0.6))
    days = simulate_diary(build_schedule(protocol, START), allocation, person, rng)
    at = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    versions = tuple(DiaryVersion(d.date, 1, VersionKind.ORIGINAL, d.values, at, "p") for d in days if d.values)
    return TrialRecord(
        f"T{i:03d}", f"P-{i}", protocol, START, "", at, status, versions, allocation if status == "unblinded" else None
    )


@pytest.mark.slow
def test_pooling_the_per_person_analyses_recovers_the_population_and_shrinks_toward_truth():
    rng = np.random.default_rng(2026)
    beta = rng.normal(MU, TAU, 40)
    items, own = [], []
    for i, b in enumerate(beta):
        rec = simulated_record(i, float(b), rng)
        lik = analyze(rec).effect_likelihood()
        own.append(lik.moments()[0])
        items.append(summary_from_record(rec, lik))
    blinded = simulated_record(99, -6.0, rng, status="active")
    with pytest.raises(Forbidden):
        summary_from_record(blinded, analyze(blinded).effect_likelihood())
    res = pool(items)
    assert res.n_trials == 40
    assert res.mu.lower < MU < res.mu.upper
    assert res.tau.lower < TAU < res.tau.upper
    shrunk = np.array([p.estimate.mean for p in res.persons])
    assert np.sqrt(np.mean((shrunk - beta) ** 2)) < np.sqrt(np.mean((np.array(own) - beta) ** 2))
    assert {s.covariates.route for s in items} == {"oral", "transdermal-oil"}
