"""The safety tables: every row sourced, every salt the issue names present, and the elemental
fractions re-derived here from chemical formulae (an outside reference, not the table itself)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from magtrial.core.safety import Jurisdiction, Person
from magtrial.data.safety import load_safety_rules

RULES = load_safety_rules()

# IUPAC conventional atomic weights, as stated in the research file (D2 "Method").
ATOMIC = {"Mg": 24.305, "O": 15.999, "H": 1.008, "C": 12.011, "N": 14.007, "S": 32.06, "Cl": 35.45, "P": 30.974}


def molar_mass(formula: str) -> float:
    """Mass of a formula like 'Mg3(C6H5O7)2.9H2O' (one level of brackets, '.nX' hydrate water)."""
    total = 0.0
    for part in formula.split("."):
        count_match = re.match(r"^(\d+)(.*)$", part)
        factor, body = (int(count_match.group(1)), count_match.group(2)) if count_match else (1, part)
        body = re.sub(r"\(([^)]*)\)(\d*)", lambda m: m.group(1) * int(m.group(2) or 1), body)
        total += factor * sum(ATOMIC[el] * int(n or 1) for el, n in re.findall(r"([A-Z][a-z]?)(\d*)", body))
    return total


def magnesium_atoms(formula: str) -> int:
    body = formula.split(".")[0]
    body = re.sub(r"\(([^)]*)\)(\d*)", lambda m: m.group(1) * int(m.group(2) or 1), body)
    return sum(int(n or 1) for el, n in re.findall(r"([A-Z][a-z]?)(\d*)", body) if el == "Mg")


def test_every_rule_row_has_a_source():
    rows = list(RULES.rows())
    assert len(rows) > 80
    unsourced = [rule_id for rule_id, source in rows if not source.strip()]
    assert unsourced == []


def test_rule_ids_are_unique():
    ids = [rule_id for rule_id, _ in RULES.rows()]
    assert len(ids) == len(set(ids))


SALT_FORMS = [
    ("oxide", "anhydrous"),
    ("hydroxide", "anhydrous"),
    ("carbonate", "anhydrous"),
    ("citrate", "anhydrous"),
    ("citrate", "nonahydrate"),
    ("citrate", "hydrogen-citrate"),
    ("glycinate", "anhydrous"),
    ("glycerophosphate", "anhydrous"),
    ("chloride", "anhydrous"),
    ("chloride", "hexahydrate"),
    ("sulfate", "anhydrous"),
    ("sulfate", "heptahydrate"),
    ("malate", "anhydrous"),
    ("malate", "trihydrate"),
    ("l-threonate", "anhydrous"),
    ("lactate", "anhydrous"),
    ("lactate", "dihydrate"),
    ("aspartate", "anhydrous"),
    ("aspartate", "dihydrate"),
    ("aspartate", "hydrochloride-trihydrate"),
    ("taurate", "anhydrous"),
    ("gluconate", "anhydrous"),
    ("gluconate", "dihydrate"),
]


@pytest.mark.parametrize(("salt", "form"), SALT_FORMS)
def test_salt_fraction_matches_its_formula(salt, form):
    row = RULES.salt(salt).form(form)
    assert row is not None
    expected = magnesium_atoms(row.formula) * ATOMIC["Mg"] / molar_mass(row.formula)
    assert row.fraction == pytest.approx(expected, abs=0.0006)  # the table rounds to 0.1 %


def test_every_salt_form_in_the_table_is_checked_against_a_formula():
    in_table = {(s.key, f.form) for s in RULES.salts for f in s.forms}
    assert in_table == set(SALT_FORMS)


@pytest.mark.parametrize(
    ("alias", "key"),
    [
        ("Magnesium oxide", "oxide"),
        ("Epsom salt", "sulfate"),
        ("bisglycinate", "glycinate"),
        ("Mg threonate", "l-threonate"),
        ("magnesium sulphate", "sulfate"),
    ],
)
def test_salt_aliases_resolve(alias, key):
    assert RULES.salt(alias).key == key


@pytest.mark.parametrize(
    ("age", "jurisdiction", "ul"),
    [
        (2, "US", 65),
        (6, "US", 110),
        (10, "US", 350),
        (16, "US", 350),
        (40, "US", 350),
        (40, "EU", 250),
        (6, "EU", 110),
        (0.5, "US", None),
        (0.5, "EU", None),
    ],
)
def test_upper_limit_by_age_and_jurisdiction(age, jurisdiction, ul):
    assert RULES.upper_limit(Person(age=age), Jurisdiction(jurisdiction)).mg == ul


def test_pregnancy_upper_limit_uses_the_life_stage_row():
    row = RULES.upper_limit(Person(age=17, sex="female", pregnant=True), Jurisdiction.US)
    assert (row.rule_id, row.mg) == ("ul-us-pregnancy", 350)


@pytest.mark.parametrize(
    ("person", "rda"),
    [
        (Person(age=16, sex="male"), 410),
        (Person(age=16, sex="female"), 360),
        (Person(age=25, sex="female"), 310),
        (Person(age=45, sex="male"), 420),
        (Person(age=6), 130),
        (Person(age=33, pregnant=True), 360),
        (Person(age=45), None),
    ],
)
def test_rda_is_looked_up_for_context(person, rda):
    found = RULES.rda(person)
    assert (found.mg if found else None) == rda


def test_core_safety_imports_no_file_format_cli_or_database_code():
    code = (
        "import sys, magtrial.core.safety; "
        "print(sorted(m for m in ('tomllib', 'json', 'typer', 'rich', 'sqlalchemy', 'click') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
