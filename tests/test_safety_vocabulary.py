"""Conditions as a coded vocabulary (issue 12): every way people write a blocking condition blocks,
anything not recognised needs a clinician, and the table's codes are well formed.

The expected levels come from the research file (D3: dialysis, GFR < 30, heart block or bradycardia,
myasthenia gravis block; eGFR 30-59 needs a clinician) and issue 12, not from running the code.
"""

from __future__ import annotations

import re

import pytest

from magtrial.core.protocol import Product, Route
from magtrial.core.safety import Level, Person, check_regimen
from magtrial.core.safety.conditions import ICD10, ICD10_CM, SNOMED, condition_key
from magtrial.data.safety import load_safety_rules

RULES = load_safety_rules()
OK, CAUTION, CLIN, BLOCKED = Level.OK, Level.CAUTION, Level.NEEDS_CLINICIAN, Level.BLOCKED
PRODUCT = Product("test", "citrate", Route.ORAL, 1, 100.0)


def verdict(*conditions: str, egfr: float | None = 80) -> Level:
    return check_regimen(Person(age=50, egfr=egfr, conditions=conditions), [PRODUCT], [], "US", rules=RULES).verdict


# The five texts issue 12 found giving only "caution" (so the trial could start) first.
CONDITION_CASES = [
    ("haemodialysis", None, BLOCKED, "renal-dialysis"),
    ("end-stage renal disease", None, BLOCKED, "renal-severe"),
    ("CKD stage 4", None, BLOCKED, "renal-severe"),
    ("ocular myasthenia gravis", 80, BLOCKED, "condition-myasthenia-gravis"),
    ("first-degree AV block", 80, BLOCKED, "condition-heart-block"),
    # spellings, case, punctuation, spacing, ordinals, Roman numerals, word order
    ("Hemodialysis", None, BLOCKED, "renal-dialysis"),
    ("HAEMO-DIALYSIS", None, BLOCKED, "renal-dialysis"),
    ("  peritoneal   dialysis ", None, BLOCKED, "renal-dialysis"),
    ("End Stage Renal Disease (ESRD)", None, BLOCKED, "renal-severe"),  # a name and its abbreviation
    ("type 2 diabetes (with kidney failure)", None, BLOCKED, "renal-severe"),  # the qualifier is not dropped
    ("ESRD", None, BLOCKED, "renal-severe"),
    ("CKD stage IV", None, BLOCKED, "renal-severe"),
    ("CKD4", None, BLOCKED, "renal-severe"),
    ("ckd g5", None, BLOCKED, "renal-severe"),
    ("chronic kidney disease, stage 5", None, BLOCKED, "renal-severe"),
    ("acute kidney injury", None, BLOCKED, "condition-acute-kidney-injury"),
    ("1st degree A-V block", 80, BLOCKED, "condition-heart-block"),
    ("First degree heart block", 80, BLOCKED, "condition-heart-block"),
    ("Mobitz type II", 80, BLOCKED, "condition-heart-block"),
    ("complete heart block", 80, BLOCKED, "condition-heart-block"),
    ("block, heart", 80, BLOCKED, "condition-heart-block"),
    ("sick sinus syndrome", 80, BLOCKED, "condition-heart-block"),
    ("Myasthenia Gravis", 80, BLOCKED, "condition-myasthenia-gravis"),
    ("generalized myasthenia gravis", 80, BLOCKED, "condition-myasthenia-gravis"),
    ("CKD stage 3b", None, CLIN, "renal-moderate"),
    ("CKD", None, CLIN, "condition-kidney-disease"),
    ("renal impairment", None, CLIN, "condition-kidney-disease"),
    ("hyperphosphatemia", 80, CLIN, "condition-hyperphosphataemia"),
    # codes typed instead of names (verified codes only)
    ("N18.4", None, BLOCKED, "renal-severe"),
    ("ICD-10 I44.0", 80, BLOCKED, "condition-heart-block"),
    ("G70.01", 80, BLOCKED, "condition-myasthenia-gravis"),  # ICD-10-CM child of G70.0
    ("SNOMED 302497006", None, BLOCKED, "renal-dialysis"),
    ("46177005", None, BLOCKED, "renal-severe"),
    # an unrecognised text that names a blocking condition still blocks
    ("suspected myasthenia gravis", 80, BLOCKED, "condition-myasthenia-gravis"),
    ("heart block, pacemaker fitted 2019", 80, BLOCKED, "condition-heart-block"),
    # the conditions magtrial studies are recognised and add nothing
    ("Type 2 diabetes", 80, OK, "condition-no-magnesium-rule"),
    ("type II diabetes mellitus", 80, OK, "condition-no-magnesium-rule"),
    ("CRPS type 1", 80, OK, "condition-no-magnesium-rule"),
    ("post-herpetic neuralgia", 80, OK, "condition-no-magnesium-rule"),
    ("sciatica", 80, OK, "condition-no-magnesium-rule"),
    # not recognised: a clinician must review, never silence
    ("asthma", 80, CLIN, "condition-unlisted"),
    ("gout", 80, CLIN, "condition-unlisted"),
    ("kidney stones", 80, CLIN, "condition-unlisted"),
    ("Lambert-Eaton syndrome", 80, CLIN, "condition-unlisted"),
]


@pytest.mark.parametrize(("text", "egfr", "level", "rule_id"), CONDITION_CASES)
def test_condition_as_typed_sets_the_verdict(text, egfr, level, rule_id):
    report = check_regimen(Person(age=50, egfr=egfr, conditions=(text,)), [PRODUCT], [], "US", rules=RULES)
    assert report.verdict is level, [f.rule_id for f in report.findings]
    assert rule_id in {f.rule_id for f in report.findings}


@pytest.mark.parametrize(
    "text",
    ["haemodialysis", "end-stage renal disease", "CKD stage 4", "ocular myasthenia gravis", "first-degree AV block"],
)
def test_issue_12_conditions_block_the_trial(text):
    report = check_regimen(Person(age=50, conditions=(text,)), [PRODUCT], [], "US", rules=RULES)
    assert not report.may_start


def test_unrecognised_condition_needs_a_clinician_and_says_so():
    report = check_regimen(Person(age=50, egfr=80, conditions=("asthma",)), [PRODUCT], [], "US", rules=RULES)
    finding = next(f for f in report.findings if f.rule_id == "condition-unlisted")
    assert finding.level is CLIN and "'asthma' is not recognised" in finding.message
    assert "clinician must review" in finding.message
    assert report.needs_acknowledgement


def test_every_unrecognised_condition_gets_its_own_finding():
    report = check_regimen(
        Person(age=50, egfr=80, conditions=("asthma", "gout", "type 2 diabetes")), [PRODUCT], [], "US", rules=RULES
    )
    unlisted = [f.message for f in report.findings if f.rule_id == "condition-unlisted"]
    assert len(unlisted) == 2 and any("asthma" in m for m in unlisted) and any("gout" in m for m in unlisted)


def test_recognised_condition_finding_names_the_concept_and_its_codes():
    report = check_regimen(Person(age=50, conditions=("CKD stage 4",)), [PRODUCT], [], "US", rules=RULES)
    finding = next(f for f in report.findings if f.rule_id == "renal-severe")
    assert "read as Chronic kidney disease stage 4" in finding.message
    assert "SNOMED CT 431857002" in finding.message and "ICD-10 N18.4" in finding.message
    assert report.conditions[0].concept.id == "ckd-stage-4"


def test_a_rule_reported_from_the_person_flags_is_not_repeated_for_a_condition():
    person = Person(age=50, dialysis=True, conditions=("haemodialysis",))
    report = check_regimen(person, [PRODUCT], [], "US", rules=RULES)
    assert [f.rule_id for f in report.findings].count("renal-dialysis") == 1


def test_two_conditions_with_one_rule_give_one_finding_naming_both():
    person = Person(age=50, egfr=80, conditions=("first-degree AV block", "bradycardia"))
    report = check_regimen(person, [PRODUCT], [], "US", rules=RULES)
    findings = [f for f in report.findings if f.rule_id == "condition-heart-block"]
    assert len(findings) == 1
    assert "first-degree AV block" in findings[0].message and "bradycardia" in findings[0].message


def test_diabetes_reminds_to_enter_the_egfr():
    report = check_regimen(Person(age=50, conditions=("type 2 diabetes",)), [PRODUCT], [], "US", rules=RULES)
    finding = next(f for f in report.findings if f.rule_id == "condition-no-magnesium-rule")
    assert "eGFR" in finding.message


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Haemodialysis", "hemodialysis"),
        ("hemo-dialysis", "hemodialysis"),
        ("CKD stage IV", "ckd stage 4"),
        ("1st degree AV block", "first degree av block"),
        ("A-V block", "av block"),
        ("Hyperphosphatæmia", "hyperphosphatemia"),
        ("Heart block (disorder)", "heart block"),
        ("type I diabetes", "type 1 diabetes"),
    ],
)
def test_spelling_variants_match_the_same_concept(a, b):
    assert RULES.conditions.match(a).concept is not None
    assert RULES.conditions.match(a).concept == RULES.conditions.match(b).concept


def test_roman_numerals_are_read_only_after_stage_type_or_grade():
    assert condition_key("A V block") == "a v block"  # the v of A-V is not 5
    assert condition_key("CKD stage V") == "ckd stage 5"


# --- the table itself -----------------------------------------------------------------------------------


def test_every_concept_names_a_known_rule_and_has_terms():
    known = {r.rule_id for r in RULES.person_rules}
    for c in RULES.conditions.concepts:
        assert c.rule_id in known, c.id
        assert c.terms and c.name


def test_codes_are_well_formed_for_their_system():
    patterns = {SNOMED: r"\d{6,18}", ICD10: r"[A-Z]\d{2}(\.\d{1,2})?", ICD10_CM: r"[A-Z]\d{2}(\.[0-9A-Z]{1,4})?"}
    for c in RULES.conditions.concepts:
        for code in c.codes:
            assert re.fullmatch(patterns[code.system], code.code), (c.id, code.code)
            assert code.display


def test_snomed_codes_have_a_valid_verhoeff_check_digit():
    """SNOMED CT identifiers end in a Verhoeff check digit: a mistyped code fails this."""
    d = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ]
    p = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ]

    def valid(number: str) -> bool:
        c = 0
        for i, digit in enumerate(reversed(number)):
            c = d[c][p[i % 8][int(digit)]]
        return c == 0

    codes = [(c.id, k.code) for c in RULES.conditions.concepts for k in c.codes if k.system == SNOMED]
    assert codes
    assert [x for x in codes if not valid(x[1])] == []


def test_unverified_codes_never_recognise_a_typed_code():
    unverified = [(c, k) for c in RULES.conditions.concepts for k in c.codes if not k.verified]
    assert unverified  # the table marks what it could not confirm
    for concept, code in unverified:
        match = RULES.conditions.match(code.code)
        assert (
            match.concept is None
            or match.via != "code"
            or match.concept != concept
            or any(k.verified and k.code == code.code for k in concept.codes)
        )


def test_no_term_belongs_to_two_concepts():
    seen: dict[str, str] = {}
    for c in RULES.conditions.concepts:
        for t in (c.name, *c.terms):
            key = condition_key(t).replace(" ", "")
            assert seen.setdefault(key, c.id) == c.id, (t, seen[key], c.id)


def test_every_blocking_condition_rule_is_reachable_from_a_concept():
    reachable = {c.rule_id for c in RULES.conditions.concepts}
    condition_rules = {r.rule_id for r in RULES.person_rules if r.kind == "condition"}
    assert condition_rules <= reachable
