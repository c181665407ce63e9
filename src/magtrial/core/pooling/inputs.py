"""What pooling reads: one ``TrialSummary`` per completed trial, streamed in chunks.

A summary carries the trial's status, so the pooling entry point itself can refuse anything still
blinded: an effect curve is only pooled once its trial has been unblinded. Summaries come from the
store (``effect_summaries`` joined to ``trials``) or from ``summary_from_record``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import numpy as np

from magtrial.core.likelihood import EffectLikelihood
from magtrial.core.pooling.engine import beta_grid
from magtrial.core.pooling.rows import subset_rows
from magtrial.core.record import TrialRecord
from magtrial.errors import Forbidden, ValidationError

POOLABLE_STATUS = "unblinded"
DOSE_BANDS = ((0.0, 150.0, "<150 mg/day"), (150.0, 300.0, "150-300 mg/day"), (300.0, np.inf, ">300 mg/day"))


def dose_band(elemental_mg_per_day: float | None) -> str:
    """Dose band of elemental magnesium per day; 'unknown' when the elemental dose is not known."""
    if elemental_mg_per_day is None or not np.isfinite(elemental_mg_per_day):
        return "unknown"
    for lo, hi, label in DOSE_BANDS:
        if lo <= elemental_mg_per_day < hi:
            return label
    return "unknown"


@dataclass(frozen=True)
class Covariates:
    """Subgroup keys: condition, route, salt and elemental mg/day (None if unknown)."""

    condition: str = "other"
    route: str = "oral"
    salt: str = "unknown"
    elemental_mg_per_day: float | None = None

    def key(self, by: str) -> str:
        if by == "condition":
            return self.condition
        if by == "route":
            return "oral" if self.route == "oral" else "transdermal"
        if by == "route_detail":
            return self.route
        if by == "salt":
            return self.salt
        if by == "dose_band":
            return dose_band(self.elemental_mg_per_day)
        raise ValidationError(f"unknown subgroup key {by!r}: use condition, route, route_detail, salt or dose_band")


@dataclass(frozen=True)
class TrialSummary:
    trial_id: str
    status: str  # "active", "unblinded", "stopped": only "unblinded" is pooled
    likelihood: EffectLikelihood
    covariates: Covariates = field(default_factory=Covariates)
    outcome: str = "average_pain"

    @property
    def poolable(self) -> bool:
        return self.status == POOLABLE_STATUS


def summary_from_record(
    record: TrialRecord, likelihood: EffectLikelihood, outcome: str = "average_pain"
) -> TrialSummary:
    """Build a summary from a trial record; refuses a record that is still blinded."""
    if record.blinded or record.status != POOLABLE_STATUS:
        raise Forbidden(f"trial {record.trial_id} is not unblinded; its effect cannot be pooled")
    product = record.protocol.product
    per_day = None
    if product.elemental_mg_per_unit is not None:
        per_day = product.elemental_mg_per_unit * product.units_per_day
    cov = Covariates(
        condition=record.protocol.condition.value,
        route=product.route.value,
        salt=product.salt,
        elemental_mg_per_day=per_day,
    )
    return TrialSummary(record.trial_id, record.status, likelihood, cov, outcome)


def summary_from_stored(stored: Any, status: str | None = None, outcome: str = "average_pain") -> TrialSummary:
    """Adapt a stored summary (attributes trial_id, condition, route, salt, elemental_mg_per_day,
    likelihood and, ideally, status) to a ``TrialSummary``.

    The row's own ``status`` wins; ``status`` is only for streams that do not carry one and are
    already filtered to unblinded trials by their query. With neither, the summary is refused.
    """
    row_status = getattr(stored, "status", None) or status
    if row_status is None:
        raise Forbidden(f"trial {stored.trial_id}: no trial status with its summary, so it cannot be pooled")
    cov = Covariates(
        condition=stored.condition,
        route=stored.route,
        salt=stored.salt,
        elemental_mg_per_day=stored.elemental_mg_per_day,
    )
    return TrialSummary(stored.trial_id, row_status, stored.likelihood, cov, getattr(stored, "outcome", outcome))


@dataclass
class PoolingData:
    """Curves of the poolable trials on the common grid, gathered chunk by chunk.

    Memory is one row of ``len(grid)`` float32 values per pooled trial (1.6 kB), never the diaries.
    float32 changes posterior means by under 1e-6 against float64 (checked on 10,000 trials) and
    halves memory and matrix-product time.
    """

    grid: np.ndarray
    lik: np.ndarray  # (n, G) likelihood values (max 1 per row)
    trial_ids: list[str]
    covariates: list[Covariates]
    excluded: dict[str, int]  # reason -> count
    moments: tuple[np.ndarray, np.ndarray] | None = None  # each curve's mean and variance, once computed

    @property
    def n(self) -> int:
        return len(self.trial_ids)

    def subset(self, rows: np.ndarray, view: bool = False, top: np.ndarray | None = None) -> PoolingData:
        """The trials ``rows``; ``view=True`` reads their curves from this matrix block by block, no copy.

        ``top``: this matrix's column maxima, for the view (``rows.RowSubset.max``)."""
        take = getattr(self.covariates, "take", None)  # column arrays (bulk read) or a list of Covariates
        covs = take(rows) if take else [self.covariates[i] for i in rows]
        moments = None if self.moments is None else (self.moments[0][rows], self.moments[1][rows])
        lik = subset_rows(self.lik, rows, top) if view else self.lik[rows]
        return PoolingData(self.grid, lik, [self.trial_ids[i] for i in rows], covs, {}, moments)  # type: ignore[arg-type]


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
    """Read summaries in chunks, skipping (and counting) any that may not or cannot be pooled.

    Skipped: trials not unblinded ("blinded"), another outcome ("other outcome"), and duplicate trial ids.
    ``progress(k)`` is called with the number of summaries read in each chunk.
    """
    grid = beta_grid()
    rows: list[np.ndarray] = []
    ids: list[str] = []
    covs: list[Covariates] = []
    seen: set[str] = set()
    excluded: dict[str, int] = {}
    for chunk in _chunks(summaries, chunk_size):
        block: np.ndarray = np.empty((len(chunk), grid.size), dtype=dtype)
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
