"""``analyze(record)``: one person's trial in, one result object out.

The result carries every number a report, export or page shows (``summary`` rows and ``to_dict()``),
a plain-language ``text``, and ``effect_likelihood()`` for pooling. Reports render these; they never
recompute. There is no blinded result: ``analyze`` refuses a record without its allocation
(``Forbidden``), because before unblinding magtrial shows completeness, adherence and safety only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from magtrial.core.analysis.data import AnalysisData, Labels, Outcome, build_data, check_data, require_allocation
from magtrial.core.analysis.model import EffectPosterior, Priors, Quadrature, fit_effect
from magtrial.core.analysis.randomization import RandomizationTest, randomization_test
from magtrial.core.likelihood import EffectLikelihood
from magtrial.core.record import TrialRecord
from magtrial.core.versions import analysed_days_by_version
from magtrial.errors import ValidationError

RUN_IN_RELATIVE = "30%-run-in"


@dataclass(frozen=True)
class EffectSummary:
    """Posterior summary of beta = first group minus second (negative = lower score = better).

    ``p_lower``: P(beta < 0). ``p_mcid``: P(beta <= -mcid), a benefit at least the threshold.
    ``p_harm``: P(beta >= +mcid), a worsening at least the threshold.
    """

    mean: float
    lower: float
    upper: float
    p_lower: float
    p_mcid: float
    p_harm: float
    n_days: int
    rho: float
    sigma: float

    @classmethod
    def from_posterior(cls, post: EffectPosterior, mcid: float) -> EffectSummary:
        lo, hi = post.interval(0.95)
        return cls(
            mean=post.mean,
            lower=lo,
            upper=hi,
            p_lower=post.cdf(0.0),
            p_mcid=post.cdf(-mcid),
            p_harm=1.0 - post.cdf(mcid),
            n_days=post.n_days,
            rho=post.rho_mean,
            sigma=post.sigma_mean,
        )


@dataclass(frozen=True)
class PeriodMean:
    pack: int
    cycle: int
    group: str  # "magnesium" or "comparator"
    n_days: int
    mean: float | None


@dataclass(frozen=True)
class AnalysisResult:
    trial_id: str
    outcome: Outcome
    labels: Labels
    mcid: float
    mcid_rule: str
    effect: EffectSummary
    full_dose: EffectSummary | None
    full_dose_note: str
    randomization: RandomizationTest
    periods: tuple[PeriodMean, ...]
    group_means: tuple[float, float]
    model: dict[str, Any]
    posterior: EffectPosterior = field(repr=False, compare=False)

    def effect_likelihood(self, n: int = 401) -> EffectLikelihood:
        """log p(data | beta) for pooling (nuisances integrated out, beta's prior divided out)."""
        return self.posterior.effect_likelihood(n)

    @property
    def summary(self) -> list[dict[str, Any]]:
        """Table rows: ``quantity`` (words), ``value`` (number or None) and ``display`` (formatted)."""
        from magtrial.core.analysis.text import summary_rows

        return summary_rows(self)

    @property
    def text(self) -> str:
        from magtrial.core.analysis.text import plain_text

        return plain_text(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready numbers."""

        def eff(e: EffectSummary | None) -> dict[str, Any] | None:
            return None if e is None else {k: getattr(e, k) for k in e.__dataclass_fields__}

        r = self.randomization
        return {
            "trial_id": self.trial_id,
            "outcome": self.outcome.value,
            "blinded": False,  # kept for JSON readers: a result exists only for a record with its allocation
            "comparison": f"{self.labels.first} minus {self.labels.second}",
            "mcid": self.mcid,
            "mcid_rule": self.mcid_rule,
            "effect": eff(self.effect),
            "full_dose_only": eff(self.full_dose),
            "full_dose_note": self.full_dose_note,
            "group_means": {self.labels.first: self.group_means[0], self.labels.second: self.group_means[1]},
            "randomization_test": {
                "statistic": r.statistic,
                "p_one_sided": r.p_lower,
                "p_two_sided": r.p_two_sided,
                "n_sequences": r.n_sequences,
                "n_possible": r.n_possible,
                "min_p_one_sided": r.min_p_lower,
                "min_p_two_sided": r.min_p_two_sided,
            },
            "periods": [
                {"pack": p.pack, "cycle": p.cycle, "group": p.group, "n_days": p.n_days, "mean": p.mean}
                for p in self.periods
            ],
            "model": self.model,
            "summary": self.summary,
            "text": self.text,
        }


def analyze(
    record: TrialRecord,
    outcome: Outcome | str | None = None,
    *,
    mcid: float | str = 1.0,
    drift: bool = True,
    period_effects: bool = False,
    priors: Priors = Priors(),
    quadrature: Quadrature | None = None,
) -> AnalysisResult:
    """Analyse one person's trial: Bayesian AR(1) effect, adherence sensitivity, randomization test.

    Parameters
    ----------
    record : the trial as the store hands it out, with its allocation (unblinded, or opened by the
        unblinded pharmacist). A blinded record (``record.allocation is None``) raises ``Forbidden``
        before anything is computed: no comparison between packs is shown before unblinding.
    outcome : ``average_pain``, ``worst_pain`` or ``sleep_interference``; None (the default) is the
        protocol's ``primary_outcome``.
    mcid : the smallest worthwhile difference in points (default 1), or ``"30%-run-in"`` for 30 % of
        the mean run-in score.
    drift, period_effects, priors, quadrature : model options (see ``model.fit_effect``).

    Returns
    -------
    AnalysisResult
    """
    require_allocation(record)
    if outcome is None:
        outcome = record.protocol.primary_outcome
    labels = Labels()
    data = build_data(record, outcome)
    check_data(data, labels)
    threshold, rule = _mcid(mcid, data)
    post = _fit(data, drift, period_effects, priors, quadrature)
    effect = EffectSummary.from_posterior(post, threshold)
    full, note = _full_dose(data, labels, threshold, drift, period_effects, priors, quadrature)
    test = randomization_test(data.y, data.period, data.group_of_period, record.protocol.design, record.protocol.cycles)
    model = {
        "name": "Bayesian AR(1), exact quadrature",
        "drift": drift,
        "period_effects": period_effects,
        "priors": {k: getattr(priors, k) for k in priors.__dataclass_fields__},
        "protocol_versions": analysed_days_by_version(record.protocol, data.period.tolist()),  # amendments
    }
    return AnalysisResult(
        trial_id=record.trial_id,
        outcome=Outcome(outcome),
        labels=labels,
        mcid=threshold,
        mcid_rule=rule,
        effect=effect,
        full_dose=full,
        full_dose_note=note,
        randomization=test,
        periods=_period_means(record, data, labels),
        group_means=(float(data.y[data.first].mean()), float(data.y[~data.first].mean())),
        model=model,
        posterior=post,
    )


def _fit(
    data: AnalysisData, drift: bool, period_effects: bool, priors: Priors, quadrature: Quadrature | None
) -> EffectPosterior:
    return fit_effect(
        data.y,
        data.day,
        data.first,
        data.period,
        drift=drift,
        period_effects=period_effects,
        priors=priors,
        quadrature=quadrature,
    )


def _mcid(mcid: float | str, data: AnalysisData) -> tuple[float, str]:
    if isinstance(mcid, str):
        if mcid.strip().lower() not in (RUN_IN_RELATIVE, "30%", "run-in"):
            try:
                mcid = float(mcid)
            except ValueError:
                raise ValidationError(f"mcid must be a number of points or {RUN_IN_RELATIVE!r}; got {mcid!r}") from None
        else:
            if data.run_in.size < 3:
                raise ValidationError(
                    "a threshold of 30% of run-in needs at least 3 run-in diary days; "
                    f"this trial has {data.run_in.size}. Give a fixed threshold instead."
                )
            base = float(data.run_in.mean())
            if base <= 0:
                raise ValidationError("mean run-in score is 0, so 30% of it is no threshold; give a fixed one")
            return 0.3 * base, f"30% of mean run-in score ({base:.1f})"
    if isinstance(mcid, bool) or not 0 < float(mcid) <= 10:
        raise ValidationError(f"mcid must be between 0 and 10 points, got {mcid!r}")
    return float(mcid), "fixed"


def _full_dose(
    data: AnalysisData,
    labels: Labels,
    threshold: float,
    drift: bool,
    period_effects: bool,
    priors: Priors,
    quadrature: Quadrature | None,
) -> tuple[EffectSummary | None, str]:
    sub = data.subset(data.full_dose)
    dropped = data.n - sub.n
    if dropped == 0:
        return None, "every analysis day had the full dose, so the full-dose-only analysis is the main one"
    try:
        check_data(sub, labels, "the full-dose-only analysis")
    except ValidationError as exc:
        return None, str(exc)
    post = _fit(sub, drift, period_effects, priors, quadrature)
    note = f"{dropped} day(s) with a partial or missed dose left out"
    return EffectSummary.from_posterior(post, threshold), note


def _period_means(record: TrialRecord, data: AnalysisData, labels: Labels) -> tuple[PeriodMean, ...]:
    out = []
    for period in record.schedule.periods:
        mask = data.period == period.number
        first = data.group_of_period[period.number - 1]
        group = labels.first if first else labels.second
        out.append(
            PeriodMean(
                pack=period.pack,
                cycle=period.cycle,
                group=group,
                n_days=int(mask.sum()),
                mean=float(data.y[mask].mean()) if mask.any() else None,
            )
        )
    return tuple(out)


def period_table(result: AnalysisResult) -> list[dict[str, Any]]:
    """Per-period rows for reports: pack, cycle, group, days, mean."""
    return [
        {
            "pack": p.pack,
            "cycle": p.cycle,
            "group": p.group,
            "days": p.n_days,
            "mean": None if p.mean is None else round(p.mean, 2),
        }
        for p in result.periods
    ]


__all__ = ["AnalysisResult", "EffectSummary", "PeriodMean", "analyze", "period_table", "RUN_IN_RELATIVE"]
