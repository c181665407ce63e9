"""``GET /trials/{id}/analysis``: one person's result, only once the trial is unblinded.

``core.analysis.analyze`` refuses a blinded record with ``Forbidden`` (403, with the reason), so
nothing here decides who may compare packs: the record the service hands out does.
"""

from __future__ import annotations

from typing import Any

from fastapi import Query
from pydantic import Field

from magtrial.core.analysis import analyze
from magtrial.service import trials
from magtrial.web.api.auth import Ctx
from magtrial.web.api.errors import ERRORS
from magtrial.web.api.router import api_router
from magtrial.web.api.schemas import Out

router = api_router(tags=["analysis"])


class EffectOut(Out):
    """Posterior of the effect (magnesium minus comparator, points); negative is less pain."""

    mean: float
    lower: float  # 95% interval
    upper: float
    p_lower: float  # P(effect < 0)
    p_mcid: float  # P(benefit at least the smallest worthwhile difference)
    p_harm: float  # P(worsening at least that much)
    n_days: int
    rho: float
    sigma: float


class RandomizationTestOut(Out):
    statistic: float
    p_one_sided: float
    p_two_sided: float
    n_sequences: int
    n_possible: int | None = Field(None, description="Orders the design allows (n_sequences: those the test used)")
    min_p_one_sided: float = Field(description="The smallest one-sided p this design can give at all")
    min_p_two_sided: float


class PeriodMeanOut(Out):
    pack: int
    cycle: int
    group: str
    n_days: int
    mean: float | None


class AnalysisOut(Out):
    trial_id: str
    outcome: str
    blinded: bool
    comparison: str
    mcid: float
    mcid_rule: str
    effect: EffectOut
    full_dose_only: EffectOut | None
    full_dose_note: str
    group_means: dict[str, float]
    randomization_test: RandomizationTestOut
    periods: list[PeriodMeanOut]
    model: dict[str, Any]
    summary: list[dict[str, Any]]
    text: str = Field(description="The result in plain language")


@router.get("/trials/{trial_id}/analysis", response_model=AnalysisOut, responses=ERRORS)
def analysis(
    ctx: Ctx,
    trial_id: str,
    outcome: str | None = Query(
        None, description="average_pain, worst_pain or sleep_interference (default: the protocol's primary outcome)"
    ),
    mcid: str = Query("1", max_length=20, description="Smallest worthwhile difference in points, or '30%-run-in'"),
) -> dict[str, Any]:
    """Effect with 95% interval, probabilities, per-pack means and the exact randomization test."""
    record = trials.record(ctx, trial_id)
    return analyze(record, outcome, mcid=mcid).to_dict()
