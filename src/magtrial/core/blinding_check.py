"""The blinding check: after each period the participant guesses whether that period's pack held magnesium.

Answers are stored as given ("this pack", "the other pack", "don't know") and shown raw, per period
and pack number, while the trial is blinded. Only once the allocation is revealed are they scored:
Bang's blinding index per arm (Bang, Ni and Davis 2004, Controlled Clinical Trials 25:143-156), here
per period type (magnesium periods, comparator periods). For one arm with ``c`` correct guesses, ``w``
wrong ones and ``d`` "don't know" answers (n = c + w + d)::

    BI = (2 * c / (c + w) - 1) * (c + w) / n  =  (c - w) / n
    SE = sqrt((p1 (1 - p1) + p2 (1 - p2) + 2 p1 p2) / n), p1, p2 = the shares guessing each arm

as in the R package BI (Schwartz and Mercaldo, ``BI()``). BI runs from -1 (every guess wrong) through
0 (guessing at random) to 1 (every guess right: blinding failed); -0.2..0.2 is usually read as held.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from magtrial.errors import ValidationError

QUESTION = "Which pack do you think held magnesium?"


class Guess(StrEnum):
    THIS = "this"  # the pack of the period that just ended held magnesium
    OTHER = "other"  # the other pack (the comparator was this period's)
    DONT_KNOW = "dont-know"

    @property
    def label(self) -> str:
        return {"this": "This pack", "other": "The other pack", "dont-know": "Don't know"}[self.value]


def parse_guess(value: object) -> Guess:
    """A guess as a form, the API or the CLI sends it; anything else is refused with the choices."""
    text = str(value).strip().lower().replace("_", "-").replace(" ", "-") if isinstance(value, str) else None
    text = {"dont-know": "dont-know", "don't-know": "dont-know", "dk": "dont-know"}.get(text or "", text)
    if text not in {g.value for g in Guess}:
        shown = repr(value)[:40]
        raise ValidationError(f"the blinding-check answer must be this, other or dont-know; got {shown}")
    return Guess(text)


@dataclass(frozen=True)
class BangIndex:
    """Bang's blinding index for one arm, with its standard error (normal approximation)."""

    arm: str
    correct: int
    incorrect: int
    dont_know: int

    @property
    def n(self) -> int:
        return self.correct + self.incorrect + self.dont_know

    @property
    def estimate(self) -> float | None:
        """None without a single answer (the index is undefined)."""
        return (self.correct - self.incorrect) / self.n if self.n else None

    @property
    def se(self) -> float | None:
        if not self.n:
            return None
        p1, p2 = self.correct / self.n, self.incorrect / self.n
        return math.sqrt((p1 * (1 - p1) + p2 * (1 - p2) + 2 * p1 * p2) / self.n)

    @property
    def text(self) -> str:
        if self.estimate is None:
            return f"{self.arm}: no answers"
        verdict = (
            "consistent with blinding"
            if abs(self.estimate) <= 0.2
            else ("more right guesses than chance" if self.estimate > 0 else "more wrong guesses than chance")
        )
        return (
            f"{self.arm}: {self.correct} right, {self.incorrect} wrong, {self.dont_know} don't know of {self.n}; "
            f"Bang's index {self.estimate:+.2f} ({verdict})"
        )


def bang_index(arm: str, correct: int, incorrect: int, dont_know: int) -> BangIndex:
    if min(correct, incorrect, dont_know) < 0:
        raise ValidationError("answer counts cannot be negative")
    return BangIndex(arm, correct, incorrect, dont_know)


def score(guesses: Mapping[int, Guess], on_magnesium: Mapping[int, bool]) -> tuple[BangIndex, BangIndex]:
    """Bang's index for magnesium periods and for comparator periods, from each period's guess.

    ``guesses``: period number -> the participant's answer; ``on_magnesium``: period -> whether that
    period's pack held magnesium (known only after unblinding). "This pack" is right in a magnesium
    period, "the other pack" in a comparator period.
    """
    counts = {True: [0, 0, 0], False: [0, 0, 0]}
    for period, guess in guesses.items():
        if period not in on_magnesium:
            raise ValidationError(f"period {period} is not in this trial's calendar")
        mag = on_magnesium[period]
        if guess is Guess.DONT_KNOW:
            counts[mag][2] += 1
        elif (guess is Guess.THIS) == mag:
            counts[mag][0] += 1
        else:
            counts[mag][1] += 1
    return bang_index("Magnesium periods", *counts[True]), bang_index("Comparator periods", *counts[False])
