"""Words for periods and arms that every report, chart and export shares, so blinding is decided once.

While ``record.allocation`` is ``None`` a period is only ever "period 3, pack 3": no arm, and no
grouping of packs either (which packs match is itself allocation: one clue would reveal them all).
Once unblinded a period also gets its arm. Nothing here guesses an arm from anything else.
"""

from __future__ import annotations

from magtrial.core.allocation import Arm
from magtrial.core.protocol import Comparator
from magtrial.core.record import TrialRecord

COMPARATOR_LABELS = {
    Comparator.PLACEBO: "matched placebo",
    Comparator.VEHICLE: "vehicle cream",
    Comparator.NONE: "no treatment",
}


def arm_of(record: TrialRecord, period: int) -> Arm | None:
    """The period's arm, or ``None`` while blinded."""
    return None if record.allocation is None else record.allocation.arm_of_period(period)


def arm_label(record: TrialRecord, arm: Arm) -> str:
    """Human words for an arm (only ever called on an unblinded record)."""
    if arm is Arm.MAGNESIUM:
        return "magnesium"
    return COMPARATOR_LABELS[record.protocol.comparator]


def period_label(record: TrialRecord, period: int) -> str:
    """'period 3, pack 3' while blinded; 'period 3, pack 3 (magnesium)' after unblinding."""
    arm = arm_of(record, period)
    base = f"period {period}, pack {period}"
    return base if arm is None else f"{base} ({arm_label(record, arm)})"
