"""Loads the magnesium safety tables (``safety_*.toml``) into the core's ``SafetyRules``.

The tables are data so a pharmacist can review them without reading code; this loader is the
only place that knows they are TOML. A malformed row fails loudly with its file and id.
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from typing import Any

from magtrial.core.protocol import Product
from magtrial.core.safety.conditions import (
    ICD10,
    ICD10_CM,
    SNOMED,
    Code,
    ConditionConcept,
    ConditionVocabulary,
)
from magtrial.core.safety.dose import product_dose
from magtrial.core.safety.model import Jurisdiction, Level
from magtrial.core.safety.rules import (
    Interaction,
    PersonRule,
    Policy,
    Rda,
    SafetyRules,
    Salt,
    SaltForm,
    Symptom,
    UpperLimit,
)
from magtrial.errors import ValidationError

TABLE_FILES = (
    "safety_salts.toml",
    "safety_limits.toml",
    "safety_person.toml",
    "safety_interactions.toml",
    "safety_monitoring.toml",
    "safety_conditions.toml",
)
CODE_SYSTEMS = {"snomed": SNOMED, "icd10": ICD10, "icd10cm": ICD10_CM}


class SafetyTableError(ValueError):
    """A safety table that cannot be read: a packaging or editing mistake, not user input."""


def _read(name: str) -> dict[str, Any]:
    text = resources.files("magtrial.data").joinpath(name).read_text(encoding="utf-8")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SafetyTableError(f"{name}: {exc}") from exc


def _row(file: str, row: dict[str, Any], build: Any) -> Any:
    try:
        return build(row)
    except (KeyError, TypeError, ValueError) as exc:
        raise SafetyTableError(f"{file}: row {row.get('id', row.get('form', '?'))!r}: {exc!r}") from exc


def _salt(row: dict[str, Any]) -> Salt:
    forms = tuple(
        SaltForm(
            salt=row["id"],
            form=f["form"],
            fraction=f["percent"] / 100,
            formula=f["formula"],
            source=f["source"],
            note=f.get("note", ""),
        )
        for f in row["form"]
    )
    return Salt(key=row["id"], aliases=tuple(row.get("aliases", ())), forms=forms)


def _upper_limit(row: dict[str, Any]) -> UpperLimit:
    return UpperLimit(
        rule_id=row["id"],
        jurisdiction=Jurisdiction(row["jurisdiction"]),
        min_age=row["min_age"],
        below_age=row["below_age"],
        mg=row.get("mg"),
        source=row["source"],
        life_stage=row.get("life_stage", "any"),
    )


def _rda(row: dict[str, Any]) -> Rda:
    return Rda(
        rule_id=row["id"],
        min_age=row["min_age"],
        below_age=row["below_age"],
        sex=row["sex"],
        mg=row["mg"],
        source=row["source"],
        life_stage=row.get("life_stage", "any"),
    )


def _person_rule(row: dict[str, Any]) -> PersonRule:
    return PersonRule(
        rule_id=row["id"],
        kind=row["kind"],
        level=Level(row["level"]),
        message=row["message"],
        source=row["source"],
        threshold=row.get("threshold"),
    )


def _condition(row: dict[str, Any]) -> ConditionConcept:
    codes = tuple(
        Code(
            system=CODE_SYSTEMS[c["system"]],
            code=c["code"],
            display=c["display"],
            verified=bool(c["verified"]),
            source=c.get("source", ""),
        )
        for c in row.get("codes", ())
    )
    terms = tuple(row["terms"])
    if not terms or not all(isinstance(t, str) and t.strip() for t in terms):
        raise ValueError("a condition needs its terms")
    return ConditionConcept(
        id=row["id"], name=row["name"], rule_id=row["rule"], terms=terms, codes=codes, note=row.get("note", "")
    )


def _interaction(row: dict[str, Any]) -> Interaction:
    return Interaction(
        rule_id=row["id"],
        name=row["name"],
        aliases=tuple(row.get("aliases", ())),
        level=Level(row["level"]),
        effect=row["effect"],
        action=row["action"],
        source=row["source"],
        drug_before_mg_min=row.get("drug_before_mg_min", 0),
        drug_after_mg_min=row.get("drug_after_mg_min", 0),
    )


def _symptom(row: dict[str, Any]) -> Symptom:
    return Symptom(
        rule_id=row["id"],
        name=row["name"],
        diary_items=tuple(row.get("diary_items", ())),
        keywords=tuple(row.get("keywords", ())),
        source=row["source"],
    )


def _policy(row: dict[str, Any]) -> Policy:
    return Policy(
        rule_id=row["id"],
        level=Level(row["level"]),
        message=row["message"],
        source=row["source"],
        value=row.get("value"),
    )


@functools.cache
def load_safety_rules() -> SafetyRules:
    """Every safety table, parsed once per process (the files ship with the package)."""
    salts_file, limits_file, person_file, drugs_file, monitoring_file, conditions_file = TABLE_FILES
    salts, limits, person, drugs, monitoring, conditions = (_read(name) for name in TABLE_FILES)
    concepts = tuple(_row(conditions_file, r, _condition) for r in conditions["condition"])
    try:
        vocabulary = ConditionVocabulary(concepts)
    except ValueError as exc:
        raise SafetyTableError(f"{conditions_file}: {exc}") from exc
    rules = SafetyRules(
        salts=tuple(_row(salts_file, r, _salt) for r in salts["salt"]),
        upper_limits=tuple(_row(limits_file, r, _upper_limit) for r in limits["upper_limit"]),
        rdas=tuple(_row(limits_file, r, _rda) for r in limits["rda"]),
        person_rules=tuple(_row(person_file, r, _person_rule) for r in person["rule"]),
        interactions=tuple(_row(drugs_file, r, _interaction) for r in drugs["interaction"]),
        symptoms=tuple(_row(monitoring_file, r, _symptom) for r in monitoring["symptom"]),
        policies=tuple(_row(monitoring_file, r, _policy) for r in monitoring["policy"]),
        conditions=vocabulary,
    )
    known = {r.rule_id for r in rules.person_rules}
    unknown = sorted({c.rule_id for c in concepts} - known)
    if unknown:
        raise SafetyTableError(f"{conditions_file}: concepts name unknown person rule(s): {', '.join(unknown)}")
    ids = [rule_id for rule_id, _ in rules.rows()]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise SafetyTableError(f"duplicate safety rule id(s): {', '.join(duplicates)}")
    return rules


def elemental_dose(product: Product) -> tuple[float | None, str]:
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
    try:
        dose, _ = product_dose(product, load_safety_rules())
    except ValidationError:  # unknown salt or hydrate: leave the dose out rather than guess
        return None
    return dose.elemental_mg_per_day / product.units_per_day


def _fmt(x: float) -> str:
    return f"{x:g}"
