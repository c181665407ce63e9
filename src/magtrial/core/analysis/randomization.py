"""Exact randomization test over every allocation the design could have produced.

Hypothesis: the sharp null that each day's score would have been the same whichever arm its pack
held. Under it, the observed scores are fixed and only the allocation is random, drawn uniformly
from ``possible_sequences(design, cycles)``. The statistic is the difference of means over analysis
days, first group minus second (magnesium minus comparator);
it is recomputed for every sequence in the set, with the observed scores held fixed.

The p-value is exact and assumption-free (no normality, no autocorrelation model), but it can only
take multiples of ``1 / len(set)``: with 4 AB/BA cycles (16 sequences) a one-sided p-value cannot go
below 1/16 = 0.0625, so it can never reach 0.05 whatever the data show. That limit is reported.

With an incomplete diary two things change, and both are handled. Orders that leave one group with
no diary day give no statistic at all: the reference set is the orders for which the statistic is
defined (the p-value divides by their number, not by every order). And orders that differ only in
cycles without diary days group the observed days identically, so they always tie: the smallest
attainable p-value is the share of defined orders that group the days as the observed order does.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from magtrial.core.allocation import Arm, possible_sequences
from magtrial.core.protocol import Design
from magtrial.errors import ValidationError


@dataclass(frozen=True)
class RandomizationTest:
    """Result of the exact randomization test.

    ``p_lower``: P(T <= observed) over the set, evidence that the first group is lower (benefit).
    ``p_two_sided``: P(|T| >= |observed|). ``min_p_lower`` / ``min_p_two_sided``: the smallest
    values the design can give at all with the periods that have diary days.
    ``n_sequences``: orders for which the statistic is defined (the denominator), ``n_possible``: all
    orders the design could have drawn.
    """

    statistic: float
    p_lower: float
    p_two_sided: float
    n_sequences: int
    min_p_lower: float
    min_p_two_sided: float
    distribution: tuple[float, ...]
    n_possible: int = 0

    @property
    def text(self) -> str:
        over = (
            f"all {self.n_sequences} orders the design could have drawn"
            if self.n_sequences == self.n_possible or not self.n_possible
            else f"the {self.n_sequences} of the {self.n_possible} orders the design could have drawn that "
            "leave diary days in both groups"
        )
        return (
            f"Exact randomization test over {over}: "
            f"one-sided p = {self.p_lower:.3g}, two-sided p = {self.p_two_sided:.3g}. With this design a "
            f"one-sided p-value cannot be smaller than {self.min_p_lower:.3g} "
            f"(two-sided {self.min_p_two_sided:.3g}), however large the difference."
        )


def randomization_test(
    y: np.ndarray, period: np.ndarray, observed_first: tuple[bool, ...], design: Design, cycles: int
) -> RandomizationTest:
    """Exact randomization test of the mean difference first group minus second.

    Parameters
    ----------
    y : outcome per analysis day.
    period : 1-based period of each day.
    observed_first : per period, True when it belongs to the first group in the actual allocation.
    design, cycles : the protocol's design; the reference set is ``possible_sequences(design, cycles)``.
    """
    y = np.asarray(y, float)
    period = np.asarray(period, int)
    sequences, mirror_in_set = _reference_set(design, cycles)
    n_periods = sequences.shape[1]
    sums = np.bincount(period - 1, weights=y, minlength=n_periods)[:n_periods]
    counts = np.bincount(period - 1, minlength=n_periods)[:n_periods].astype(float)
    stats = _stat(sequences, sums, counts)
    observed = float(_stat(np.array([observed_first]), sums, counts)[0])
    if not np.isfinite(observed):
        raise ValidationError("the randomization test needs diary days in both groups")
    tol = 1e-9 * max(1.0, abs(observed))
    defined = np.isfinite(stats)
    finite = stats[defined]
    m = int(finite.size)
    p_lower = float(np.sum(finite <= observed + tol) / m)
    p_two = float(np.sum(np.abs(finite) >= abs(observed) - tol) / m)
    # Attainable minimum: the orders grouping the observed days as the observed order does (they
    # differ only in cycles without diary days and always tie) alone at the extreme; two-sided, with
    # the mirror-image grouping too.
    seen = counts > 0
    groupings = sequences[defined][:, seen]
    obs_key = np.asarray(observed_first, bool)[seen]
    ties = int(np.sum(np.all(groupings == obs_key, axis=1)))
    mirror = bool(np.any(np.all(groupings == ~obs_key, axis=1))) and mirror_in_set
    return RandomizationTest(
        statistic=observed,
        p_lower=p_lower,
        p_two_sided=p_two,
        n_sequences=m,
        min_p_lower=ties / m,
        min_p_two_sided=min(1.0, (2.0 if mirror else 1.0) * ties / m),
        distribution=tuple(float(s) for s in np.sort(finite)),
        n_possible=int(sequences.shape[0]),
    )


@functools.lru_cache(maxsize=64)
def _reference_set(design: Design, cycles: int) -> tuple[np.ndarray, bool]:
    """Every possible order as a (sequences x periods) boolean array, first group True, and whether
    the set holds the mirror image of each order; built once per design (issue 13: rebuilding it
    from Python tuples was a tenth of ``analyze()``)."""
    sequences = np.array([[arm is Arm.MAGNESIUM for arm in seq] for seq in possible_sequences(design, cycles)])
    sequences.flags.writeable = False
    return sequences, _mirror_in_set(sequences)


def _stat(first: np.ndarray, sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Difference of day means for each row of ``first`` (sequences x periods, boolean)."""
    f = first.astype(float)
    n1, n2 = f @ counts, (1 - f) @ counts
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((n1 > 0) & (n2 > 0), (f @ sums) / n1 - ((1 - f) @ sums) / n2, np.nan)


def _mirror_in_set(sequences: np.ndarray) -> bool:
    rows = {tuple(r) for r in sequences}
    return all(tuple(~r) in rows for r in sequences)
