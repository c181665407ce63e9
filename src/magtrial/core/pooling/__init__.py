"""Hierarchical pooling of unblinded N-of-1 trials (issue 6).

``pool`` streams ``TrialSummary`` items (a trial's effect likelihood plus covariates), refuses any
trial not yet unblinded, and returns a ``PoolResult``: the population mean effect mu, the
between-person SD tau, responders, the predictive effect for a new person and every person's
shrunken estimate. Computation is deterministic quadrature (see ``engine``), not MCMC.
"""

from magtrial.core.pooling.engine import Prior
from magtrial.core.pooling.inputs import (
    Covariates,
    PoolingData,
    TrialSummary,
    collect,
    dose_band,
    summary_from_record,
    summary_from_stored,
)
from magtrial.core.pooling.pool import pool, pool_data, pool_subgroups, prior_sensitivity
from magtrial.core.pooling.results import (
    MIN_SUBGROUP_TRIALS,
    RESPONDER_THRESHOLD,
    Estimate,
    PersonEstimate,
    PoolResult,
    SubgroupResult,
)

__all__ = [
    "MIN_SUBGROUP_TRIALS",
    "RESPONDER_THRESHOLD",
    "Covariates",
    "Estimate",
    "PersonEstimate",
    "PoolResult",
    "PoolingData",
    "Prior",
    "SubgroupResult",
    "TrialSummary",
    "collect",
    "dose_band",
    "pool",
    "pool_data",
    "pool_subgroups",
    "prior_sensitivity",
    "summary_from_record",
    "summary_from_stored",
]
