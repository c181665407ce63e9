"""REDCap flat file and data dictionary: the files a REDCap project can be built from and import."""

import csv
import io
import re

from magtrial.export.redcap import (
    DICTIONARY_COLUMNS,
    data_columns,
    redcap_data_csv,
    redcap_dictionary_csv,
    write_redcap,
)
from tests.record_factory import AUDIT_HEAD, allocate, make_record


def _read(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_dictionary_has_the_redcap_columns_and_valid_names():
    record = make_record(seed=1)
    rows = _read(redcap_dictionary_csv(record))
    assert tuple(rows[0]) == DICTIONARY_COLUMNS
    assert rows[0]["Variable / Field Name"] == "record_id"
    for row in rows:
        assert re.fullmatch(r"[a-z][a-z0-9_]{0,25}", row["Variable / Field Name"])
        assert re.fullmatch(r"[a-z][a-z0-9_]*", row["Form Name"])
        for choice in filter(None, row["Choices, Calculations, OR Slider Labels"].split(" | ")):
            assert re.fullmatch(r"[A-Za-z0-9_]+", choice.split(",")[0])


def test_every_data_column_is_defined_in_the_dictionary():
    record = make_record(blinded=False, seed=2)
    fields = {r["Variable / Field Name"]: r for r in _read(redcap_dictionary_csv(record))}
    for col in data_columns(record):
        base = col.split("___")[0]
        assert (
            base in fields or col in {"redcap_repeat_instrument", "redcap_repeat_instance"} or col.endswith("_complete")
        ), col


def test_one_repeating_row_per_current_day_with_checkbox_columns(tmp_path):
    record = make_record(seed=3)
    data, dictionary = write_redcap(record, tmp_path)
    rows = _read(data.read_text())
    diary = [r for r in rows if r["redcap_repeat_instrument"] == "daily_diary"]
    assert len(diary) == len(record.current())
    assert [int(r["redcap_repeat_instance"]) for r in diary] == list(range(1, len(diary) + 1))
    assert rows[0]["trial_id"] == record.trial_id and rows[0]["redcap_repeat_instrument"] == ""
    day = next(d for d, v in record.current().items() if v.values.side_effects)
    row = next(r for r in diary if r["diary_date"] == day.isoformat())
    assert row["side_effects___diarrhoea"] == "1"
    assert dictionary.exists()


def test_blinded_redcap_files_have_no_arm_and_do_not_depend_on_allocation():
    a = make_record(seed=4, sequence="BAABABBA", commitment_override="c" * 64)
    b = allocate(a, "ABABABAB", commitment_override="c" * 64)
    assert redcap_data_csv(a) == redcap_data_csv(b)
    assert redcap_dictionary_csv(a) == redcap_dictionary_csv(b)
    assert not {"arm", "pack_set", "allocation_sequence"} & set(data_columns(a))
    assert "magnesium, Magnesium" not in redcap_dictionary_csv(a)


def test_trial_form_carries_the_audit_head_and_the_simulated_flag():
    record = make_record(seed=5, audit_head=AUDIT_HEAD, simulated=True)
    fields = {r["Variable / Field Name"]: r for r in _read(redcap_dictionary_csv(record))}
    assert fields["audit_head"]["Form Name"] == fields["simulated"]["Form Name"] == "trial"
    assert fields["simulated"]["Field Type"] == "yesno"
    assert "--expect-head" in fields["audit_head"]["Field Note"]
    trial = _read(redcap_data_csv(record))[0]
    assert (trial["audit_head"], trial["simulated"]) == (AUDIT_HEAD, "1")
    assert _read(redcap_data_csv(make_record(seed=5)))[0]["simulated"] == "0"
