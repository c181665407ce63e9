"""Words for periods and arms that every report and export shares, so blinding is decided once.

While ``record.allocation`` is ``None`` a period is only ever "period 3, pack 3" (and its pack set
X/Y); once unblinded it also gets its arm. Nothing here guesses an arm from anything else.
"""

from __future__ import annotations

from magtrial.core.allocation import Arm
from magtrial.core.protocol import Comparator, Product
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


def pack_set(record: TrialRecord, period: int) -> str:
    return record.pack_sets[period - 1] if len(record.pack_sets) >= period else ""


def period_label(record: TrialRecord, period: int) -> str:
    """'period 3, pack 3' while blinded; 'period 3, pack 3 (magnesium)' after unblinding."""
    arm = arm_of(record, period)
    base = f"period {period}, pack {period}"
    return base if arm is None else f"{base} ({arm_label(record, arm)})"


def elemental_mg_per_day(product: Product) -> tuple[float | None, str]:
    """Elemental magnesium per day and how it was obtained (never a salt mass taken as elemental).

    The label's elemental mg per unit is used when given. A salt mass alone is converted with the
    safety checker's salt table (for the stated hydrate); a salt it cannot convert leaves the dose
    out, and the returned note says why.
    """
    if product.elemental_mg_per_unit is not None:
        mg = product.elemental_mg_per_unit * product.units_per_day
        return (
            mg,
            f"{_fmt(product.elemental_mg_per_unit)} mg elemental per unit x {_fmt(product.units_per_day)}/day",
        )
    if product.salt_mg_per_unit is not None:
        converted = _convert_salt(product)
        if converted is not None:
            mg = converted * product.units_per_day
            return (
                mg,
                f"converted from {_fmt(product.salt_mg_per_unit)} mg {product.salt} per unit (salt table)",
            )
        return None, (
            f"only the salt mass is known ({_fmt(product.salt_mg_per_unit)} mg {product.salt} per unit); "
            "elemental dose not stated"
        )
    return None, "no magnesium content given (transdermal product)"


def _convert_salt(product: Product) -> float | None:
    """Elemental mg per unit from the safety checker's salt table; None for a salt it cannot convert."""
    from magtrial.core.safety.dose import product_dose
    from magtrial.data.safety import load_safety_rules
    from magtrial.errors import ValidationError

    try:
        dose, _ = product_dose(product, load_safety_rules())
    except ValidationError:  # unknown salt or hydrate: leave the dose out rather than guess
        return None
    return dose.elemental_mg_per_day / product.units_per_day


def _fmt(x: float) -> str:
    return f"{x:g}"
