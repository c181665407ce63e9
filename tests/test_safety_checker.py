"""The checker, table-driven: each case's expected verdict and rule come from issue 4 and the
research file (section D), not from running the implementation."""

from __future__ import annotations

import datetime as dt

import pytest

from magtrial.core.protocol import Product, Route
from magtrial.core.safety import Level, Medication, Person, check_protocol, check_regimen
from magtrial.core.safety.checker import medication_findings
from magtrial.data.safety import load_safety_rules
from magtrial.errors import SafetyInputError, ValidationError

RULES = load_safety_rules()
ADULT = Person(age=40, sex="female", egfr=90)
OK, CAUTION, CLIN, BLOCKED = Level.OK, Level.CAUTION, Level.NEEDS_CLINICIAN, Level.BLOCKED


def oral(elemental=None, salt_mg=None, salt="citrate", hydrate=None, units=1.0, doses=1):
    return Product("test product", salt, Route.ORAL, units, elemental, salt_mg, hydrate, doses)


def t(text):
    return dt.time.fromisoformat(text)


def ids(report):
    return {f.rule_id for f in report.findings}


# --- person rules: (person, rule id, level); levels from D3 and issue 4 -----------------------------

PERSON_CASES = [
    (Person(age=50, dialysis=True), "renal-dialysis", BLOCKED),
    (Person(age=50, egfr=25), "renal-severe", BLOCKED),
    (Person(age=50, egfr=29.9), "renal-severe", BLOCKED),
    (Person(age=50, egfr=30), "renal-moderate", CLIN),
    (Person(age=50, egfr=59), "renal-moderate", CLIN),
    (Person(age=50, egfr=None), "renal-egfr-unknown", OK),
    (Person(age=50, egfr=80, conditions=("Heart block",)), "condition-heart-block", BLOCKED),
    (Person(age=50, egfr=80, conditions=("bradycardia",)), "condition-heart-block", BLOCKED),
    (Person(age=50, egfr=80, conditions=("myasthenia gravis",)), "condition-myasthenia-gravis", BLOCKED),
    (Person(age=50, conditions=("CKD",)), "condition-kidney-disease", CLIN),
    (Person(age=50, egfr=80, conditions=("hyperphosphataemia",)), "condition-hyperphosphataemia", CLIN),
    (Person(age=30, sex="female", egfr=100, pregnant=True), "life-pregnancy", CLIN),
    (Person(age=30, sex="female", egfr=100, lactating=True), "life-lactation", CLIN),
    (Person(age=0.5, egfr=100), "age-infant", BLOCKED),
    (Person(age=6, egfr=100), "age-under-18", CLIN),
    (Person(age=17.9, egfr=100), "age-under-18", CLIN),
    (Person(age=50, egfr=80, conditions=("asthma",)), "condition-unlisted", CLIN),
    (Person(age=50, egfr=80, conditions=("type 2 diabetes",)), "condition-no-magnesium-rule", OK),
    (Person(age=50, egfr=80, conditions=("acute kidney injury",)), "condition-acute-kidney-injury", BLOCKED),
]


@pytest.mark.parametrize(("person", "rule_id", "level"), PERSON_CASES)
def test_person_rule_sets_the_verdict(person, rule_id, level):
    report = check_regimen(person, [oral(elemental=50)], [], "US", rules=RULES)
    finding = next(f for f in report.findings if f.rule_id == rule_id)
    assert finding.level is level
    assert report.verdict is level
    assert finding.source


def test_every_person_rule_has_a_case():
    covered = {rule_id for _, rule_id, _ in PERSON_CASES}
    assert {r.rule_id for r in RULES.person_rules} <= covered


def test_only_the_strictest_kidney_threshold_is_reported():
    report = check_regimen(Person(age=50, egfr=25), [oral(elemental=50)], [], "US", rules=RULES)
    assert "renal-severe" in ids(report) and "renal-moderate" not in ids(report)


@pytest.mark.parametrize("person", [Person(age=18, egfr=60), Person(age=70, sex="male", egfr=95)])
def test_a_well_adult_at_a_modest_dose_is_ok(person):
    report = check_regimen(person, [oral(elemental=100)], [], "US", rules=RULES)
    assert report.verdict is OK
    assert report.may_start and not report.needs_acknowledgement


# --- dose: elemental arithmetic and the upper limit -------------------------------------------------


def test_400_mg_magnesium_oxide_is_241_mg_elemental():
    report = check_regimen(ADULT, [oral(salt="oxide", salt_mg=400)], [], "US", rules=RULES)
    assert report.total_oral_mg == pytest.approx(241, abs=0.5)  # OTC label: 400 mg MgO = 241.3 mg Mg
    assert report.verdict is OK and "dose-within-ul" in ids(report)


def test_citrate_salt_mass_is_converted_but_elemental_mass_is_not():
    as_salt = check_regimen(ADULT, [oral(salt_mg=500, hydrate="anhydrous", units=2)], [], "US", rules=RULES)
    as_elemental = check_regimen(ADULT, [oral(elemental=200, units=2)], [], "US", rules=RULES)
    assert as_salt.total_oral_mg == pytest.approx(2 * 500 * 0.162, abs=0.5)  # 16.2 % (D2)
    assert as_salt.verdict is OK
    assert as_elemental.total_oral_mg == 400
    assert as_elemental.verdict is CLIN and "dose-over-ul" in ids(as_elemental)


@pytest.mark.parametrize(
    ("elemental", "jurisdiction", "rule_id", "level"),
    [
        (350, "US", "dose-within-ul", OK),
        (351, "US", "dose-over-ul", CLIN),
        (250, "EU", "dose-within-ul", OK),
        (300, "EU", "dose-over-ul", CLIN),
        (300, "US", "dose-within-ul", OK),
    ],
)
def test_adult_upper_limit_by_jurisdiction(elemental, jurisdiction, rule_id, level):
    report = check_regimen(ADULT, [oral(elemental=elemental)], [], jurisdiction, rules=RULES)
    assert rule_id in ids(report) and report.verdict is level


def test_six_year_old_at_150_mg_is_over_the_110_mg_limit():
    report = check_regimen(Person(age=6, egfr=100), [oral(elemental=150)], [], "US", rules=RULES)
    assert report.upper_limit_mg == 110
    assert {"dose-over-ul", "age-under-18"} <= ids(report)
    assert report.verdict is CLIN


def test_infant_supplement_is_blocked_as_no_limit_exists():
    report = check_regimen(Person(age=0.5, egfr=100), [oral(elemental=20)], [], "US", rules=RULES)
    assert report.upper_limit_mg is None
    assert "dose-no-ul" in ids(report) and report.verdict is BLOCKED


@pytest.mark.parametrize("route", [Route.CREAM, Route.OIL, Route.FOOT_SOAK, Route.BATH])
@pytest.mark.parametrize("elemental", [None, 50.0, 100_000.0])
def test_transdermal_product_at_any_dose_is_listed_but_not_counted(route, elemental):
    product = Product("skin product", "chloride", route, 10, elemental, None, "hexahydrate", 1)
    report = check_regimen(ADULT, [product], [], "US", rules=RULES)
    assert report.total_oral_mg == 0
    assert "dose-transdermal-not-counted" in ids(report)
    assert report.verdict is OK
    assert report.timetable is None


def test_skin_and_oral_products_together_count_only_the_oral_one():
    cream = Product("cream", "chloride", Route.CREAM, 4, 500.0)
    report = check_regimen(ADULT, [cream, oral(elemental=300)], [], "US", rules=RULES)
    assert report.total_oral_mg == 300 and report.verdict is OK


def test_unknown_hydrate_assumes_the_richest_form_and_says_so():
    report = check_regimen(ADULT, [oral(salt="chloride", salt_mg=1000, hydrate="unknown")], [], "US", rules=RULES)
    assert report.total_oral_mg == pytest.approx(255, abs=0.5)  # anhydrous 25.5 %, not hexahydrate 12 %
    assert "dose-hydrate-unknown" in ids(report) and report.verdict is CAUTION


def test_buffered_glycinate_note_is_shown_when_converting_salt_mass():
    report = check_regimen(ADULT, [oral(salt="glycinate", salt_mg=1000)], [], "US", rules=RULES)
    assert "dose-salt-note" in ids(report) and report.verdict is OK


def test_unknown_salt_is_an_error_listing_the_known_salts():
    with pytest.raises(SafetyInputError, match="unknown magnesium salt 'picolinate'.*oxide.*citrate"):
        check_regimen(ADULT, [oral(salt="picolinate", salt_mg=500)], [], "US", rules=RULES)


def test_salt_with_several_forms_needs_the_hydrate():
    with pytest.raises(SafetyInputError, match="several forms.*hexahydrate"):
        check_regimen(ADULT, [oral(salt="chloride", salt_mg=500)], [], "US", rules=RULES)


def test_misspelt_hydrate_is_an_error():
    with pytest.raises(SafetyInputError, match="no form 'hexahydrat'"):
        check_regimen(ADULT, [oral(salt="chloride", salt_mg=500, hydrate="hexahydrat")], [], "US", rules=RULES)


def test_elemental_larger_than_salt_mass_is_refused():
    with pytest.raises(SafetyInputError, match="swapped"):
        check_regimen(ADULT, [oral(salt="oxide", salt_mg=200, elemental=400)], [], "US", rules=RULES)


# --- medicines: (name as typed, rule id, level, drug-before-Mg min, drug-after-Mg min) --------------
# Spacing from D4, stricter value where sources differ; direction only where the source gives one.

INTERACTION_CASES = [
    ("gabapentin", "drug-gabapentin", CAUTION, 0, 120),
    ("Neurontin 300 mg", "drug-gabapentin", CAUTION, 0, 120),
    ("alendronate", "drug-bisphosphonates", CAUTION, 240, 240),
    ("risedronate", "drug-bisphosphonates", CAUTION, 240, 240),
    ("doxycycline", "drug-tetracyclines", CAUTION, 180, 360),
    ("minocycline", "drug-tetracyclines", CAUTION, 180, 360),
    ("ciprofloxacin", "drug-fluoroquinolones", CAUTION, 240, 360),
    ("levofloxacin", "drug-fluoroquinolones", CAUTION, 240, 360),
    ("levothyroxine", "drug-levothyroxine", CAUTION, 240, 240),
    ("ferrous sulfate", "drug-iron", CAUTION, 240, 240),
    ("penicillamine", "drug-penicillamine", CAUTION, 240, 240),
    ("nitrofurantoin", "drug-nitrofurantoin", CAUTION, 240, 240),
    ("quinidine", "drug-quinidine", CAUTION, 240, 240),
    ("hydroxychloroquine", "drug-aminoquinolines", CAUTION, 240, 240),
    ("eltrombopag", "drug-eltrombopag", CAUTION, 240, 240),
    ("nitroxoline", "drug-nitroxoline", CAUTION, 240, 240),
    ("sodium fluoride", "drug-fluorides", CAUTION, 180, 180),
    ("cellulose sodium phosphate", "drug-cellulose-sodium-phosphate", CAUTION, 60, 60),
    ("edetate", "drug-edetate", CAUTION, 60, 60),
    ("zinc", "drug-zinc", CAUTION, 120, 120),
    ("calcium carbonate", "drug-calcium", CAUTION, 120, 120),
    ("furosemide", "drug-loop-diuretics", CLIN, 0, 0),
    ("hydrochlorothiazide", "drug-thiazide-diuretics", CLIN, 0, 0),
    ("spironolactone", "drug-potassium-sparing-diuretics", CAUTION, 0, 0),
    ("omeprazole", "drug-ppis", CAUTION, 0, 0),
    ("digoxin", "drug-digoxin", CLIN, 0, 0),
    ("gentamicin", "drug-aminoglycosides", CLIN, 0, 0),
    ("cisplatin", "drug-cisplatin", CLIN, 0, 0),
    ("ciclosporin", "drug-ciclosporin", CLIN, 0, 0),
    ("cetuximab", "drug-egfr-antagonists", CLIN, 0, 0),
    ("foscarnet", "drug-foscarnet", CLIN, 0, 0),
    ("pentamidine", "drug-pentamidine", CLIN, 0, 0),
    ("amphotericin B", "drug-amphotericin-b", CLIN, 0, 0),
    ("nifedipine", "drug-calcium-channel-blockers", CAUTION, 0, 0),
    ("calcium channel blocker", "drug-calcium-channel-blockers", CAUTION, 0, 0),
    ("rocuronium", "drug-neuromuscular-blockers", OK, 0, 0),
]


@pytest.mark.parametrize(("name", "rule_id", "level", "before", "after"), INTERACTION_CASES)
def test_interaction_rule_level_and_spacing(name, rule_id, level, before, after):
    report = check_regimen(ADULT, [oral(elemental=100)], [Medication(name, (t("12:00"),))], "US", rules=RULES)
    finding = next(f for f in report.findings if f.rule_id == rule_id)
    assert finding.level is level and report.verdict is level
    _, spacings = medication_findings([Medication(name, (t("12:00"),))], RULES, takes_oral=True)
    assert [(s.drug_before_mg_min, s.drug_after_mg_min) for s in spacings] == (
        [(before, after)] if before or after else []
    )


def test_every_interaction_row_has_a_case():
    assert {r.rule_id for r in RULES.interactions} == {case[1] for case in INTERACTION_CASES}


def test_gabapentin_twice_daily_with_twice_daily_magnesium():
    meds = [Medication("gabapentin", (t("08:00"), t("20:00")))]
    report = check_regimen(ADULT, [oral(elemental=150, units=2, doses=2)], meds, "US", rules=RULES)
    assert report.verdict is CAUTION and "drug-gabapentin" in ids(report)
    times = [d.time for d in report.timetable.doses]
    assert len(times) == 2
    for mg in times:  # gabapentin >= 2 h after magnesium: no Mg in 06:00-08:00 or 18:00-20:00 (exclusive)
        assert not (t("06:00") < mg <= t("08:00")) and not (t("18:00") < mg <= t("20:00"))


def test_levothyroxine_at_seven_keeps_magnesium_four_hours_away():
    meds = [Medication("levothyroxine", (t("07:00"),))]
    report = check_regimen(ADULT, [oral(elemental=200)], meds, "US", rules=RULES)
    assert report.verdict is CAUTION and "drug-levothyroxine" in ids(report)
    assert all(d.time >= t("11:00") for d in report.timetable.doses)


def test_unlisted_drug_gets_a_caution_and_the_default_three_hour_spacing():
    meds = [Medication("paracetamol", (t("12:00"),))]
    report = check_regimen(ADULT, [oral(elemental=200)], meds, "US", rules=RULES)
    finding = next(f for f in report.findings if f.rule_id == "drug-unlisted")
    assert finding.level is CAUTION and "paracetamol" in finding.message
    assert all(abs(d.time.hour * 60 + d.time.minute - 720) >= 180 for d in report.timetable.doses)


def test_no_workable_dose_time_needs_a_clinician():
    meds = [
        Medication("levothyroxine", (t("07:00"),)),
        Medication("ferrous sulfate", (t("11:00"), t("15:00"), t("19:00"))),
    ]
    report = check_regimen(ADULT, [oral(elemental=200)], meds, "US", rules=RULES)
    assert not report.timetable.feasible and report.timetable.doses == ()
    assert "timetable-infeasible" in ids(report) and report.verdict is CLIN


def test_spacing_does_not_apply_to_skin_only_regimens():
    cream = Product("cream", "chloride", Route.CREAM, 1, 50.0)
    report = check_regimen(ADULT, [cream], [Medication("doxycycline", (t("08:00"),))], "US", rules=RULES)
    assert "drug-tetracyclines" in ids(report) and report.verdict is OK


def test_check_protocol_checks_the_protocol_product():
    product = oral(salt="oxide", salt_mg=400)
    report = check_protocol(Person(age=50, egfr=20), product, [], "US", rules=RULES)
    assert report.verdict is BLOCKED and not report.may_start


def test_stop_level_ranks_above_blocked():
    assert Level.OK < Level.CAUTION < Level.NEEDS_CLINICIAN < Level.BLOCKED < Level.STOP
    assert max([Level.CAUTION, Level.OK]) is Level.CAUTION


# --- bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Person(age=200), "age must be 0-120"),
        (lambda: Person(age=-1), "age must be 0-120"),
        (lambda: Person(age=50, egfr=900), "eGFR must be 0-200"),
        (lambda: Person(age=50, egfr=-5), "eGFR must be 0-200"),
        (lambda: Person(age=50, sex="robot"), "sex must be one of"),
        (lambda: Person(age=50, sex="male", pregnant=True), "pregnant or lactating"),
        (lambda: Medication(" "), "needs a name"),
        (lambda: check_regimen(ADULT, [], [], "US", rules=RULES), "at least one magnesium product"),
        (lambda: check_regimen(ADULT, [oral(elemental=10)], [], "UK", rules=RULES), "jurisdiction must be one of"),
    ],
)
def test_bad_input_gives_a_clear_error(build, message):
    with pytest.raises(SafetyInputError, match=message):
        build()


def test_negative_dose_is_refused():
    with pytest.raises(ValidationError, match="must be positive"):
        oral(elemental=-100)


def test_report_summary_and_plain_dict_carry_the_verdict_and_reasons():
    import json

    meds = [Medication("levothyroxine", (t("07:00"),))]
    report = check_regimen(Person(age=50, egfr=45), [oral(salt="oxide", salt_mg=400)], meds, "US", rules=RULES)
    assert report.summary().startswith("Verdict: needs-clinician. Oral elemental magnesium 241.2 mg/day")
    assert "renal-moderate" in report.summary() and "drug-levothyroxine" in report.summary()
    data = json.loads(json.dumps(report.as_dict()))
    assert data["verdict"] == "needs-clinician" and data["findings"][0]["rule_id"] == "renal-moderate"
    assert data["timetable"]["feasible"] is True


def test_epsom_foot_soak_without_a_hydrate_is_listed_not_refused():
    soak = Product("Epsom soak", "epsom salt", Route.FOOT_SOAK, 1, None, 500_000.0)
    report = check_regimen(ADULT, [soak], [], "US", rules=RULES)
    assert report.verdict is OK and report.total_oral_mg == 0
    assert "not converted" in report.doses[0].basis
