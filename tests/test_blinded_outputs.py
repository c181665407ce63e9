"""Nothing allocation-dependent reaches a blinded viewer: one diary, every allowed order, identical outputs.

A blinded 4-cycle paired trial could have drawn any of 16 orders. The same diary is put under each
of them (``record_factory.allocate``); every blinded output (report, long CSV, FHIR Bundle, REDCap
files, reminders, the analysis refusal) must then be byte-identical, apart from the published
commitment, a salted SHA-256 of the order that is stripped before comparing. The unblinded outputs
of two orders must differ, so the comparison could fail.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re

import pytest

from magtrial.core.allocation import possible_sequences
from magtrial.core.analysis import SEALED, Outcome, analyze
from magtrial.core.protocol import Design
from magtrial.core.record import TrialRecord
from magtrial.errors import Forbidden
from magtrial.export.csv_long import long_csv
from magtrial.export.fhir import bundle_json, record_to_bundle
from magtrial.export.redcap import redcap_data_csv, redcap_dictionary_csv
from magtrial.export.reminders import reminders_ics
from magtrial.report.build import record_safety
from magtrial.report.render import render_html
from tests.record_factory import AUDIT_HEAD, allocate, make_record

WHEN = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)
SEQUENCES = list(possible_sequences(Design.PAIRED, 4))
ARM_WORDS = re.compile(r"\b(magnesium|placebo|comparator)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def diary() -> TrialRecord:
    """One simulated diary (with a correction and a void), its audit head, marked simulated."""
    return make_record(blinded=True, seed=21, audit_head=AUDIT_HEAD, simulated=True)


def refusal(record: TrialRecord) -> str:
    messages = set()
    for outcome in (None, *Outcome, "mood"):
        with pytest.raises(Forbidden) as caught:
            analyze(record, outcome, mcid="30%-run-in")
        messages.add(str(caught.value))
    assert len(messages) == 1  # refused before the options are even looked at
    return messages.pop()


def outputs(record: TrialRecord, *, analysis=None) -> dict[str, str]:
    """Every file a viewer of ``record`` can get, with the commitment (a salted hash) stripped."""

    def strip(text: str) -> str:
        return text.replace(record.commitment, "<commitment>")

    return {
        "report": strip(render_html(record, analysis=analysis, safety=record_safety(record), generated_at=WHEN)),
        "csv": strip(long_csv(record)),
        "fhir": strip(bundle_json(record_to_bundle(record, generated_at=WHEN))),
        "redcap_data": strip(redcap_data_csv(record)),
        "redcap_dictionary": strip(redcap_dictionary_csv(record)),
        "ics": strip(reminders_ics(record, generated_at=WHEN).decode()),
    }


def test_the_design_allows_16_orders_and_each_has_its_own_commitment(diary):
    assert len(SEQUENCES) == len(set(SEQUENCES)) == 16
    records = [allocate(diary, seq) for seq in SEQUENCES]
    assert len({r.commitment for r in records}) == 16
    for f in dataclasses.fields(TrialRecord):  # nothing else in a blinded record depends on the order
        if f.name != "commitment":
            assert len({repr(getattr(r, f.name)) for r in records}) == 1, f.name
    assert all(r.allocation is None and not hasattr(r, "pack_sets") for r in records)


def test_blinded_outputs_are_byte_identical_for_every_allowed_order(diary):
    seen: dict[str, set[str]] = {}
    refusals = set()
    for seq in SEQUENCES:
        record = allocate(diary, seq)
        out = outputs(record)
        assert "<commitment>" in out["report"] and "<commitment>" in out["fhir"]  # the stripping did happen
        for name, text in out.items():
            seen.setdefault(name, set()).add(text)
        refusals.add(refusal(record))
    assert {name: len(texts) for name, texts in seen.items()} == dict.fromkeys(seen, 1)
    assert refusals == {f"trial {diary.trial_id} is blinded: {SEALED}"}
    assert "shown only after unblinding" in SEALED and "completeness, adherence and safety" in SEALED


def test_blinded_files_name_no_arm_and_no_grouping_of_packs(diary):
    out = outputs(allocate(diary, SEQUENCES[5]))
    rows = list(csv.DictReader(io.StringIO(out["csv"])))
    redcap = list(csv.DictReader(io.StringIO(out["redcap_data"])))
    fields = [r["Variable / Field Name"] for r in csv.DictReader(io.StringIO(out["redcap_dictionary"]))]
    for header in (list(rows[0]), list(redcap[0]), fields):
        assert not {"arm", "pack_set", "set", "group", "allocation_sequence"} & set(header), header
        assert not [h for h in header if re.search(r"pack.?set|\bset\b|arm", h, re.I)], header
    for row in [*rows, *redcap[1:]]:  # no cell outside the diary's own text names an arm or a set
        cells = {v for k, v in row.items() if k not in ("value", "note", "rescue_medication", "correction_reason")}
        assert not cells & {"X", "Y", "A", "B", "magnesium", "comparator", "placebo"}
    assert not ARM_WORDS.search(out["csv"]) and "pack set" not in out["csv"].lower()
    assert "magnesium, Magnesium" not in out["redcap_dictionary"]
    report = re.sub(r"<[^>]+>", " ", out["report"])
    assert "pack set" not in report.lower() and not re.search(r"\bset [XY]\b", report)
    assert not re.search(r"(period|pack)\s*\d+\W{0,3}(magnesium|placebo|comparator)\b", report, re.I)
    assert "No effect estimate while blinded" in report and "Average pain" not in report
    assert not ARM_WORDS.search(out["ics"])


def test_unblinded_outputs_differ_between_two_orders(diary):
    """The same comparison on unblinded records: it would catch an order that reaches a file."""
    first, second = (allocate(diary, seq, blinded=False) for seq in SEQUENCES[:2])
    a = outputs(first, analysis=analyze(first))
    b = outputs(second, analysis=analyze(second))
    for name in ("report", "csv", "fhir", "redcap_data"):
        assert a[name] != b[name], name
    assert a["ics"] == b["ics"]  # reminders never name an arm, blinded or not
    assert analyze(first).effect.mean != analyze(second).effect.mean
