"""Operating characteristics of an adaptive stopping rule beside the fixed design, by simulation.

Each simulated trial (``planning._simulate``, the same truth model as ``magtrial plan``) is analysed
after every cycle from ``rule.min_cycles`` with the batched posterior of ``planning`` on the diary so
far. The fixed design claims benefit when, after all cycles, the 95 % interval of the effect lies
wholly below 0 (``plan``'s "power (interval)"). The adaptive design claims benefit when it stops for
benefit, or when it runs to the planned end and the fixed design's criterion holds there.

false-positive rate : share of trials claiming benefit when the true effect is 0.
power : share claiming benefit when the true effect is ``spec.effect``.
expected cycles : mean number of cycles run.

A clinician picks thresholds whose false-positive rate is at or below the fixed design's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from magtrial.core import planning
from magtrial.core.analysis.model import Priors
from magtrial.core.stopping import StoppingRule
from magtrial.errors import ValidationError


@dataclass(frozen=True)
class Arm:
    """One truth (effect 0 or ``spec.effect``): how the fixed and the adaptive design come out."""

    effect: float
    fixed_claims: float  # share claiming benefit, fixed design
    adaptive_claims: float  # share claiming benefit, adaptive design
    stopped_benefit: float  # share stopped early for benefit
    stopped_futility: float  # share stopped early for futility
    mean_cycles: float  # adaptive design (the fixed design always runs spec.cycles)


@dataclass(frozen=True)
class AdaptiveResult:
    spec: planning.DesignSpec
    rule: StoppingRule
    n_trials: int
    null: Arm
    alternative: Arm

    @property
    def summary(self) -> list[dict[str, Any]]:
        c = self.spec.cycles
        return [
            {"design": "fixed", "false_positive_rate": self.null.fixed_claims, "power": self.alternative.fixed_claims}
            | {"cycles_if_no_effect": float(c), "cycles_if_effect": float(c)},
            {
                "design": "adaptive",
                "false_positive_rate": self.null.adaptive_claims,
                "power": self.alternative.adaptive_claims,
                "cycles_if_no_effect": self.null.mean_cycles,
                "cycles_if_effect": self.alternative.mean_cycles,
            },
        ]

    @property
    def text(self) -> str:
        s, n, a = self.spec, self.null, self.alternative
        lines = [
            f"Adaptive stopping, {self.n_trials:,} simulated trials per truth, {s.cycles} cycles of 2 x "
            f"{s.period_days} days, SD {s.sd:g}, day-to-day correlation {s.rho:g}, "
            f"{100 * s.missing_rate:.0f}% missing.",
            f"Rule: {self.rule.text}.",
            f"{'design':<10}{'false-positive rate':>21}{f'power (effect {s.effect:+g})':>22}"
            f"{'cycles if no effect':>21}{'cycles if effect':>18}",
            f"{'fixed':<10}{100 * n.fixed_claims:>20.1f}%{100 * a.fixed_claims:>21.1f}%"
            f"{s.cycles:>21.2f}{s.cycles:>18.2f}",
            f"{'adaptive':<10}{100 * n.adaptive_claims:>20.1f}%{100 * a.adaptive_claims:>21.1f}%"
            f"{n.mean_cycles:>21.2f}{a.mean_cycles:>18.2f}",
            f"Stopped early: with no effect {100 * n.stopped_futility:.0f}% for futility, "
            f"{100 * n.stopped_benefit:.1f}% for benefit; with the effect {100 * a.stopped_benefit:.0f}% for benefit, "
            f"{100 * a.stopped_futility:.0f}% for futility.",
        ]
        verdict = "at or below" if n.adaptive_claims <= n.fixed_claims + 1.96 * self._se() else "ABOVE"
        lines.append(f"The adaptive false-positive rate is {verdict} the fixed design's (within simulation error).")
        return "\n".join(lines)

    def _se(self) -> float:
        p = max(self.null.fixed_claims, 1.0 / self.n_trials)
        return float(np.sqrt(2 * p * (1 - p) / self.n_trials))


def simulate_adaptive(
    spec: planning.DesignSpec,
    rule: StoppingRule,
    n_trials: int = 4000,
    *,
    seed: int = 2026,
    chunk: int = 1000,
    priors: Priors = Priors(),
    n_rho: int = 16,
) -> AdaptiveResult:
    """Fixed against adaptive design, under no effect and under ``spec.effect``.

    Parameters
    ----------
    spec : the design and the assumed truth (``spec.effect`` for power; 0 for the false-positive rate).
    rule : the stopping rule; ``rule.min_cycles`` must be below ``spec.cycles``.
    n_trials : simulated trials per truth.
    """
    if n_trials < 1:
        raise ValidationError("n_trials must be at least 1")
    if rule.min_cycles >= spec.cycles:
        raise ValidationError(f"the rule's min_cycles ({rule.min_cycles}) must be below cycles ({spec.cycles})")
    arms = []
    for k, effect in enumerate((0.0, spec.effect)):
        arms.append(_arm(replace(spec, effect=effect), rule, n_trials, seed + 7919 * k, chunk, priors, n_rho))
    return AdaptiveResult(spec, rule, n_trials, arms[0], arms[1])


def _arm(
    spec: planning.DesignSpec, rule: StoppingRule, n: int, seed: int, chunk: int, priors: Priors, n_rho: int
) -> Arm:
    rng = np.random.default_rng(seed)
    layout = planning._layout(spec)
    period_of_col = layout["period"][layout["analysed"]]
    day = layout["day"]
    totals = np.zeros(5)  # fixed claims, adaptive claims, stopped benefit, stopped futility, cycles
    done = 0
    while done < n:
        b = min(chunk, n - done)
        y, first, observed = planning._simulate(spec, layout, b, rng)
        running = np.ones(b, bool)
        cycles_run = np.full(b, spec.cycles, float)
        claims = np.zeros(b, bool)
        for k in range(rule.min_cycles, spec.cycles):
            idx = np.flatnonzero(running)
            if idx.size == 0:
                break
            m = int(np.sum(period_of_col <= 2 * k))
            p_ben, p_fut = _probabilities(y[idx, :m], first[idx, :m], observed[idx, :m], day[:m], rule, priors, n_rho)
            ben = p_ben >= rule.benefit_probability
            fut = ~ben & (p_fut >= rule.futility_probability)
            totals[2] += ben.sum()
            totals[3] += fut.sum()
            stop = idx[ben | fut]
            claims[idx[ben]] = True
            running[stop] = False
            cycles_run[stop] = k
        upper = planning._batched_posterior(y, first, observed, day, 1.0, priors, n_rho)[2]
        fixed = upper < 0  # the 95 % interval lies below 0
        claims |= running & fixed
        totals += [fixed.sum(), claims.sum(), 0, 0, cycles_run.sum()]
        done += b
    s = totals / n
    return Arm(spec.effect, float(s[0]), float(s[1]), float(s[2]), float(s[3]), float(s[4]))


def _probabilities(
    y: np.ndarray, first: np.ndarray, observed: np.ndarray, day: np.ndarray, rule: StoppingRule, priors: Priors, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """P(effect <= benefit_effect) and P(effect > futility_effect) per trial, from the batched posterior."""
    p_ben = planning._batched_posterior(y, first, observed, day, -rule.benefit_effect, priors, n)[3]
    p_below = planning._batched_posterior(y, first, observed, day, -rule.futility_effect, priors, n)[3]
    return p_ben, 1.0 - p_below
