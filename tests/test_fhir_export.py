"""FHIR R4 export: every Bundle parses with the R4B models, pain uses LOINC 72514-3, values round-trip."""

import datetime as dt
import json

import pytest
from fhir.resources.R4B.bundle import Bundle

from magtrial.export.fhir import (
    AUDIT_HEAD_SYSTEM,
    DIARY_SYSTEM,
    LOINC,
    PAIN_NRS,
    TRIAL_SYSTEM,
    bundle_json,
    bundle_to_values,
    record_to_bundle,
)
from tests.record_factory import AUDIT_HEAD, allocate, make_record

WHEN = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
PAIN_CODES = {"average-pain-24h", "worst-pain-24h"}


def _resources(bundle, kind):
    return [e.resource for e in bundle.entry if e.resource.get_resource_type() == kind]


@pytest.mark.parametrize("blinded", [True, False])
def test_exported_bundle_parses_with_r4b_models(blinded):
    text = bundle_json(record_to_bundle(make_record(blinded=blinded, seed=1), generated_at=WHEN))
    bundle = Bundle.model_validate_json(text)
    assert bundle.type == "collection"
    kinds = {e.resource.get_resource_type() for e in bundle.entry}
    assert {
        "Patient",
        "ResearchStudy",
        "ResearchSubject",
        "MedicationStatement",
        "Observation",
        "Provenance",
    } <= kinds
    assert all(e.fullUrl == f"urn:uuid:{e.resource.id}" for e in bundle.entry)


def _pain(bundle, code):
    return [
        o
        for o in _resources(bundle, "Observation")
        if any(c.system == DIARY_SYSTEM and c.code == code for c in o.code.coding)
    ]


def test_pain_observations_are_0_to_10_surveys():
    bundle = record_to_bundle(make_record(seed=2), generated_at=WHEN)
    for code in PAIN_CODES:
        assert _pain(bundle, code)
        for obs in _pain(bundle, code):
            assert 0 <= obs.valueInteger <= 10
            assert obs.category[0].coding[0].code == "survey"


def test_average_and_worst_pain_do_not_share_a_loinc_code():
    """Only average pain carries LOINC 72514-3, so a reader keyed on LOINC gets one pain series a day."""
    bundle = record_to_bundle(make_record(seed=2), generated_at=WHEN)
    loinc = [o for o in _resources(bundle, "Observation") if any(c.system == LOINC for c in o.code.coding)]
    assert loinc and {c.code for o in loinc for c in o.code.coding if c.system == LOINC} == {PAIN_NRS}
    assert len(loinc) == len(_pain(bundle, "average-pain-24h"))
    assert all(any(c.code == "average-pain-24h" for c in o.code.coding) for o in loinc)
    assert not any(c.system == LOINC for o in _pain(bundle, "worst-pain-24h") for c in o.code.coding)
    days = [o.effectiveDateTime for o in loinc]
    assert len(days) == len(set(days))  # one LOINC pain value per day


def test_pain_items_say_which_24_hour_summary_they_are():
    bundle = record_to_bundle(make_record(seed=2), generated_at=WHEN)
    methods = {code: {o.method.coding[0].code for o in _pain(bundle, code)} for code in PAIN_CODES}
    assert methods == {"average-pain-24h": {"average-24h"}, "worst-pain-24h": {"worst-24h"}}


@pytest.mark.parametrize("blinded", [True, False])
def test_reimported_bundle_gives_back_the_current_diary_values(blinded):
    record = make_record(blinded=blinded, seed=4)
    back = bundle_to_values(bundle_json(record_to_bundle(record, generated_at=WHEN)))
    assert back == {day: v.values.as_dict() for day, v in record.current().items()}


def test_correction_is_exported_as_amended_and_void_is_left_out():
    record = make_record(seed=5)
    bundle = record_to_bundle(record, generated_at=WHEN)
    corrected = next(v for v in record.versions if v.kind.value == "correction")
    voided = next(v for v in record.versions if v.kind.value == "void")
    obs = _resources(bundle, "Observation")
    assert any(o.status == "amended" and o.effectiveDateTime == corrected.day for o in obs)
    assert not any(o.effectiveDateTime == voided.day for o in obs)


def test_export_is_reproducible():
    record = make_record(seed=6)
    assert bundle_json(record_to_bundle(record, generated_at=WHEN)) == bundle_json(
        record_to_bundle(record, generated_at=WHEN)
    )


def test_blinded_export_names_no_assigned_arm_and_says_pack():
    record = make_record(blinded=True, seed=7)
    bundle = record_to_bundle(record, generated_at=WHEN)
    subject = _resources(bundle, "ResearchSubject")[0]
    assert subject.assignedArm is None and subject.actualArm is None
    meds = _resources(bundle, "MedicationStatement")
    assert [m.medicationCodeableConcept.text.split(" (")[0] for m in meds] == [f"Trial pack {n}" for n in range(1, 9)]
    assert all(m.dosage[0].doseAndRate is None for m in meds)


def test_blinded_export_does_not_depend_on_the_allocation():
    """Same diary, two allocations (same published commitment): the blinded Bundles are byte-identical."""
    a = make_record(blinded=True, seed=8, sequence="ABBABAAB", commitment_override="c" * 64)
    b = allocate(a, "BABAABAB", commitment_override="c" * 64)
    assert bundle_json(record_to_bundle(a, generated_at=WHEN)) == bundle_json(record_to_bundle(b, generated_at=WHEN))


@pytest.mark.parametrize("blinded", [True, False])
def test_bundle_carries_the_audit_head_and_tags_simulated_data(blinded):
    record = make_record(blinded=blinded, seed=11, audit_head=AUDIT_HEAD, simulated=True)
    bundle = Bundle.model_validate_json(bundle_json(record_to_bundle(record, generated_at=WHEN)))
    assert (bundle.identifier.system, bundle.identifier.value) == (AUDIT_HEAD_SYSTEM, AUDIT_HEAD)
    assert [(t.system, t.code) for t in bundle.meta.tag] == [
        ("http://terminology.hl7.org/CodeSystem/v3-ActReason", "HTEST")
    ]


def test_bundle_without_an_audit_head_is_identified_by_trial_and_not_tagged():
    bundle = record_to_bundle(make_record(seed=11), generated_at=WHEN)
    assert (bundle.identifier.system, bundle.identifier.value) == (TRIAL_SYSTEM, "T-0001")
    assert bundle.meta is None


def test_unblinded_export_assigns_the_sequence_and_elemental_dose():
    record = make_record(blinded=False, seed=9, sequence="ABBAABBA")
    bundle = record_to_bundle(record, generated_at=WHEN)
    assert _resources(bundle, "ResearchSubject")[0].assignedArm == "ABBAABBA"
    assert "ABBAABBA" in {a.name for a in _resources(bundle, "ResearchStudy")[0].arm}
    meds = _resources(bundle, "MedicationStatement")
    doses = [m.dosage[0].doseAndRate[0].doseQuantity.value if m.dosage[0].doseAndRate else None for m in meds]
    assert doses == [100, None, None, 100, 100, None, None, 100]  # 100 mg a dose, twice a day
    daily = [m.dosage[0].maxDosePerPeriod.numerator.value if m.dosage[0].maxDosePerPeriod else None for m in meds]
    assert daily == [200, None, None, 200, 200, None, None, 200]
    assert "placebo" in meds[1].medicationCodeableConcept.text


def test_patient_is_pseudonymous():
    bundle = json.loads(bundle_json(record_to_bundle(make_record(seed=10), generated_at=WHEN)))
    patient = bundle["entry"][0]["resource"]
    assert patient["resourceType"] == "Patient"
    assert set(patient) <= {"resourceType", "id", "meta", "identifier"}
    assert patient["identifier"][0]["value"] == "P-7F3K"


def test_importer_refuses_an_invalid_bundle():
    with pytest.raises(ValueError):
        bundle_to_values(
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": {"resourceType": "Observation", "code": {"text": "x"}}}],
            }
        )


def test_salt_only_product_dose_is_converted_with_the_salt_table():
    from magtrial.core.protocol import Product

    oxide = Product(name="Magnesium oxide 400 mg", salt="oxide", salt_mg_per_unit=400, units_per_day=1)
    record = make_record(blinded=False, seed=14, sequence="ABABABAB", product=oxide)
    med = _resources(record_to_bundle(record, generated_at=WHEN), "MedicationStatement")[0]
    assert float(med.dosage[0].doseAndRate[0].doseQuantity.value) == pytest.approx(241.2, abs=0.5)
    assert "salt table" in med.note[0].text
    medication = _resources(record_to_bundle(record, generated_at=WHEN), "Medication")[0]
    assert medication.ingredient[0].itemCodeableConcept.text == "magnesium oxide"
    assert float(medication.ingredient[0].strength.numerator.value) == pytest.approx(241.2, abs=0.5)


def test_unconvertible_salt_leaves_the_dose_out_and_says_why():
    from magtrial.core.protocol import Product

    citrate = Product(name="Magnesium citrate", salt="citrate", salt_mg_per_unit=400, units_per_day=1)
    record = make_record(blinded=False, seed=15, sequence="ABABABAB", product=citrate)
    med = _resources(record_to_bundle(record, generated_at=WHEN), "MedicationStatement")[0]
    assert med.dosage[0].doseAndRate is None
    assert "elemental dose not stated" in med.note[0].text


# --- doses as a FHIR consumer reads them (issue 12) -------------------------------------------------------

DOSE_CASES = [  # (product, elemental mg a day as the label says)
    (
        dict(name="Mg glycinate 100 mg", salt="glycinate", units_per_day=2, elemental_mg_per_unit=100, doses_per_day=2),
        200,
    ),
    (dict(name="Mg citrate 120 mg", salt="citrate", units_per_day=3, elemental_mg_per_unit=120, doses_per_day=2), 360),
    (dict(name="Mg 50 mg", salt="lactate", units_per_day=3, elemental_mg_per_unit=50, doses_per_day=3), 150),
    (dict(name="Mg 100 mg", salt="citrate", units_per_day=1, elemental_mg_per_unit=100, doses_per_day=1), 100),
    (dict(name="MgO 400 mg", salt="oxide", units_per_day=2, salt_mg_per_unit=400, doses_per_day=2), 2 * 400 * 0.603),
]


def _period_days(unit):
    return {"d": 1, "h": 1 / 24, "wk": 7}[unit]


@pytest.mark.parametrize(("fields", "daily"), DOSE_CASES)
def test_consumer_computes_the_daily_elemental_dose_from_dose_times_frequency(fields, daily):
    """What a FHIR consumer does: doseQuantity x frequency / period (in days) = mg a day."""
    from magtrial.core.protocol import Product

    record = make_record(blinded=False, seed=16, sequence="ABABABAB", product=Product(**fields))
    data = json.loads(bundle_json(record_to_bundle(record, generated_at=WHEN)))  # as it goes over the wire
    statement = next(e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "MedicationStatement")
    dosage = statement["dosage"][0]
    repeat = dosage["timing"]["repeat"]
    dose = dosage["doseAndRate"][0]["doseQuantity"]
    assert (dose["system"], dose["code"]) == ("http://unitsofmeasure.org", "mg")
    per_day = dose["value"] * repeat["frequency"] / (repeat["period"] * _period_days(repeat["periodUnit"]))
    assert per_day == pytest.approx(daily, abs=0.05)
    limit = dosage["maxDosePerPeriod"]
    assert (limit["denominator"]["value"], limit["denominator"]["code"]) == (1, "d")
    assert limit["numerator"]["value"] == pytest.approx(daily, abs=0.05)
    assert f"{round(daily, 1):g}" in dosage["text"] or f"{daily:g}" in dosage["text"]


@pytest.mark.parametrize(("fields", "daily"), DOSE_CASES)
def test_medication_strength_times_units_is_the_daily_dose(fields, daily):
    from magtrial.core.protocol import Product

    product = Product(**fields)
    record = make_record(blinded=False, seed=17, sequence="ABABABAB", product=product)
    bundle = record_to_bundle(record, generated_at=WHEN)
    medication = _resources(bundle, "Medication")[0]
    strength = medication.ingredient[0].strength
    assert strength.numerator.code == "mg" and strength.denominator.value == 1
    assert float(strength.numerator.value) * product.units_per_day == pytest.approx(daily, abs=0.05)
    assert medication.ingredient[0].itemCodeableConcept.text.startswith("magnesium ")
    assert medication.code.text == product.name


def test_magnesium_periods_reference_the_medication_and_placebo_periods_do_not():
    record = make_record(blinded=False, seed=18, sequence="ABBAABBA")
    bundle = record_to_bundle(record, generated_at=WHEN)
    medication = _resources(bundle, "Medication")[0]
    refs = [
        m.medicationReference.reference if m.medicationReference else None
        for m in _resources(bundle, "MedicationStatement")
    ]
    target = f"urn:uuid:{medication.id}"
    assert [r == target for r in refs] == [c == "A" for c in "ABBAABBA"]
    fullurls = {e.fullUrl for e in bundle.entry}
    assert target in fullurls


def test_blinded_export_carries_the_medication_but_never_links_a_pack_to_it():
    bundle = record_to_bundle(make_record(blinded=True, seed=19), generated_at=WHEN)
    assert len(_resources(bundle, "Medication")) == 1
    statements = _resources(bundle, "MedicationStatement")
    assert all(m.medicationReference is None and m.dosage[0].doseAndRate is None for m in statements)
    assert all(m.dosage[0].maxDosePerPeriod is None for m in statements)
