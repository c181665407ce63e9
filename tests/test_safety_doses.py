"""Implausible doses and how products are named (issue 12): impossible values are refused with a
clear line, implausible ones are questioned, routes read like salts (any case), IV is explained,
and a salt named with its hydrate points to ``hydrate``."""

from __future__ import annotations

import math

import pytest

from magtrial.core.protocol import Route
from magtrial.core.safety import Level, Person, check_regimen, product_from_dict
from magtrial.data.safety import load_safety_rules
from magtrial.errors import SafetyInputError, ValidationError

RULES = load_safety_rules()
ADULT = Person(age=40, sex="female", egfr=90)


def check(**product):
    data = {"name": "test", "salt": "citrate", **product}
    return check_regimen(ADULT, [product_from_dict(data)], [], "US", rules=RULES)


# --- refused: impossible values --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("product", "message"),
    [
        ({"elemental_mg_per_unit": math.nan}, "must be a finite number"),
        ({"elemental_mg_per_unit": math.inf}, "must be a finite number"),
        ({"salt_mg_per_unit": -math.inf, "hydrate": "anhydrous"}, "must be a finite number"),
        ({"elemental_mg_per_unit": "nan"}, "must be a number with an optional unit"),
        ({"elemental_mg_per_unit": "inf mg"}, "must be a number with an optional unit"),
        ({"elemental_mg_per_unit": 0}, "must be positive"),
        ({"elemental_mg_per_unit": -100}, "must be positive"),
        ({"elemental_mg_per_unit": "0 g"}, "must be more than 0"),
        ({"elemental_mg_per_unit": 100, "units_per_day": math.nan}, "must be a finite number"),
        ({"elemental_mg_per_unit": 100, "units_per_day": 0}, "must be positive"),
        (
            {"elemental_mg_per_unit": "24 g"},
            r"24,000 mg \(24 g\) of elemental magnesium a day by mouth is not a possible",
        ),
        ({"elemental_mg_per_unit": 24_000}, "not a possible dose"),
        ({"elemental_mg_per_unit": 400, "units_per_day": 60}, "not a possible dose"),
        ({"salt": "oxide", "salt_mg_per_unit": "20 g"}, "not a possible dose"),  # 12 g elemental
    ],
)
def test_impossible_dose_is_refused_with_one_clear_line(product, message):
    with pytest.raises(ValidationError, match=message) as info:
        check(**product)
    assert "\n" not in str(info.value)


def test_24_grams_a_day_is_refused_not_needs_clinician():
    with pytest.raises(SafetyInputError, match="not a possible dose"):
        check(elemental_mg_per_unit="12 g", units_per_day=2)


def test_the_refusal_limit_is_10_grams_a_day():
    assert check(elemental_mg_per_unit="10 g").verdict is Level.NEEDS_CLINICIAN  # over the UL, but possible
    with pytest.raises(SafetyInputError):
        check(elemental_mg_per_unit=10_001)


@pytest.mark.parametrize("route", ["transdermal-cream", "bath", "foot-soak"])
def test_skin_products_are_not_limited(route):
    report = check(salt="sulfate", hydrate="heptahydrate", salt_mg_per_unit="500 g", route=route)
    assert report.total_oral_mg == 0


# --- questioned: implausible values ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("product", "hint"),
    [
        ({"elemental_mg_per_unit": 0.4}, "did you mean 0.4 g, that is 400 mg?"),
        ({"elemental_mg_per_unit": "0.4 mg", "units_per_day": 2}, "did you mean 0.4 g, that is 400 mg?"),
        ({"salt": "oxide", "salt_mg_per_unit": 0.5}, "did you mean 0.5 g, that is 500 mg?"),
        ({"elemental_mg_per_unit": 5}, "did you mean 5 g, that is 5000 mg?"),
    ],
)
def test_implausibly_small_dose_is_questioned_for_a_clinician(product, hint):
    report = check(**product)
    finding = next(f for f in report.findings if f.rule_id == "dose-implausibly-low")
    assert finding.level is Level.NEEDS_CLINICIAN and report.verdict is Level.NEEDS_CLINICIAN
    assert hint in finding.message


@pytest.mark.parametrize("elemental", [10, 50, 100, 350])
def test_ordinary_doses_are_not_questioned(elemental):
    report = check(elemental_mg_per_unit=elemental)
    assert "dose-implausibly-low" not in {f.rule_id for f in report.findings}


def test_skin_product_without_oral_dose_is_not_questioned():
    report = check(salt="chloride", hydrate="hexahydrate", salt_mg_per_unit=0.5, route="transdermal-oil")
    assert "dose-implausibly-low" not in {f.rule_id for f in report.findings}


# --- routes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "route"),
    [
        ("oral", Route.ORAL),
        ("Oral", Route.ORAL),
        ("ORAL", Route.ORAL),
        (" oral ", Route.ORAL),
        ("by mouth", Route.ORAL),
        ("Transdermal-Cream", Route.CREAM),
        ("transdermal cream", Route.CREAM),
        ("TRANSDERMAL_OIL", Route.OIL),
        ("cream", Route.CREAM),
        ("Foot soak", Route.FOOT_SOAK),
        ("Bath", Route.BATH),
    ],
)
def test_route_names_are_case_and_spacing_insensitive(typed, route):
    product = product_from_dict({"name": "x", "salt": "chloride", "elemental_mg_per_unit": 100, "route": typed})
    assert product.route is route


@pytest.mark.parametrize("typed", ["iv", "IV", "intravenous", "Intravenous", "I.V.", "infusion", "IM", "injection"])
def test_intravenous_route_explains_it_is_a_clinic_co_intervention(typed):
    with pytest.raises(SafetyInputError) as info:
        product_from_dict({"name": "x", "salt": "sulfate", "elemental_mg_per_unit": 100, "route": typed})
    message = str(info.value)
    assert "given in clinic" in message and "co-intervention" in message and "not planned here" in message


def test_unknown_route_lists_the_routes():
    with pytest.raises(SafetyInputError, match="must be one of oral, transdermal-cream"):
        product_from_dict({"name": "x", "salt": "oxide", "elemental_mg_per_unit": 100, "route": "nasal"})


def test_protocol_file_route_is_case_insensitive_too():
    from magtrial.core.protocol import Protocol

    protocol = Protocol.from_dict(
        {
            "condition": "crps-1",
            "product": {"name": "Mg", "salt": "oxide", "elemental_mg_per_unit": 100, "route": "Oral"},
        }
    )
    assert protocol.product.route is Route.ORAL


# --- salts named with their form -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("salt", "key", "form"),
    [
        ("chloride hexahydrate", "chloride", "hexahydrate"),
        ("Magnesium chloride hexahydrate", "chloride", "hexahydrate"),
        ("sulfate heptahydrate", "sulfate", "heptahydrate"),
        ("Epsom salt heptahydrate", "sulfate", "heptahydrate"),
        ("citrate nonahydrate", "citrate", "nonahydrate"),
    ],
)
def test_salt_named_with_its_form_points_to_hydrate(salt, key, form):
    with pytest.raises(SafetyInputError) as info:
        check(salt=salt, salt_mg_per_unit=500)
    message = str(info.value)
    assert f"give salt {key!r} and hydrate {form!r}" in message and f"--hydrate {form}" in message


def test_unknown_salt_still_lists_the_known_salts():
    with pytest.raises(SafetyInputError, match="unknown magnesium salt 'picolinate'; known salts: oxide"):
        check(salt="picolinate", salt_mg_per_unit=500)
