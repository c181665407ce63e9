"""FHIR R4 export of one trial as a ``collection`` Bundle, and the importer that reads it back.

Built with ``fhir.resources.R4B`` (never the top-level R5 package, whose MedicationStatement drops
``medicationCodeableConcept``), so every resource is checked structurally as it is made. Ids are
UUIDv5 of the trial id, so exporting twice gives the same Bundle. Blinded exports say "pack N" and
never which sequence was assigned nor which packs match. ``Bundle.identifier`` is the audit head the
record was read at (system ``urn:magtrial:audit-head``, value "SEQ:HASH"; the trial id when there is
none), and a simulated trial's Bundle is tagged HTEST (test health data).

Pain codes. LOINC 72514-3 ("Pain severity - 0-10 verbal numeric rating [Score] - Reported") is the
only LOINC code the research file confirms for a 0-10 pain rating (ecosystem-safety.md A1); it has
no average/worst or recall-period axis, and no LOINC code for "average" or "worst pain in the last
24 h" was verified. So only the **average pain** Observation carries 72514-3 (a reader keyed on
LOINC sees one pain series a day); **worst pain** carries the diary CodeSystem's code only. Both
say which they are in ``Observation.method`` (a local "pain recall" code and text), and every item
carries its diary CodeSystem code, which the importer reads.

Doses. ``MedicationStatement.dosage`` gives the elemental magnesium **per dose**
(``doseAndRate.doseQuantity``) beside ``timing.repeat`` (frequency per period of 1 day), so
dose x frequency / period is the daily amount; ``maxDosePerPeriod`` states that daily amount per
1 day. The product is a ``Medication`` resource whose ingredient (the magnesium salt, as text: no
RxNorm or SNOMED CT code for the salts could be verified) has its strength as elemental magnesium
per unit; it depends on the protocol only, so blinded exports carry it too, and only unblinded
magnesium periods reference it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from magtrial.core.allocation import Arm, possible_sequences
from magtrial.core.diary import DiaryVersion, VersionKind
from magtrial.core.labels import COMPARATOR_LABELS, arm_of
from magtrial.core.record import TrialRecord
from magtrial.data.safety import elemental_dose, load_safety_rules
from magtrial.errors import ValidationError

LOINC = "http://loinc.org"
PAIN_NRS = "72514-3"
PAIN_NRS_DISPLAY = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"
DIARY_SYSTEM = "https://magtrial.org/fhir/CodeSystem/diary"
SIDE_EFFECT_SYSTEM = "https://magtrial.org/fhir/CodeSystem/side-effect"
DOSE_TAKEN_SYSTEM = "https://magtrial.org/fhir/CodeSystem/dose-taken"
PSEUDONYM_SYSTEM = "https://magtrial.org/fhir/sid/pseudonym"
TRIAL_SYSTEM = "https://magtrial.org/fhir/sid/trial"
AUDIT_HEAD_SYSTEM = "urn:magtrial:audit-head"
ACT_REASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
TEST_DATA = {"system": ACT_REASON_SYSTEM, "code": "HTEST", "display": "test health data"}
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
UCUM = "http://unitsofmeasure.org"
PAIN_RECALL_SYSTEM = "https://magtrial.org/fhir/CodeSystem/pain-recall"
DOSE_RATE_TYPE = {
    "system": "http://terminology.hl7.org/CodeSystem/dose-rate-type",
    "code": "ordered",
    "display": "Ordered",
}
ELEMENTAL_MG = "mg elemental magnesium"
MAX_LISTED_SEQUENCES = 16  # beyond this the study lists one generic arm instead of every sequence

# diary field -> (local code, display, is a 0-10 pain score)
SCORE_ITEMS = {
    "average_pain": ("average-pain-24h", "Average pain in the last 24 hours (0-10 NRS)", True),
    "worst_pain": ("worst-pain-24h", "Worst pain in the last 24 hours (0-10 NRS)", True),
    "sleep_interference": ("sleep-interference", "Pain interference with sleep (0-10)", False),
}
LOINC_ITEM = "average_pain"  # the one pain item coded with LOINC 72514-3 (see the module docstring)
# pain item -> (recall code, display): how the 0-10 rating summarises the last 24 hours
PAIN_RECALL = {
    "average_pain": ("average-24h", "Average over the last 24 hours"),
    "worst_pain": ("worst-24h", "Worst in the last 24 hours"),
}
TEXT_ITEMS = {
    "side_effect_other": ("side-effect-other", "Other side effect (free text)"),
    "rescue_medication": ("rescue-medication", "Rescue medication taken"),
    "note": ("note", "Diary note"),
}
DOSE_ITEM = ("dose-taken", "Trial pack dose taken today")
SIDE_EFFECT_ITEM = ("side-effect", "Side effect reported")


def record_to_bundle(record: TrialRecord, *, generated_at: dt.datetime | None = None) -> Bundle:
    """The whole trial as a FHIR R4 collection Bundle (current diary values; history is in the CSV)."""
    generated_at = generated_at or dt.datetime.now(dt.UTC)
    ids = _Ids(record.trial_id)
    resources: list[dict[str, Any]] = [
        _patient(record, ids),
        _study(record, ids),
        _subject(record, ids),
        _medication(record, ids),
        *(_medication_statement(record, ids, p.number, generated_at) for p in record.schedule.periods),
    ]
    for version in record.current().values():
        resources.extend(_observations(version, ids))
    resources.append(_provenance(resources, ids, generated_at))
    entries = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": ids("bundle"),
        "type": "collection",
        "identifier": (
            {"system": AUDIT_HEAD_SYSTEM, "value": record.audit_head}
            if record.audit_head
            else {"system": TRIAL_SYSTEM, "value": record.trial_id}
        ),
        "timestamp": generated_at.isoformat(),
        "entry": entries,
    }
    if record.simulated:
        bundle["meta"] = {"tag": [TEST_DATA]}
    return Bundle.model_validate(bundle)


def bundle_json(bundle: Bundle) -> str:
    return json.dumps(json.loads(bundle.model_dump_json()), indent=2, ensure_ascii=False)


def write_fhir(record: TrialRecord, path: str | Path, *, generated_at: dt.datetime | None = None) -> Path:
    path = Path(path)
    path.write_text(bundle_json(record_to_bundle(record, generated_at=generated_at)), encoding="utf-8")
    return path


def bundle_to_values(bundle: Bundle | dict[str, Any] | str) -> dict[dt.date, dict[str, Any]]:
    """Diary values per day read back from a Bundle, in ``DiaryValues.as_dict()`` form.

    Parses with the R4B models first, so a Bundle that does not validate is refused, then reads the
    diary Observations by their local code; entered-in-error Observations are skipped.
    """
    if isinstance(bundle, str):
        bundle = Bundle.model_validate_json(bundle)
    elif isinstance(bundle, dict):
        bundle = Bundle.model_validate(bundle)
    by_code = {code: field for field, (code, *_rest) in {**SCORE_ITEMS, **TEXT_ITEMS}.items()}
    days: dict[dt.date, dict[str, Any]] = {}
    for entry in bundle.entry or []:
        res: Any = entry.resource  # an Observation's fields are read only after the type check
        if res is None or res.get_resource_type() != "Observation" or res.status == "entered-in-error":
            continue
        local = next((c.code for c in res.code.coding or [] if c.system == DIARY_SYSTEM), None)
        if local is None:
            continue
        effective = res.effectiveDateTime
        day = effective if type(effective) is dt.date else dt.date.fromisoformat(str(effective)[:10])
        values = days.setdefault(
            day, {"side_effects": [], "side_effect_other": "", "rescue_medication": "", "note": ""}
        )
        if local in by_code and by_code[local] in SCORE_ITEMS:
            values[by_code[local]] = res.valueInteger
        elif local in by_code:
            values[by_code[local]] = res.valueString
        elif local == DOSE_ITEM[0]:
            values["dose_taken"] = res.valueCodeableConcept.coding[0].code
        elif local == SIDE_EFFECT_ITEM[0]:
            values["side_effects"].append(res.valueCodeableConcept.coding[0].code)
    for values in days.values():
        values["side_effects"] = sorted(values["side_effects"])
    return dict(sorted(days.items()))


class _Ids:
    """Stable UUIDv5 ids per trial, so two exports of the same record are identical."""

    def __init__(self, trial_id: str) -> None:
        self.ns = uuid.uuid5(uuid.NAMESPACE_URL, f"https://magtrial.org/trial/{trial_id}")

    def __call__(self, key: str) -> str:
        return str(uuid.uuid5(self.ns, key))

    def ref(self, key: str) -> dict[str, str]:
        return {"reference": f"urn:uuid:{self(key)}"}


def _patient(record: TrialRecord, ids: _Ids) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": ids("patient"),
        "meta": {
            "security": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
                    "code": "PSEUDED",
                    "display": "pseudonymized",
                }
            ]
        },
        "identifier": [{"system": PSEUDONYM_SYSTEM, "value": record.participant}],
    }


def _sequence_name(seq: tuple[Arm, ...]) -> str:
    return "".join(arm.letter for arm in seq)


def _study(record: TrialRecord, ids: _Ids) -> dict[str, Any]:
    p = record.protocol
    sequences = list(possible_sequences(p.design, p.cycles))
    legend = f"A = {p.product.name}; B = {COMPARATOR_LABELS[p.comparator]}"
    if len(sequences) <= MAX_LISTED_SEQUENCES:
        arms = [
            {"name": _sequence_name(s), "description": f"Period order {_sequence_name(s)} ({legend})"}
            for s in sequences
        ]
    else:
        arms = [
            {
                "name": f"{p.design.value} randomized order",
                "description": f"One of {len(sequences)} equally likely period orders ({legend})",
            }
        ]
    status = {"active": "active", "unblinded": "completed"}.get(record.status, "administratively-completed")
    return {
        "resourceType": "ResearchStudy",
        "id": ids("study"),
        "identifier": [{"system": TRIAL_SYSTEM, "value": record.trial_id}],
        "title": f"N-of-1 trial: {p.product.name} vs {COMPARATOR_LABELS[p.comparator]} ({p.condition.value})",
        "status": status,
        "primaryPurposeType": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/research-study-prim-purp-type",
                    "code": "treatment",
                }
            ]
        },
        "condition": [{"text": p.condition.value}],
        "period": {"start": record.schedule.start.isoformat(), "end": record.schedule.end.isoformat()},
        "description": (
            f"Randomized ({p.design.value}), {p.blinding.value} N-of-1 trial: {p.n_periods} periods of "
            f"{p.period_days} days, run-in {p.run_in_days} days, washout {p.washout_days} days. "
            f"Allocation commitment SHA-256 {record.commitment}."
        ),
        "arm": arms,
    }


def _subject(record: TrialRecord, ids: _Ids) -> dict[str, Any]:
    subject: dict[str, Any] = {
        "resourceType": "ResearchSubject",
        "id": ids("subject"),
        "status": "on-study" if record.status == "active" else "off-study",
        "period": {"start": record.schedule.start.isoformat(), "end": record.schedule.end.isoformat()},
        "study": ids.ref("study"),
        "individual": ids.ref("patient"),
    }
    if record.allocation is not None:
        subject["assignedArm"] = subject["actualArm"] = _sequence_name(record.allocation.sequence)
    return subject


def _ingredient_text(record: TrialRecord) -> str:
    product = record.protocol.product
    try:
        salt = load_safety_rules().salt(product.salt).key
    except ValidationError:
        salt = product.salt
    form = f", {product.hydrate}" if product.hydrate and product.hydrate.strip().lower() != "unknown" else ""
    return f"magnesium {salt}{form}"


def _mg(value: float, unit: str = ELEMENTAL_MG) -> dict[str, Any]:
    return {"value": round(value, 2), "unit": unit, "system": UCUM, "code": "mg"}


def _medication(record: TrialRecord, ids: _Ids) -> dict[str, Any]:
    """The magnesium product: its salt as ingredient and its strength as elemental mg per unit."""
    p = record.protocol.product
    ingredient: dict[str, Any] = {"itemCodeableConcept": {"text": _ingredient_text(record)}, "isActive": True}
    mg, _how = elemental_dose(p)
    if mg is not None:
        ingredient["strength"] = {
            "numerator": _mg(mg / p.units_per_day),
            "denominator": {"value": 1, "unit": "unit", "system": UCUM, "code": "{unit}"},
        }
    return {
        "resourceType": "Medication",
        "id": ids("medication/product"),
        "code": {"text": p.name},
        "ingredient": [ingredient],
    }


def _medication_statement(record: TrialRecord, ids: _Ids, number: int, now: dt.datetime) -> dict[str, Any]:
    p = record.protocol
    period = record.schedule.period(number)
    arm = arm_of(record, number)
    pack = f"trial pack {number}"
    doses = p.product.doses_per_day
    dosage: dict[str, Any] = {
        "text": f"Take {p.product.units_per_day:g} unit(s) a day from {pack}, in {doses} dose(s)",
        "timing": {"repeat": {"frequency": doses, "period": 1, "periodUnit": "d"}},
        "route": {"text": p.product.route.value},
    }
    notes = []
    medication: dict[str, Any]
    if arm is None:
        medication = {
            "medicationCodeableConcept": {
                "text": f"{pack.capitalize()} (blinded: {p.product.name} or {COMPARATOR_LABELS[p.comparator]})"
            }
        }
        notes.append("Blinded period: the pack's content is not part of this export.")
    elif arm is Arm.MAGNESIUM:
        medication = {"medicationReference": {**ids.ref("medication/product"), "display": f"{p.product.name} ({pack})"}}
        mg, how = elemental_dose(p.product)
        if mg is not None:
            per_dose = mg / doses
            times = {1: "once", 2: "twice"}.get(doses, f"{doses} times")
            dosage["text"] = (
                f"Take {p.product.units_per_day / doses:g} unit(s) from {pack} {times} a day: "
                f"{per_dose:g} mg elemental magnesium per dose, {mg:g} mg a day"
            )
            dosage["doseAndRate"] = [{"type": {"coding": [DOSE_RATE_TYPE]}, "doseQuantity": _mg(per_dose)}]
            dosage["maxDosePerPeriod"] = {
                "numerator": _mg(mg),
                "denominator": {"value": 1, "unit": "day", "system": UCUM, "code": "d"},
            }
        notes.append(f"Elemental magnesium: {how}.")
        notes.append("Ingredient given as text: no RxNorm or SNOMED CT code for this magnesium salt was verified.")
    else:
        medication = {"medicationCodeableConcept": {"text": f"{COMPARATOR_LABELS[p.comparator].capitalize()} ({pack})"}}
    today = now.date()
    status = "completed" if period.end < today else "active" if period.start <= today else "intended"
    return {
        "resourceType": "MedicationStatement",
        "id": ids(f"medication/{number}"),
        "status": status,
        **medication,
        "subject": ids.ref("patient"),
        "effectivePeriod": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "dosage": [dosage],
        "note": [{"text": n} for n in notes],
    }


def _observation(
    version: DiaryVersion, ids: _Ids, key: str, coding: list[dict[str, str]], text: str, value: dict[str, Any]
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": ids(f"obs/{version.day.isoformat()}/{key}"),
        "meta": {"versionId": str(version.version)},
        "status": "amended" if version.kind is VersionKind.CORRECTION else "final",
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "survey", "display": "Survey"}]}],
        "code": {"coding": coding, "text": text},
        "subject": ids.ref("patient"),
        "performer": [ids.ref("patient")],
        "effectiveDateTime": version.day.isoformat(),
        "issued": version.recorded_at.isoformat(),
        **value,
        **({"note": [{"text": f"Corrected: {version.reason}"}]} if version.reason else {}),
    }


def _observations(version: DiaryVersion, ids: _Ids) -> list[dict[str, Any]]:
    values = version.values
    assert values is not None  # current entries are never voids
    out = []
    for field, (code, display, is_pain) in SCORE_ITEMS.items():
        coding = [{"system": DIARY_SYSTEM, "code": code, "display": display}]
        extra: dict[str, Any] = {"valueInteger": getattr(values, field)}
        if field == LOINC_ITEM:
            coding.insert(0, {"system": LOINC, "code": PAIN_NRS, "display": PAIN_NRS_DISPLAY})
        if is_pain:
            recall, recall_display = PAIN_RECALL[field]
            extra["method"] = {
                "coding": [{"system": PAIN_RECALL_SYSTEM, "code": recall, "display": recall_display}],
                "text": f"0-10 numeric rating: {recall_display.lower()}",
            }
        out.append(_observation(version, ids, code, coding, display, extra))
    out.append(
        _observation(
            version,
            ids,
            DOSE_ITEM[0],
            [_local(*DOSE_ITEM)],
            DOSE_ITEM[1],
            {"valueCodeableConcept": {"coding": [{"system": DOSE_TAKEN_SYSTEM, "code": values.dose_taken.value}]}},
        )
    )
    for effect in sorted(values.side_effects):
        out.append(
            _observation(
                version,
                ids,
                f"{SIDE_EFFECT_ITEM[0]}/{effect}",
                [_local(*SIDE_EFFECT_ITEM)],
                SIDE_EFFECT_ITEM[1],
                {"valueCodeableConcept": {"coding": [{"system": SIDE_EFFECT_SYSTEM, "code": effect}]}},
            )
        )
    for field, (code, display) in TEXT_ITEMS.items():
        text = getattr(values, field)
        if text:
            out.append(_observation(version, ids, code, [_local(code, display)], display, {"valueString": text}))
    return out


def _local(code: str, display: str) -> dict[str, str]:
    return {"system": DIARY_SYSTEM, "code": code, "display": display}


def _provenance(resources: list[dict[str, Any]], ids: _Ids, generated_at: dt.datetime) -> dict[str, Any]:
    from magtrial import __version__

    return {
        "resourceType": "Provenance",
        "id": ids("provenance"),
        "target": [{"reference": f"urn:uuid:{r['id']}"} for r in resources],
        "recorded": generated_at.isoformat(),
        "activity": {"text": "export of a magtrial N-of-1 trial record"},
        "agent": [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                            "code": "assembler",
                        }
                    ]
                },
                "who": {"display": f"magtrial {__version__}"},
            }
        ],
    }
