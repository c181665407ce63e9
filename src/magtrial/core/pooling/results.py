"""Result objects of pooling: numbers, a ``.summary`` table and a plain-language ``.text``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from magtrial.core.pooling.engine import Prior

RESPONDER_THRESHOLD = -1.0  # NRS points: about the minimal important difference (IMMPACT, Farrar 2001)
MIN_SUBGROUP_TRIALS = 5


@dataclass(frozen=True)
class Estimate:
    """Posterior mean, SD and equal-tailed interval of one quantity."""

    mean: float
    sd: float
    lower: float
    upper: float
    level: float = 0.95

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def fmt(self, digits: int = 2, pct: bool = False) -> str:
        if pct:
            return f"{100 * self.mean:.0f} % ({100 * self.lower:.0f} to {100 * self.upper:.0f} %)"
        return f"{self.mean:.{digits}f} ({self.lower:.{digits}f} to {self.upper:.{digits}f})"


def node_estimate(
    nodes: np.ndarray, masses: np.ndarray, level: float = 0.95, lower_bound: float | None = None
) -> Estimate:
    """Estimate from probability masses on equally spaced nodes, each spread evenly over its cell."""
    masses = np.asarray(masses, dtype=float)
    masses = masses / masses.sum()
    mean = float(masses @ nodes)
    sd = float(np.sqrt(max(float(masses @ (nodes - mean) ** 2), 0.0)))
    half = (nodes[1] - nodes[0]) / 2 if nodes.size > 1 else 0.0
    edges = np.concatenate(([nodes[0] - half], nodes + half))
    if lower_bound is not None:
        edges = np.clip(edges, lower_bound, None)
    cdf = np.concatenate(([0.0], np.cumsum(masses)))
    a = (1 - level) / 2
    lo, hi = np.interp([a, 1 - a], cdf, edges)
    return Estimate(mean, sd, float(lo), float(hi), level)


def weighted_estimate(values: np.ndarray, weights: np.ndarray, level: float = 0.95) -> Estimate:
    """Estimate of a function of (mu, tau) from its values and posterior weights on the grid cells."""
    order = np.argsort(values)
    v, w = values[order], weights[order] / weights.sum()
    mean = float(w @ v)
    sd = float(np.sqrt(max(w @ (v - mean) ** 2, 0.0)))
    cdf = np.cumsum(w) - w / 2
    a = (1 - level) / 2
    lo, hi = np.interp([a, 1 - a], cdf, v)
    return Estimate(mean, sd, float(lo), float(hi), level)


@dataclass(frozen=True)
class PersonEstimate:
    """One person's shrunken effect: posterior of beta_i given everyone's data."""

    trial_id: str
    estimate: Estimate
    p_responder: float  # P(beta_i <= -1 | all data)
    own: tuple[float, float]  # mean and SD of the person's own curve (flat prior), for comparison


@dataclass(frozen=True)
class PoolResult:
    """The population estimate from a hierarchical pool of unblinded N-of-1 trials.

    ``responders_population``: the share Phi((-1 - mu) / tau) of the *population* whose true effect is
    at least a 1-point reduction, with its posterior interval. ``responders_enrolled``: the expected
    share, among the pooled people, whose own effect is <= -1 (mean of P(beta_i <= -1 | all data)),
    with an interval from its posterior mean and variance (normal approximation, clipped to 0-1).
    """

    n_trials: int
    mu: Estimate
    tau: Estimate
    responders_population: Estimate
    responders_enrolled: Estimate | None  # None when not computed (subgroups)
    predictive: Estimate  # effect in a new person
    p_new_benefit: float  # P(beta_new < 0)
    p_new_responder: float  # P(beta_new <= -1)
    prior: Prior
    excluded: dict[str, int] = field(default_factory=dict)
    persons: tuple[PersonEstimate, ...] = ()
    grid_edge_mass: float = 0.0
    label: str = "all trials"

    @property
    def summary(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        for name, est, unit in (
            ("mu (mean effect)", self.mu, "NRS points"),
            ("tau (between-person SD)", self.tau, "NRS points"),
            ("new person's effect", self.predictive, "NRS points"),
            ("responders in population", self.responders_population, "share"),
            ("responders among pooled", self.responders_enrolled, "share"),
        ):
            if est is None:
                continue
            rows.append({"quantity": name, "unit": unit, **est.as_dict()})
        return rows

    @property
    def text(self) -> str:
        mu = self.mu
        if mu.upper < 0:
            verdict = "on average less pain than the comparator"
        elif mu.lower > 0:
            verdict = "on average more pain than the comparator"
        else:
            verdict = "the interval includes no average difference"
        lines = [
            f"Pooled {self.n_trials} unblinded N-of-1 trials ({self.label}).",
            *(
                [
                    f"Warning: only {self.n_trials} trial(s); with fewer than {MIN_SUBGROUP_TRIALS} the population "
                    "estimate rests mostly on the priors and says little about people in general."
                ]
                if self.n_trials < MIN_SUBGROUP_TRIALS
                else []
            ),
            f"On average magnesium changed daily pain by {mu.mean:+.2f} points ({mu.lower:+.2f} to "
            f"{mu.upper:+.2f}, 95 % interval): {verdict}.",
            f"How much people differ (between-person SD of the effect): {self.tau.fmt()} points.",
            f"A new person's effect is expected between {self.predictive.lower:+.1f} and "
            f"{self.predictive.upper:+.1f} points; the chance they improve by at least 1 point is "
            f"{100 * self.p_new_responder:.0f} %.",
            f"Responders (true effect of 1 point or more): {self.responders_population.fmt(pct=True)} "
            f"of the population"
            + (
                f"; {self.responders_enrolled.fmt(pct=True)} of the people pooled."
                if self.responders_enrolled is not None
                else "."
            ),
            f"Priors: {self.prior.describe()}.",
        ]
        if self.excluded:
            skipped = ", ".join(f"{v} {k}" for k, v in sorted(self.excluded.items()))
            lines.append(f"Not pooled: {skipped}.")
        if self.grid_edge_mass > 1e-4:
            lines.append(f"Warning: {self.grid_edge_mass:.1%} of the posterior lies at the grid edge.")
        return "\n".join(lines)

    def as_dict(self, persons: bool = False) -> dict[str, object]:
        out: dict[str, object] = {
            "label": self.label,
            "n_trials": self.n_trials,
            "mu": self.mu.as_dict(),
            "tau": self.tau.as_dict(),
            "predictive": self.predictive.as_dict(),
            "p_new_benefit": self.p_new_benefit,
            "p_new_responder": self.p_new_responder,
            "responders_population": self.responders_population.as_dict(),
            "responders_enrolled": None if self.responders_enrolled is None else self.responders_enrolled.as_dict(),
            "responder_threshold": RESPONDER_THRESHOLD,
            "prior": asdict(self.prior),
            "excluded": self.excluded,
        }
        if persons:
            out["persons"] = [
                {"trial_id": p.trial_id, **p.estimate.as_dict(), "p_responder": p.p_responder} for p in self.persons
            ]
        return out


@dataclass(frozen=True)
class SubgroupResult:
    """One subgroup: an estimate, or only a warning when it has too few trials to say anything."""

    by: str
    level: str
    n_trials: int
    result: PoolResult | None
    warning: str = ""

    @property
    def text(self) -> str:
        if self.result is None:
            return f"{self.by} = {self.level}: {self.warning}"
        r = self.result
        return (
            f"{self.by} = {self.level}: n = {self.n_trials}, mean effect {r.mu.fmt()}, "
            f"between-person SD {r.tau.fmt()}, responders {r.responders_population.fmt(pct=True)}"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "by": self.by,
            "level": self.level,
            "n_trials": self.n_trials,
            "warning": self.warning,
            "estimate": None if self.result is None else self.result.as_dict(),
        }


def too_small_warning(n: int) -> str:
    return (
        f"only {n} trial{'s' if n != 1 else ''}; at least {MIN_SUBGROUP_TRIALS} are needed before "
        f"this subgroup's effect is estimated, so nothing can be said about it yet"
    )
