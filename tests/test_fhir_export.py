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


def test_every_pain_observation_has_loinc_72514_3_and_a_value_0_to_10():
    bundle = record_to_bundle(make_record(seed=2), generated_at=WHEN)
    pain = [
        o
        for o in _resources(bundle, "Observation")
        if any(c.system == DIARY_SYSTEM and c.code in PAIN_CODES for c in o.code.coding)
    ]
    assert pain
    for obs in pain:
        assert any(c.system == LOINC and c.code == PAIN_NRS for c in obs.code.coding)
        assert 0 <= obs.valueInteger <= 10
        assert obs.category[0].coding[0].code == "survey"
    loinc = [o for o in _resources(bundle, "Observation") if any(c.code == PAIN_NRS for c in o.code.coding)]
    assert len(loinc) == len(pain)


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
    assert doses == [200, None, None, 200, 200, None, None, 200]
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


def test_unconvertible_salt_leaves_the_dose_out_and_says_why():
    from magtrial.core.protocol import Product

    citrate = Product(name="Magnesium citrate", salt="citrate", salt_mg_per_unit=400, units_per_day=1)
    record = make_record(blinded=False, seed=15, sequence="ABABABAB", product=citrate)
    med = _resources(record_to_bundle(record, generated_at=WHEN), "MedicationStatement")[0]
    assert med.dosage[0].doseAndRate is None
    assert "elemental dose not stated" in med.note[0].text
