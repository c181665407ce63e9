"""Adaptive stopping: a Bayesian rule chosen at design time, evaluated after each completed cycle.

The rule is part of the protocol (``[stopping]`` in a protocol file; absent = a fixed design, the
default). After cycle k (k >= ``min_cycles``) the posterior of the effect (magnesium minus
comparator, negative = less pain) on the diary so far gives

- stop for benefit when P(effect <= ``benefit_effect``) >= ``benefit_probability``,
- stop for futility when P(effect > ``futility_effect``) >= ``futility_probability``,
- otherwise continue.

Evaluating needs the allocation, so only the unblinded pharmacist's key opens it (``service.stopping``).
Blinded people learn only "continue" or "trial complete": ``public_status`` maps benefit and futility
to the same word and ``MESSAGES`` holds one string for it, so nothing they see says which way it went.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import pydantic

from magtrial.core.inputs import INPUT_CONFIG, Count, Number, validated
from magtrial.errors import ProtocolError


@validated(ProtocolError)
@pydantic.dataclasses.dataclass(frozen=True, config=INPUT_CONFIG)
class StoppingRule:
    """Thresholds of the rule; the defaults are the issue's example (stop for benefit at P(effect <= -1) >= 0.95)."""

    benefit_effect: Number = -1.0
    benefit_probability: Number = 0.95
    futility_effect: Number = -0.5
    futility_probability: Number = 0.90
    min_cycles: Count = 2

    def __post_init__(self) -> None:
        if not -10 < self.benefit_effect < 0:
            raise ProtocolError(
                f"stopping.benefit_effect must be below 0 (a benefit, in points), got {self.benefit_effect:g}"
            )
        if not self.benefit_effect <= self.futility_effect < 10:
            raise ProtocolError(
                f"stopping.futility_effect must be at least benefit_effect ({self.benefit_effect:g}), "
                f"got {self.futility_effect:g}"
            )
        for name in ("benefit_probability", "futility_probability"):
            value = getattr(self, name)
            if not 0.5 <= value < 1:
                raise ProtocolError(f"stopping.{name} must be 0.5 or more and below 1, got {value:g}")
        if self.min_cycles < 1:
            raise ProtocolError(f"stopping.min_cycles must be 1 or more, got {self.min_cycles}")

    def to_dict(self) -> dict[str, float | int]:
        return {
            "benefit_effect": self.benefit_effect,
            "benefit_probability": self.benefit_probability,
            "futility_effect": self.futility_effect,
            "futility_probability": self.futility_probability,
            "min_cycles": self.min_cycles,
        }

    @property
    def text(self) -> str:
        return (
            f"after each cycle from cycle {self.min_cycles}: stop for benefit when P(effect <= "
            f"{self.benefit_effect:g}) >= {self.benefit_probability:g}, for futility when P(effect > "
            f"{self.futility_effect:g}) >= {self.futility_probability:g}"
        )


def check_rule(rule: StoppingRule, cycles: int) -> None:
    """The rule must be able to stop before the planned end."""
    if rule.min_cycles >= cycles:
        raise ProtocolError(
            f"stopping.min_cycles ({rule.min_cycles}) must be below the number of cycles ({cycles}), "
            "or the rule could never stop the trial early"
        )


class Outcome(StrEnum):
    CONTINUE = "continue"
    BENEFIT = "benefit"
    FUTILITY = "futility"


class Status(StrEnum):
    """What blinded people are told: nothing else."""

    CONTINUE = "continue"
    COMPLETE = "complete"


MESSAGES = {
    Status.CONTINUE: "Continue: the trial goes on as planned.",
    Status.COMPLETE: "Trial complete: the stopping rule chosen at the start has been met. Stop taking the packs; "
    "your clinician will arrange what happens next.",
}


def public_status(outcome: Outcome) -> Status:
    """Benefit and futility are told alike."""
    return Status.CONTINUE if outcome is Outcome.CONTINUE else Status.COMPLETE


@dataclass(frozen=True)
class Decision:
    cycle: int
    outcome: Outcome
    p_benefit: float  # P(effect <= benefit_effect)
    p_futility: float  # P(effect > futility_effect)

    @property
    def status(self) -> Status:
        return public_status(self.outcome)


def evaluate(rule: StoppingRule, cdf: Callable[[float], float], cycle: int) -> Decision:
    """Apply the rule after ``cycle`` completed cycles, given the posterior CDF of the effect."""
    p_benefit = float(cdf(rule.benefit_effect))
    p_futility = 1.0 - float(cdf(rule.futility_effect))
    if cycle < rule.min_cycles:
        outcome = Outcome.CONTINUE
    elif p_benefit >= rule.benefit_probability:
        outcome = Outcome.BENEFIT
    elif p_futility >= rule.futility_probability:
        outcome = Outcome.FUTILITY
    else:
        outcome = Outcome.CONTINUE
    return Decision(cycle, outcome, p_benefit, p_futility)


def sealed_payload(trial_id: str, decision: Decision) -> bytes:
    """The reason, to be sealed to the unblinding keys: fixed width, so the ciphertext length says nothing."""
    reason = decision.outcome.value.ljust(8)
    return (
        f'{{"cycle":"{decision.cycle:02d}","p_benefit":"{decision.p_benefit:.6f}",'
        f'"p_futility":"{decision.p_futility:.6f}","reason":"{reason}","trial":"{trial_id}"}}'
    ).encode()
