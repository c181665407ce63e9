"""A REDCap-importable flat file and its data dictionary, for teams that keep trials in REDCap.

REDCap cannot be embedded (its licence forbids redistribution), only fed: a project is created from
the data dictionary (the 18 standard columns) and the records imported as CSV. The trial sits on a
non-repeating ``trial`` form and each current diary day is one instance of the repeating
``daily_diary`` form; the full version history stays in the long CSV. Arm fields are only part of
the dictionary and data once the trial is unblinded; before that nothing groups the packs. The
trial form carries the audit head the record was read at and whether the trial is simulated.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from magtrial.core.diary import SIDE_EFFECTS
from magtrial.core.labels import arm_of
from magtrial.core.record import TrialRecord

DICTIONARY_COLUMNS = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
TRIAL_FORM, DIARY_FORM = "trial", "daily_diary"


def _choice_code(name: str) -> str:
    """REDCap choice codes allow letters, digits and underscores only."""
    return name.replace("-", "_")


def _field(
    name: str,
    form: str,
    ftype: str,
    label: str,
    choices: str = "",
    validation: str = "",
    vmin: str = "",
    vmax: str = "",
    required: bool = False,
    section: str = "",
    note: str = "",
) -> dict[str, str]:
    row = dict.fromkeys(DICTIONARY_COLUMNS, "")
    row.update(
        {
            "Variable / Field Name": name,
            "Form Name": form,
            "Section Header": section,
            "Field Type": ftype,
            "Field Label": label,
            "Choices, Calculations, OR Slider Labels": choices,
            "Field Note": note,
            "Text Validation Type OR Show Slider Number": validation,
            "Text Validation Min": vmin,
            "Text Validation Max": vmax,
            "Required Field?": "y" if required else "",
        }
    )
    return row


def data_dictionary(record: TrialRecord) -> list[dict[str, str]]:
    """The REDCap data dictionary rows for this export (arm fields only when unblinded)."""
    unblinded = record.allocation is not None
    score: dict[str, Any] = {"validation": "integer", "vmin": "0", "vmax": "10", "required": True}
    fields = [
        _field("record_id", TRIAL_FORM, "text", "Participant pseudonym", section="Trial"),
        _field("trial_id", TRIAL_FORM, "text", "Trial id"),
        _field("condition", TRIAL_FORM, "text", "Condition"),
        _field("product", TRIAL_FORM, "text", "Product tested"),
        _field("comparator", TRIAL_FORM, "text", "Comparator"),
        _field("design", TRIAL_FORM, "text", "Randomization design"),
        _field("start_date", TRIAL_FORM, "text", "Start date", validation="date_ymd"),
        _field("n_periods", TRIAL_FORM, "text", "Number of periods", validation="integer"),
        _field("period_days", TRIAL_FORM, "text", "Days per period", validation="integer"),
        _field("run_in_days", TRIAL_FORM, "text", "Run-in days", validation="integer"),
        _field("washout_days", TRIAL_FORM, "text", "Washout days", validation="integer"),
        _field("commitment", TRIAL_FORM, "text", "Allocation commitment (SHA-256)"),
        _field(
            "audit_head",
            TRIAL_FORM,
            "text",
            "Audit chain head at export (SEQ:HASH)",
            note="check later with: magtrial audit verify --expect-head SEQ:HASH",
        ),
        _field("simulated", TRIAL_FORM, "yesno", "Simulated data (not a real participant)"),
    ]
    if unblinded:
        fields.append(
            _field(
                "allocation_sequence",
                TRIAL_FORM,
                "text",
                "Allocation sequence (A = magnesium)",
                note="revealed at unblinding",
            )
        )
    fields += [
        _field(
            "diary_date",
            DIARY_FORM,
            "text",
            "Diary date",
            validation="date_ymd",
            required=True,
            section="Daily diary",
        ),
        _field("study_day", DIARY_FORM, "text", "Study day", validation="integer"),
        _field("phase", DIARY_FORM, "dropdown", "Phase", "run_in, Run-in | period, Period | washout, Washout"),
        _field("period", DIARY_FORM, "text", "Period (= pack number)", validation="integer"),
    ]
    if unblinded:
        fields.append(_field("arm", DIARY_FORM, "radio", "Arm", "magnesium, Magnesium | comparator, Comparator"))
    fields += [
        _field("average_pain", DIARY_FORM, "text", "Average pain in the last 24 hours (0-10)", **score),
        _field("worst_pain", DIARY_FORM, "text", "Worst pain in the last 24 hours (0-10)", **score),
        _field("sleep_interference", DIARY_FORM, "text", "Pain interference with sleep (0-10)", **score),
        _field(
            "dose_taken",
            DIARY_FORM,
            "radio",
            "Trial pack dose taken",
            "full, Full | partial, Partial | none, None",
        ),
        _field(
            "side_effects",
            DIARY_FORM,
            "checkbox",
            "Side effects",
            " | ".join(f"{_choice_code(s)}, {s.replace('-', ' ').capitalize()}" for s in SIDE_EFFECTS),
        ),
        _field("side_effect_other", DIARY_FORM, "notes", "Other side effect"),
        _field("rescue_medication", DIARY_FORM, "text", "Rescue medication"),
        _field("note", DIARY_FORM, "notes", "Note"),
        _field("entry_version", DIARY_FORM, "text", "Entry version (1 = original)", validation="integer"),
        _field("correction_reason", DIARY_FORM, "notes", "Reason for the latest correction"),
        _field("recorded_at", DIARY_FORM, "text", "Recorded at (UTC)", validation="datetime_seconds_ymd"),
    ]
    return fields


def data_columns(record: TrialRecord) -> list[str]:
    """Import columns in dictionary order; a checkbox becomes one ``field___code`` column per choice."""
    cols = ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance"]
    for f in data_dictionary(record)[1:]:
        name = f["Variable / Field Name"]
        if f["Field Type"] == "checkbox":
            cols += [f"{name}___{_choice_code(s)}" for s in SIDE_EFFECTS]
        else:
            cols.append(name)
    cols.insert(cols.index("diary_date"), f"{TRIAL_FORM}_complete")
    cols.append(f"{DIARY_FORM}_complete")
    return cols


def data_rows(record: TrialRecord) -> list[dict[str, Any]]:
    """One trial row, then one repeating ``daily_diary`` row per current diary day."""
    p, schedule = record.protocol, record.schedule
    trial: dict[str, Any] = {
        "record_id": record.participant,
        "trial_id": record.trial_id,
        "condition": p.condition.value,
        "product": p.product.name,
        "comparator": p.comparator.value,
        "design": p.design.value,
        "start_date": schedule.start.isoformat(),
        "n_periods": p.n_periods,
        "period_days": p.period_days,
        "run_in_days": p.run_in_days,
        "washout_days": p.washout_days,
        "commitment": record.commitment,
        "audit_head": record.audit_head,
        "simulated": int(record.simulated),
        f"{TRIAL_FORM}_complete": 2,
    }
    if record.allocation is not None:
        trial["allocation_sequence"] = record.allocation.letters
    rows = [trial]
    for instance, (day, version) in enumerate(record.current().items(), start=1):
        values = version.values
        assert values is not None
        plan = schedule.day(day)
        row: dict[str, Any] = {
            "record_id": record.participant,
            "redcap_repeat_instrument": DIARY_FORM,
            "redcap_repeat_instance": instance,
            "diary_date": day.isoformat(),
            "study_day": (day - schedule.start).days + 1,
            "phase": plan.kind.value.replace("-", "_"),
            "period": plan.period or "",
            "average_pain": values.average_pain,
            "worst_pain": values.worst_pain,
            "sleep_interference": values.sleep_interference,
            "dose_taken": values.dose_taken.value,
            "side_effect_other": values.side_effect_other,
            "rescue_medication": values.rescue_medication,
            "note": values.note,
            "entry_version": version.version,
            "correction_reason": version.reason,
            "recorded_at": version.recorded_at.strftime("%Y-%m-%d %H:%M:%S"),
            f"{DIARY_FORM}_complete": 2,
        }
        for s in SIDE_EFFECTS:
            row[f"side_effects___{_choice_code(s)}"] = int(s in values.side_effects)
        if record.allocation is not None:
            arm = arm_of(record, plan.period) if plan.period else None
            row["arm"] = arm.value if arm else ""
        rows.append(row)
    return rows


def _csv(columns: list[str] | tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def redcap_data_csv(record: TrialRecord) -> str:
    return _csv(data_columns(record), data_rows(record))


def redcap_dictionary_csv(record: TrialRecord) -> str:
    return _csv(DICTIONARY_COLUMNS, data_dictionary(record))


def write_redcap(record: TrialRecord, directory: str | Path) -> tuple[Path, Path]:
    """Write ``<trial>_redcap_data.csv`` and ``<trial>_redcap_dictionary.csv``; returns both paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    data = directory / f"{record.trial_id}_redcap_data.csv"
    dictionary = directory / f"{record.trial_id}_redcap_dictionary.csv"
    data.write_text(redcap_data_csv(record), encoding="utf-8")
    dictionary.write_text(redcap_dictionary_csv(record), encoding="utf-8")
    return data, dictionary
