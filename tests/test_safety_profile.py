"""SafetyProfile.from_dict and the plain-key parsers: the same keys a trial TOML file embeds."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest

from magtrial.core.protocol import Route
from magtrial.core.safety import Jurisdiction, SafetyProfile, Sex, parse_mass_mg, parse_med_spec, product_from_dict
from magtrial.errors import SafetyInputError

PROFILE_TOML = """
jurisdiction = "EU"

[person]
age = 54
sex = "female"
egfr = 72
conditions = ["type 2 diabetes"]

[[medication]]
name = "gabapentin"
times = ["08:00", "20:00"]

[[medication]]
name = "levothyroxine"
times = [07:00:00]
"""


def test_profile_from_toml_keys():
    profile = SafetyProfile.from_dict(tomllib.loads(PROFILE_TOML))
    assert profile.jurisdiction is Jurisdiction.EU
    assert (profile.person.age, profile.person.sex, profile.person.egfr) == (54, Sex.FEMALE, 72)
    assert profile.person.conditions == ("type 2 diabetes",)
    assert [(m.name, m.times) for m in profile.medications] == [
        ("gabapentin", (dt.time(8), dt.time(20))),
        ("levothyroxine", (dt.time(7),)),
    ]


def test_profile_round_trips_through_plain_keys():
    profile = SafetyProfile.from_dict(tomllib.loads(PROFILE_TOML))
    assert SafetyProfile.from_dict(profile.to_dict()) == profile


def test_profile_defaults_to_us_and_no_medicines():
    profile = SafetyProfile.from_dict({"person": {"age": 30}})
    assert profile.jurisdiction is Jurisdiction.US and profile.medications == ()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, r"needs a \[person\] table"),
        ({"person": {"sex": "female"}}, "person.age is missing; the person's age in years"),
        ({"person": {"age": 30, "weight": 70}}, "unknown key person.weight; allowed keys: age, sex"),
        ({"person": {"age": 30}, "jurisdiction": "UK"}, "jurisdiction must be one of US or EU"),
        (
            {"person": {"age": 30}, "medications": []},
            "unknown key medications; allowed keys: person, medication, jurisdiction",
        ),
        (
            {"person": {"age": 30}, "medication": [{"name": "x", "times": ["25:00"]}]},
            r"medication\[1\].times\[1\] must be a 24-hour time HH:MM",
        ),
        (
            {"person": {"age": 30}, "medication": [{"times": ["08:00"]}]},
            r"medication\[1\].name is missing; each \[\[medication\]\] needs a name",
        ),
        (
            {"person": {"age": 30}, "medication": [{"name": "x", "dose": 3}]},
            r"unknown key medication\[1\].dose; allowed keys: name, times",
        ),
        ({"person": {"age": "thirty"}}, "person.age must be a number, got 'thirty' \\(a string\\)"),
        ({"person": {"age": 30, "egfr": 900}}, "eGFR must be 0-200"),
        ({"person": {"age": 30, "pregnant": "yes"}}, "person.pregnant must be true or false"),
    ],
)
def test_bad_profile_keys_name_the_problem(data, message):
    with pytest.raises(SafetyInputError, match=message):
        SafetyProfile.from_dict(data)


def test_medication_flag_syntax():
    med = parse_med_spec("gabapentin@20:00,08:00")
    assert med.name == "gabapentin" and med.times == (dt.time(8), dt.time(20))
    assert parse_med_spec("omeprazole").times == ()


@pytest.mark.parametrize(
    ("value", "elemental", "mg"),
    [
        (400, False, 400),
        ("400", False, 400),
        ("400 mg", False, 400),
        ("0.4 g", False, 400),
        ("4 mmol", True, 97.22),  # SmPC: 4 mmol = 97.2 mg Mg
    ],
)
def test_masses_accept_units(value, elemental, mg):
    assert parse_mass_mg(value, "dose", elemental=elemental) == pytest.approx(mg, abs=0.01)


@pytest.mark.parametrize(
    ("value", "elemental", "message"),
    [
        ("400 grains", False, "unknown unit 'grains'"),
        ("4 mmol", False, "unknown unit 'mmol'"),
        ("-100 mg", True, "must be more than 0"),
        (0, True, "must be more than 0"),
        ("lots", True, "must be a number"),
        (True, True, "must be a number"),
    ],
)
def test_bad_masses_are_refused(value, elemental, message):
    with pytest.raises(SafetyInputError, match=message):
        parse_mass_mg(value, "dose", elemental=elemental)


def test_product_from_dict_parses_route_and_units():
    product = product_from_dict(
        {
            "name": "Epsom soak",
            "salt": "sulfate",
            "route": "foot-soak",
            "salt_mg_per_unit": "500 g",
            "hydrate": "heptahydrate",
        }
    )
    assert product.route is Route.FOOT_SOAK and product.salt_mg_per_unit == 500_000


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "x", "salt": "oxide", "route": "nasal", "salt_mg_per_unit": 1}, "route must be one of"),
        ({"name": "x", "salt": "oxide"}, "needs its elemental mg"),
        (
            {"name": "x", "salt": "oxide", "salt_mg_per_unit": 400, "colour": "red"},
            "unknown key product.colour; allowed keys: name, salt, route",
        ),
        (
            {"name": "x", "salt": "oxide", "salt_mg_per_unit": 400, "doses_per_day": "two"},
            "product.doses_per_day must be a whole number",
        ),
        ({"name": "x", "salt": "oxide", "salt_mg_per_unit": 400, "units_per_day": -1}, "must be positive"),
    ],
)
def test_bad_product_keys_are_refused(data, message):
    with pytest.raises(SafetyInputError, match=message):
        product_from_dict(data)
