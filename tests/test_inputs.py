"""One validated input model: trial files, flags, the safety profile and diary values refuse bad input
in one line naming the field, through every entry point (issue 10)."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import math
import pathlib
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from magtrial.core.analysis import Outcome, analyze
from magtrial.core.diary import DiaryValues
from magtrial.core.protocol import (
    OUTCOMES,
    Blinding,
    Comparator,
    Condition,
    Design,
    Product,
    Protocol,
    Route,
    participant_pseudonym,
)
from magtrial.core.safety import Medication, Person, SafetyProfile, product_from_dict
from magtrial.errors import DiaryError, ProtocolError, SafetyInputError, ValidationError
from tests.record_factory import make_record

EXAMPLES = pathlib.Path(__file__).parent.parent / "examples"
SAFETY_KEYS = ("person", "medication", "jurisdiction")  # what `trial create --file` hands the safety check
MEGABYTE = "x" * 1_000_000

PROTOCOL = {
    "condition": "crps-1",
    "product": {"name": "Mg citrate", "salt": "citrate", "elemental_mg_per_unit": 100, "units_per_day": 2},
    "start_date": "2026-03-02",
    "notes": "",
}
PROFILE = {
    "person": {"age": 61, "sex": "male", "egfr": 72},
    "medication": [{"name": "gabapentin", "times": ["08:00", "20:00"]}],
    "jurisdiction": "US",
}
DIARY = {
    "average_pain": 5,
    "worst_pain": 7,
    "sleep_interference": 3,
    "dose_taken": "full",
    "side_effects": ["nausea"],
    "note": "a fair day",
}


def changed(base: dict, path: str, value: object) -> dict:
    """``base`` with the key at a dotted path (``product.units_per_day``, ``medication.0.name``) set."""
    data = copy.deepcopy(base)
    *parents, last = path.split(".")
    target = data
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    target[int(last) if last.isdigit() else last] = value
    return data


def assert_one_line_naming(exc: pytest.ExceptionInfo, *parts: str) -> None:
    message = str(exc.value)
    assert "\n" not in message, message
    assert len(message) < 600, message  # a 1 MB value is never echoed back
    assert "Input should be" not in message and "errors.pydantic.dev" not in message  # not pydantic's dump
    for part in parts:
        assert part in message, message


# --- the trial protocol ------------------------------------------------------------------------------

PROTOCOL_CASES = [
    # (field path set, bad value, text the one-line message must contain)
    ("product.units_per_day", math.nan, "product.units_per_day must be a finite number, got nan"),
    ("product.units_per_day", math.inf, "product.units_per_day must be a finite number, got inf"),
    ("product.elemental_mg_per_unit", -math.inf, "product.elemental_mg_per_unit must be a finite number"),
    ("product.salt_mg_per_unit", math.nan, "product.salt_mg_per_unit must be a finite number"),
    ("product.units_per_day", "2", "product.units_per_day must be a number, got '2' (a string)"),
    ("product.units_per_day", True, "product.units_per_day must be a number, got True (true/false)"),
    ("product.doses_per_day", 2.0, "product.doses_per_day must be a whole number, got 2.0 (a number)"),
    ("product.elemental_mg_per_unit", "lots", "product.elemental_mg_per_unit must be a number with an optional unit"),
    ("product.elemental_mg_per_unit", "100 lbs", "unknown unit 'lbs' for product.elemental_mg_per_unit"),
    ("product.salt_mg_per_unit", "4 mmol", "unknown unit 'mmol' for product.salt_mg_per_unit; use mg or g"),
    ("product.route", "nasal", "product.route must be one of oral, transdermal-cream"),
    ("product.name", 123, "product.name must be text, got 123 (a whole number)"),
    ("product.name", MEGABYTE, "product.name is too long (1,000,000 characters; at most 200)"),
    ("product.salt", "s" * 201, "product.salt is too long (201 characters; at most 200)"),
    ("product.hydrate", "h" * 101, "product.hydrate is too long (101 characters; at most 100)"),
    ("product.colour", "red", "unknown key product.colour; allowed keys: name, salt, route, units_per_day"),
    ("product", "Mg citrate", "product must be a table of keys, got 'Mg citrate' (a string)"),
    ("start_date", 20260101, "start_date must be a date, got 20260101 (a whole number); use YYYY-MM-DD"),
    ("start_date", "next Monday", "start_date must be a date, got 'next Monday' (a string); use YYYY-MM-DD"),
    ("start_date", dt.datetime(2026, 1, 1, 8), "start_date must be a date"),
    ("cycles", True, "cycles must be a whole number, got True (true/false)"),
    ("cycles", 3.5, "cycles must be a whole number, got 3.5 (a number)"),
    ("cycles", "4", "cycles must be a whole number, got '4' (a string)"),
    ("period_days", math.nan, "period_days must be a whole number"),
    ("late_after_hours", None, "late_after_hours must be a whole number, got None (nothing)"),
    ("colour", "red", "unknown key colour; allowed keys: condition, product, comparator"),
    ("primary_outcome", "pain_relief", "primary_outcome must be one of average_pain, worst_pain or sleep_interference"),
    ("primary_outcome", 1, "primary_outcome must be one of"),
    ("condition", "migraine", "condition must be one of crps-1, painful-diabetic-neuropathy"),
    ("design", "crossover", "design must be one of paired or counterbalanced; got 'crossover'"),
    ("notes", MEGABYTE, "notes is too long (1,000,000 characters; at most 2,000)"),
    ("notes", 5, "notes must be text, got 5 (a whole number)"),
    ("timezone", "T" * 101, "timezone is too long"),
]


@pytest.mark.parametrize(
    ("path", "value", "message"), PROTOCOL_CASES, ids=[c[0] + "=" + repr(c[1])[:20] for c in PROTOCOL_CASES]
)
def test_bad_protocol_input_gives_one_line_naming_the_field(path, value, message):
    with pytest.raises(ProtocolError) as exc:
        Protocol.from_dict(changed(PROTOCOL, path, value))
    assert_one_line_naming(exc, message)


@pytest.mark.parametrize(
    ("remove", "message"),
    [
        ("condition", "condition is missing; give one of crps-1"),
        ("product", r"product is missing; a protocol needs a [product] table with at least name and salt"),
    ],
)
def test_missing_protocol_keys_say_what_to_give(remove, message):
    data = {k: v for k, v in PROTOCOL.items() if k != remove}
    with pytest.raises(ProtocolError) as exc:
        Protocol.from_dict(data)
    assert_one_line_naming(exc, message)


def test_several_problems_are_listed_on_one_line():
    data = changed(changed(PROTOCOL, "cycles", True), "product.units_per_day", "2")
    with pytest.raises(ProtocolError) as exc:
        Protocol.from_dict(data)
    assert_one_line_naming(exc, "product.units_per_day must be a number", "; cycles must be a whole number")


def test_domain_rules_keep_their_messages():
    with pytest.raises(ProtocolError, match="period length must be 3-84 days, got 2"):
        Protocol.from_dict({**PROTOCOL, "period_days": 2})
    with pytest.raises(ProtocolError, match="unknown time zone 'Mars/Olympus'"):
        Protocol.from_dict({**PROTOCOL, "timezone": "Mars/Olympus"})
    with pytest.raises(ProtocolError, match="units per day must be positive"):
        Protocol.from_dict(changed(PROTOCOL, "product.units_per_day", 0))


def test_constructors_validate_the_same_way():
    with pytest.raises(ProtocolError) as exc:
        Product(name="Mg", salt="oxide", units_per_day="2", elemental_mg_per_unit=100)  # type: ignore[arg-type]
    assert_one_line_naming(exc, "units_per_day must be a number, got '2' (a string)")
    product = Product(name="Mg", salt="oxide", elemental_mg_per_unit=100)
    with pytest.raises(ProtocolError) as exc:
        Protocol(condition=Condition.CRPS1, product=product, cycles=True)
    assert_one_line_naming(exc, "cycles must be a whole number")
    with pytest.raises(ProtocolError) as exc:
        Protocol(condition=Condition.CRPS1, product=product).with_changes(notes=MEGABYTE)
    assert_one_line_naming(exc, "notes is too long")


def test_protocol_outcomes_are_the_analysis_outcomes():
    assert set(OUTCOMES) == {o.value for o in Outcome}


@pytest.mark.parametrize("outcome", ["worst_pain", "sleep_interference"])
def test_analysis_uses_the_protocols_primary_outcome_by_default(outcome):
    record = make_record(blinded=False, seed=3)
    record = dataclasses.replace(record, protocol=record.protocol.with_changes(primary_outcome=outcome))
    assert analyze(record).outcome is Outcome(outcome)
    assert analyze(record, "average_pain").outcome is Outcome.AVERAGE_PAIN


# --- one parser per fact: masses with units --------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "mg"),
    [
        ("elemental_mg_per_unit", "100 mg", 100),
        ("elemental_mg_per_unit", "0.1 g", 100),
        ("elemental_mg_per_unit", "4 mmol", 97.22),
        ("salt_mg_per_unit", "0.4 g", 400),
        ("salt_mg_per_unit", 400, 400),
    ],
)
def test_a_mass_with_a_unit_means_the_same_in_the_protocol_and_the_safety_check(key, value, mg):
    product = {"name": "Mg", "salt": "oxide", key: value}
    from_protocol = Protocol.from_dict({**PROTOCOL, "product": product}).product
    from_safety = product_from_dict(product)
    assert from_protocol == from_safety
    assert getattr(from_protocol, key) == pytest.approx(mg, abs=0.01)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("units_per_day", "2", "units_per_day must be a number, got '2' (a string)"),
        ("elemental_mg_per_unit", "100 lbs", "unknown unit 'lbs'"),
        ("elemental_mg_per_unit", math.nan, "elemental_mg_per_unit must be a finite number"),
        ("colour", "red", "unknown key"),
    ],
)
def test_the_protocol_and_the_safety_check_refuse_the_same_product(key, value, message):
    product = {"name": "Mg", "salt": "oxide", "elemental_mg_per_unit": 100, key: value}
    with pytest.raises(ProtocolError) as in_protocol:
        Protocol.from_dict({**PROTOCOL, "product": product})
    with pytest.raises(SafetyInputError) as in_safety:
        product_from_dict(product, "product 2")
    assert_one_line_naming(in_protocol, message, f"product.{key}")
    assert_one_line_naming(in_safety, message, f"product[2].{key}")


# --- a trial TOML file, split as `magtrial trial create --file` splits it ----------------------------

EXAMPLE = (EXAMPLES / "trial.toml").read_text(encoding="utf-8")


def split_trial_file(text: str) -> tuple[dict, dict]:
    data = tomllib.loads(text)
    data.pop("participant", None)
    return data, {key: data.pop(key) for key in SAFETY_KEYS if key in data}


TOML_CASES = [
    # (edit to examples/trial.toml: old text -> new text, error type, text the message must contain)
    ("units_per_day = 2", 'units_per_day = "2"', ProtocolError, "product.units_per_day must be a number, got '2'"),
    ("units_per_day = 2", "units_per_day = nan", ProtocolError, "product.units_per_day must be a finite number"),
    ("units_per_day = 2", "units_per_day = inf", ProtocolError, "product.units_per_day must be a finite number"),
    (
        "elemental_mg_per_unit = 100",
        'elemental_mg_per_unit = "100 lbs"',
        ProtocolError,
        "unknown unit 'lbs' for product.elemental_mg_per_unit",
    ),
    ("cycles = 4", "cycles = true", ProtocolError, "cycles must be a whole number, got True"),
    ("cycles = 4", "cycles = 4.0", ProtocolError, "cycles must be a whole number, got 4.0"),
    (
        "run_in_days = 7",
        "run_in_days = 7\nstart_date = 20260101",
        ProtocolError,
        "start_date must be a date, got 20260101 (a whole number); use YYYY-MM-DD",
    ),
    (
        "run_in_days = 7",
        "run_in_days = 7\nstart_date = 2026-01-01T08:00:00",
        ProtocolError,
        "start_date must be a date",
    ),
    (
        "run_in_days = 7",
        'run_in_days = 7\nprimary_outcome = "pain_relief"',
        ProtocolError,
        "primary_outcome must be one of average_pain, worst_pain or sleep_interference; got 'pain_relief'",
    ),
    ("run_in_days = 7", 'run_in_days = 7\ncolour = "red"', ProtocolError, "unknown key colour; allowed keys:"),
    ("run_in_days = 7", f'run_in_days = 7\nnotes = "{MEGABYTE}"', ProtocolError, "notes is too long"),
    ('name = "Magnesium citrate 100 mg"', f'name = "{MEGABYTE}"', ProtocolError, "product.name is too long"),
    ("doses_per_day = 2", "doses_per_day = 2\nstrength = 3", ProtocolError, "unknown key product.strength"),
    ("age = 61", "age = nan", SafetyInputError, "person.age must be a finite number"),
    ("age = 61", 'age = "61"', SafetyInputError, "person.age must be a number, got '61' (a string)"),
    ("egfr = 72", "egfr = inf", SafetyInputError, "person.egfr must be a finite number"),
    (
        "egfr = 72",
        "egfr = 72\nweight = 80",
        SafetyInputError,
        "unknown key person.weight; allowed keys: age, sex, pregnant, lactating, egfr, dialysis, conditions",
    ),
    (
        "egfr = 72",
        f'egfr = 72\nconditions = ["{MEGABYTE}"]',
        SafetyInputError,
        "person.conditions[1] is too long (1,000,000 characters; at most 200)",
    ),
    ('sex = "male"', 'sex = "male"\npregnant = "no"', SafetyInputError, "person.pregnant must be true or false"),
    ('name = "gabapentin"', f'name = "{MEGABYTE}"', SafetyInputError, "medication[1].name is too long"),
    (
        'times = ["08:00", "20:00"]',
        'times = ["08:00", "25:00"]',
        SafetyInputError,
        "medication[1].times[2] must be a 24-hour time HH:MM",
    ),
    (
        'times = ["08:00", "20:00"]',
        'times = ["08:00"]\ndose = "300 mg"',
        SafetyInputError,
        "unknown key medication[1].dose; allowed keys: name, times",
    ),
    ('jurisdiction = "US"', 'jurisdiction = "UK"', SafetyInputError, "jurisdiction must be one of US or EU"),
]


@pytest.mark.parametrize(("old", "new", "error", "message"), TOML_CASES, ids=[c[1][:30] for c in TOML_CASES])
def test_bad_trial_file_gives_one_line_naming_the_field(old, new, error, message):
    assert old in EXAMPLE
    protocol_data, safety_data = split_trial_file(EXAMPLE.replace(old, new, 1))
    with pytest.raises(ValidationError) as exc:
        Protocol.from_dict(protocol_data)
        SafetyProfile.from_dict(safety_data)
    assert exc.type is error
    assert_one_line_naming(exc, message)


def test_the_example_trial_file_is_valid():
    protocol_data, safety_data = split_trial_file(EXAMPLE)
    protocol, profile = Protocol.from_dict(protocol_data), SafetyProfile.from_dict(safety_data)
    assert protocol.product.units_per_day == 2 and profile.person.age == 61


def test_a_label_mass_in_a_trial_file_no_longer_crashes_trial_creation():
    protocol_data, _ = split_trial_file(
        EXAMPLE.replace("elemental_mg_per_unit = 100", 'elemental_mg_per_unit = "100 mg"')
    )
    assert Protocol.from_dict(protocol_data).product.elemental_mg_per_unit == 100


# --- the safety profile ------------------------------------------------------------------------------

PROFILE_CASES = [
    ("person.age", math.nan, SafetyInputError, "person.age must be a finite number, got nan"),
    ("person.age", "61", SafetyInputError, "person.age must be a number, got '61' (a string)"),
    ("person.age", True, SafetyInputError, "person.age must be a number, got True (true/false)"),
    ("person.egfr", -math.inf, SafetyInputError, "person.egfr must be a finite number"),
    ("person.egfr", "72 mL/min", SafetyInputError, "person.egfr must be a number"),
    ("person.dialysis", 1, SafetyInputError, "person.dialysis must be true or false, got 1 (a whole number)"),
    ("person.sex", "robot", SafetyInputError, "person.sex must be one of female, male or unspecified; got 'robot'"),
    ("person.conditions", [MEGABYTE], SafetyInputError, "person.conditions[1] is too long"),
    ("person.conditions", ["x"] * 51, SafetyInputError, "person.conditions has too many items (51; at most 50)"),
    ("person.height", 180, SafetyInputError, "unknown key person.height; allowed keys: age, sex"),
    ("person", "61 years", SafetyInputError, "person must be a table of keys, got '61 years' (a string)"),
    ("medication.0.name", MEGABYTE, SafetyInputError, "medication[1].name is too long (1,000,000 characters"),
    ("medication.0.name", 7, SafetyInputError, "medication[1].name must be text, got 7 (a whole number)"),
    ("medication.0.times", ["8am"], SafetyInputError, "medication[1].times[1] must be a 24-hour time HH:MM"),
    ("medication.0.times", 800, SafetyInputError, "medication[1].times must be a list, got 800 (a whole number)"),
    ("medication.0.dose", 300, SafetyInputError, "unknown key medication[1].dose; allowed keys: name, times"),
    ("medications", [], SafetyInputError, "unknown key medications; allowed keys: person, medication, jurisdiction"),
    ("jurisdiction", "UK", SafetyInputError, "jurisdiction must be one of US or EU; got 'UK'"),
    ("jurisdiction", 1, SafetyInputError, "jurisdiction must be one of US or EU; got 1"),
]


@pytest.mark.parametrize(
    ("path", "value", "error", "message"), PROFILE_CASES, ids=[c[0] + "=" + repr(c[1])[:20] for c in PROFILE_CASES]
)
def test_bad_safety_profile_gives_one_line_naming_the_field(path, value, error, message):
    with pytest.raises(error) as exc:
        SafetyProfile.from_dict(changed(PROFILE, path, value))
    assert_one_line_naming(exc, message)


def test_safety_profile_domain_rules_keep_their_messages():
    with pytest.raises(SafetyInputError, match="eGFR must be 0-200"):
        SafetyProfile.from_dict(changed(PROFILE, "person.egfr", 900))
    with pytest.raises(SafetyInputError, match="pregnant or lactating was set for sex = male"):
        SafetyProfile.from_dict(changed(PROFILE, "person.pregnant", True))
    with pytest.raises(SafetyInputError, match="person.age is missing; the person's age in years is needed"):
        SafetyProfile.from_dict({"person": {"sex": "female"}})


def test_safety_constructors_validate_the_same_way():
    with pytest.raises(SafetyInputError) as exc:
        Person(age=math.nan)
    assert_one_line_naming(exc, "age must be a finite number")
    with pytest.raises(SafetyInputError) as exc:
        Medication(name="x" * 201)
    assert_one_line_naming(exc, "name is too long")


def test_a_single_medication_table_and_a_single_time_are_read_as_lists():
    profile = SafetyProfile.from_dict(
        {
            "person": {"age": 40, "sex": "Female"},
            "jurisdiction": "eu",
            "medication": {"name": "levothyroxine", "times": "07:00"},
        }
    )
    assert profile.medications == (Medication("levothyroxine", (dt.time(7),)),)
    assert profile.jurisdiction.value == "EU" and profile.person.sex.value == "female"


# --- diary values ------------------------------------------------------------------------------------

DIARY_CASES = [
    ("average_pain", math.nan, "average_pain must be a whole number, got nan (a number)"),
    ("average_pain", "5", "average_pain must be a whole number, got '5' (a string)"),
    ("worst_pain", 7.5, "worst_pain must be a whole number, got 7.5 (a number)"),
    ("sleep_interference", True, "sleep_interference must be a whole number, got True (true/false)"),
    ("dose_taken", "double", "dose_taken must be one of full, partial or none; got 'double'"),
    ("side_effects", "nausea", "side_effects must be a list, got 'nausea' (a string)"),
    ("side_effects", [MEGABYTE], "side_effects[1] is too long"),
    ("note", MEGABYTE, "note is too long (1,000,000 characters; at most 2,000)"),
    ("rescue_medication", 500, "rescue_medication must be text, got 500 (a whole number)"),
    ("side_effect_other", "o" * 2001, "side_effect_other is too long (2,001 characters; at most 2,000)"),
    ("mood", 3, "unknown key mood; allowed keys: average_pain, worst_pain, sleep_interference, dose_taken"),
]


@pytest.mark.parametrize(
    ("path", "value", "message"), DIARY_CASES, ids=[c[0] + "=" + repr(c[1])[:20] for c in DIARY_CASES]
)
def test_bad_diary_values_give_one_line_naming_the_field(path, value, message):
    with pytest.raises(DiaryError) as exc:
        DiaryValues.from_dict(changed(DIARY, path, value))
    assert_one_line_naming(exc, message)


def test_diary_rules_keep_their_messages():
    with pytest.raises(DiaryError, match=r"worst pain \(4\) cannot be lower than average pain \(5\)"):
        DiaryValues.from_dict({**DIARY, "worst_pain": 4})
    with pytest.raises(DiaryError, match="average pain must be 0-10, got 11"):
        DiaryValues.from_dict({**DIARY, "average_pain": 11, "worst_pain": 11})
    with pytest.raises(DiaryError, match="unknown side effect"):
        DiaryValues.from_dict({**DIARY, "side_effects": ["hiccups"]})


def test_diary_values_round_trip_through_plain_keys():
    values = DiaryValues.from_dict(DIARY)
    assert DiaryValues.from_dict(json.loads(json.dumps(values.as_dict()))) == values


# --- the participant's pseudonym ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "participant is empty"),
        ("   ", "participant is empty"),
        (17, "participant must be a pseudonym"),
        ("P" * 101, "participant is too long (101 characters; at most 100)"),
        (MEGABYTE, "participant is too long (1,000,000 characters; at most 100)"),
        ("P-1\nP-2", "participant must be printable characters on one line"),
    ],
)
def test_bad_pseudonyms_are_refused(value, message):
    with pytest.raises(ProtocolError) as exc:
        participant_pseudonym(value)
    assert_one_line_naming(exc, message)


def test_a_pseudonym_is_stripped():
    assert participant_pseudonym("  P-017 ") == "P-017" and participant_pseudonym("P" * 100) == "P" * 100


# --- round trips -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_example_files_round_trip(path):
    protocol_data, safety_data = split_trial_file(path.read_text(encoding="utf-8"))
    protocol = Protocol.from_dict(protocol_data)
    assert Protocol.from_dict(protocol.to_dict()) == protocol
    assert Protocol.from_dict(json.loads(json.dumps(protocol.to_dict()))) == protocol  # as the store keeps it
    if safety_data:
        profile = SafetyProfile.from_dict(safety_data)
        assert SafetyProfile.from_dict(json.loads(json.dumps(profile.to_dict()))) == profile


finite = st.floats(min_value=0.01, max_value=5000, allow_nan=False, allow_infinity=False)
printable = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


@st.composite
def protocols(draw: st.DrawFn) -> Protocol:
    route = draw(st.sampled_from(Route))
    oral = route is Route.ORAL
    product = Product(
        name=draw(printable.filter(str.strip)),
        salt=draw(st.sampled_from(["citrate", "oxide", "chloride"])),
        route=route,
        units_per_day=draw(st.one_of(finite, st.integers(1, 12))),
        elemental_mg_per_unit=draw(finite if oral else st.one_of(st.none(), finite)),
        salt_mg_per_unit=draw(st.one_of(st.none(), finite)),
        hydrate=draw(st.one_of(st.none(), st.sampled_from(["anhydrous", "hexahydrate", "unknown"]))),
        doses_per_day=draw(st.integers(1, 6)),
    )
    comparator = Comparator.PLACEBO if route.blindable else Comparator.NONE
    if route.transdermal and route.blindable and draw(st.booleans()):
        comparator = Comparator.VEHICLE
    blinding = Blinding.BLINDED if route.blindable and comparator is not Comparator.NONE else Blinding.OPEN
    design = draw(st.sampled_from(Design))
    cycles = draw(st.integers(1, 6).map(lambda c: 2 * c) if design is Design.COUNTERBALANCED else st.integers(1, 12))
    period = draw(st.integers(3, 84))
    return Protocol(
        condition=draw(st.sampled_from(Condition)),
        product=product,
        comparator=comparator,
        blinding=blinding,
        design=design,
        run_in_days=draw(st.integers(0, 56)),
        period_days=period,
        washout_days=draw(st.integers(0, period - 1)),
        cycles=cycles,
        carryover_days=draw(st.integers(0, period - 2)),
        late_after_hours=draw(st.integers(1, 336)),
        start_date=draw(st.one_of(st.none(), st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)))),
        timezone=draw(st.sampled_from(["UTC", "Europe/London", "Pacific/Auckland", "America/New_York"])),
        primary_outcome=draw(st.sampled_from(OUTCOMES)),
        notes=draw(printable),
    )


@settings(max_examples=150, deadline=None)
@given(protocols())
def test_any_valid_protocol_round_trips_through_json(protocol):
    assert Protocol.from_dict(json.loads(json.dumps(protocol.to_dict()))) == protocol
