"""Per-person analysis of an N-of-1 trial (issue 5).

    analyze(record, outcome=None, mcid=1.0) -> AnalysisResult   (None: the protocol's primary outcome)
    AnalysisResult.effect / .summary / .text / .to_dict() / .effect_likelihood()

Modules: ``data`` (record -> arrays), ``model`` (exact Bayesian AR(1)), ``grid`` (its integrals at a
batch of nodes), ``posterior`` (the mixture posterior of the effect), ``randomization`` (exact
test), ``result`` (``analyze``), ``text`` (plain-language wording). Only a record with its
allocation is analysed; a blinded one raises ``magtrial.errors.Forbidden`` (message ``SEALED``).
"""

from magtrial.core.analysis.data import SEALED, AnalysisData, Labels, Outcome, build_data
from magtrial.core.analysis.model import EffectPosterior, Priors, Quadrature, fit_effect
from magtrial.core.analysis.randomization import RandomizationTest, randomization_test
from magtrial.core.analysis.result import RUN_IN_RELATIVE, AnalysisResult, EffectSummary, PeriodMean, analyze

__all__ = [
    "RUN_IN_RELATIVE",
    "SEALED",
    "AnalysisData",
    "AnalysisResult",
    "EffectPosterior",
    "EffectSummary",
    "Labels",
    "Outcome",
    "PeriodMean",
    "Priors",
    "Quadrature",
    "RandomizationTest",
    "analyze",
    "build_data",
    "fit_effect",
    "randomization_test",
]
