"""Tidy long CSV: one row per person, day, item and version, with the whole correction history."""

import csv
import io

from magtrial.export.csv_long import ITEMS, long_columns, long_csv, write_long_csv
from tests.record_factory import AUDIT_HEAD, allocate, make_record


def _rows(record):
    return list(csv.DictReader(io.StringIO(long_csv(record))))


def test_one_row_per_day_item_and_version():
    record = make_record(seed=1)
    rows = _rows(record)
    assert len(rows) == len(record.versions) * len(ITEMS)
    keys = {(r["date"], r["item"], r["version"]) for r in rows}
    assert len(keys) == len(rows)


def test_correction_keeps_previous_value_in_history():
    record = make_record(seed=2)
    corrected = next(v for v in record.versions if v.kind.value == "correction")
    rows = [r for r in _rows(record) if r["date"] == corrected.day.isoformat() and r["item"] == "average_pain"]
    assert [(r["version"], r["kind"], r["current"]) for r in rows] == [
        ("1", "original", "0"),
        ("2", "correction", "1"),
    ]
    assert rows[1]["reason"] == corrected.reason
    assert int(rows[0]["value"]) == int(rows[1]["value"]) + 1


def test_void_rows_are_kept_with_reason_and_not_current():
    record = make_record(seed=3)
    voided = next(v for v in record.versions if v.kind.value == "void")
    rows = [r for r in _rows(record) if r["date"] == voided.day.isoformat()]
    void_rows = [r for r in rows if r["kind"] == "void"]
    assert len(void_rows) == len(ITEMS) and all(r["value"] == "" and r["reason"] for r in void_rows)
    assert all(r["current"] == "0" for r in rows)


def test_blinded_csv_has_no_arm_or_pack_grouping_and_does_not_depend_on_allocation():
    a = make_record(seed=4, sequence="ABABBABA")
    b = allocate(a, "BAABBAAB")
    assert not {"arm", "pack_set"} & set(_rows(a)[0])
    assert long_csv(a) == long_csv(b)
    assert {r["pack"] for r in _rows(a)} == {"", *map(str, range(1, 9))}


def test_every_row_carries_the_audit_head_and_the_simulated_flag():
    record = make_record(seed=6, audit_head=AUDIT_HEAD, simulated=True)
    assert long_columns(record)[-2:] == ("audit_head", "simulated")
    assert {(r["audit_head"], r["simulated"]) for r in _rows(record)} == {(AUDIT_HEAD, "1")}
    assert {(r["audit_head"], r["simulated"]) for r in _rows(make_record(seed=6))} == {("", "0")}


def test_unblinded_csv_has_the_arm(tmp_path):
    record = make_record(blinded=False, seed=5, sequence="ABABABAB")
    path = write_long_csv(record, tmp_path / "long.csv")
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    arms = {(r["period"], r["arm"]) for r in rows if r["period"]}
    assert ("1", "magnesium") in arms and ("2", "comparator") in arms
    assert list(rows[0])[6:8] == ["pack", "arm"]
