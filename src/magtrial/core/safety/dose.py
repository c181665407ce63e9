"""Elemental magnesium per day from what a person holds: a label's elemental mg, or a salt mass.

The label's elemental figure always wins. A salt mass is converted with the table's fraction
for the stated hydrate, and the basis is written out, so a reader can redo the arithmetic.
Compound mass is never taken as elemental, and an unknown salt is an error, never a guess.
"""

from __future__ import annotations

import re

from magtrial.core.protocol import Product
from magtrial.core.safety.model import Finding, ProductDose
from magtrial.core.safety.rules import SafetyRules, Salt, SaltForm
from magtrial.errors import SafetyInputError

MG_PER_MMOL = 24.305  # molar mass of magnesium: SmPCs state doses in mmol (e.g. 4 mmol = 97.2 mg)
MAX_ORAL_MG_PER_DAY = 10_000.0
"""Above this much elemental magnesium a day by mouth (about 28 times the adult upper limit, and far
beyond any supplement or laxative regimen) a dose is refused as impossible: it is a typing or unit
mistake, never something for a clinician to acknowledge. Skin products are not limited (a bath may
hold a kilogram of Epsom salt)."""
UNKNOWN_HYDRATE = "unknown"
_UNITS_MG = {"mg": 1.0, "milligram": 1.0, "milligrams": 1.0, "g": 1000.0, "gram": 1000.0, "grams": 1000.0}


def parse_mass_mg(value: object, what: str, elemental: bool = False) -> float:
    """A positive mass in mg from a number (mg) or text such as '400 mg', '0.4 g' or '4 mmol'.

    ``mmol`` is accepted only for elemental magnesium, where it has one meaning.
    """
    if isinstance(value, bool):
        raise SafetyInputError(f"{what} must be a number of mg, got {value!r}")
    if isinstance(value, int | float):
        amount, unit = float(value), "mg"
    elif isinstance(value, str):
        match = re.fullmatch(r"\s*([-+]?\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", value)
        if not match:
            raise SafetyInputError(
                f"{what} must be a number with an optional unit (mg, g{', mmol' if elemental else ''}), got {value!r}"
            )
        amount, unit = float(match.group(1)), (match.group(2).lower() or "mg")
    else:
        raise SafetyInputError(f"{what} must be a number of mg, got {value!r}")
    if unit == "mmol" and elemental:
        factor = MG_PER_MMOL
    elif unit in _UNITS_MG:
        factor = _UNITS_MG[unit]
    else:
        allowed = "mg, g or mmol" if elemental else "mg or g"
        raise SafetyInputError(f"unknown unit {unit!r} for {what}; use {allowed}")
    if amount <= 0:
        raise SafetyInputError(f"{what} must be more than 0, got {value!r}")
    return amount * factor


def salt_form(salt: Salt, hydrate: str | None, product_name: str) -> tuple[SaltForm, bool]:
    """The form to convert with, and whether it was assumed because the hydrate is 'unknown'.

    When several forms exist and none is named, refuse: the forms differ by up to a third.
    """
    if hydrate is not None and hydrate.strip().lower() == UNKNOWN_HYDRATE:
        return max(salt.forms, key=lambda f: f.fraction), len(salt.forms) > 1
    form = salt.form(hydrate)
    if form is None:
        choices = ", ".join(f"{f.form} {f.percent:.1f}%" for f in salt.forms)
        raise SafetyInputError(
            f"{product_name}: magnesium {salt.key} comes in several forms ({choices}); give the hydrate, "
            f"or '{UNKNOWN_HYDRATE}' to assume the one with the most magnesium, or the label's elemental mg"
        )
    return form, False


def product_dose(product: Product, rules: SafetyRules) -> tuple[ProductDose, list[Finding]]:
    """Elemental mg/day for one product and the findings its arithmetic raised."""
    salt = rules.salt(product.salt)
    findings: list[Finding] = []
    units = product.units_per_day
    if product.elemental_mg_per_unit is not None:
        if product.hydrate and product.hydrate.strip().lower() != UNKNOWN_HYDRATE:
            salt.form(product.hydrate)  # a misspelt hydrate is still an error
        if product.salt_mg_per_unit is not None and product.elemental_mg_per_unit > product.salt_mg_per_unit:
            raise SafetyInputError(
                f"{product.name}: elemental magnesium ({product.elemental_mg_per_unit:g} mg) cannot exceed "
                f"the salt mass ({product.salt_mg_per_unit:g} mg); were the two swapped?"
            )
        per_unit = product.elemental_mg_per_unit
        basis = f"label: {per_unit:g} mg elemental x {units:g}/day"
    elif product.salt_mg_per_unit is not None and product.route.transdermal and salt.form(product.hydrate) is None:
        per_unit = 0.0  # skin products never count, so an unstated hydrate need not block the check
        basis = f"{product.salt_mg_per_unit:g} mg {salt.key}, form not stated: not converted (skin route)"
    elif product.salt_mg_per_unit is not None:
        form, assumed = salt_form(salt, product.hydrate, product.name)
        per_unit = product.salt_mg_per_unit * form.fraction
        basis = (
            f"{product.salt_mg_per_unit:g} mg {salt.key} ({form.form}) x {form.percent:.1f}% "
            f"= {per_unit:.1f} mg elemental x {units:g}/day"
        )
        if assumed:
            p = rules.policy("dose-hydrate-unknown")
            findings.append(
                Finding(
                    p.rule_id,
                    p.level,
                    p.message.format(product=product.name, salt=salt.key, form=form.form, percent=form.percent),
                    p.source,
                )
            )
        if form.note:
            p = rules.policy("dose-salt-note")
            message = p.message.format(product=product.name, note=form.note)
            findings.append(Finding(p.rule_id, p.level, message, f"{p.source}; {form.source}"))
    else:
        per_unit = 0.0  # a skin product without a stated dose; it does not count toward the UL anyway
        basis = "dose not stated"
    counts = not product.route.transdermal
    if not counts:
        p = rules.policy("dose-transdermal-not-counted")
        findings.append(
            Finding(p.rule_id, p.level, p.message.format(product=product.name, route=product.route.value), p.source)
        )
    per_day = per_unit * units
    if counts and per_day > MAX_ORAL_MG_PER_DAY:
        raise SafetyInputError(
            f"{product.name}: {per_day:,.0f} mg ({per_day / 1000:g} g) of elemental magnesium a day by mouth is "
            f"not a possible dose (the limit for this check is {MAX_ORAL_MG_PER_DAY / 1000:g} g/day; the adult "
            f"upper limit is 350 mg/day). Check the label's mg per unit, the unit (mg or g) and the units per day "
            f"({basis})"
        )
    dose = ProductDose(
        product_name=product.name,
        route=product.route.value,
        elemental_mg_per_day=per_day,
        counts_toward_ul=counts,
        basis=basis,
    )
    return dose, findings
