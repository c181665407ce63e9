"""``magtrial safety`` through the real root app: flags, a TOML file, salts, exit codes, errors."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from magtrial.cli.main import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["safety", *args])


def test_check_with_flags_prints_dose_findings_and_timetable():
    result = run(
        "check",
        "--age",
        "45",
        "--egfr",
        "80",
        "--salt",
        "oxide",
        "--salt-mg",
        "400",
        "--doses-per-day",
        "2",
        "--med",
        "gabapentin@08:00,20:00",
    )
    assert result.exit_code == 0, result.output
    assert "Verdict: caution" in result.output
    assert "241.2" in result.output  # 400 mg MgO x 60.3 %
    assert "drug-gabapentin" in result.output and "dose-within-ul" in result.output
    assert "08:15" in result.output and "22:00" in result.output  # the two proposed dose times
    assert "doi:10.17226/5776" in result.output  # sources printed as citations (tests/test_safety_citations.py)


def test_check_with_a_toml_file(tmp_path):
    path = tmp_path / "person.toml"
    path.write_text(
        """
jurisdiction = "EU"
[person]
age = 54
sex = "female"
egfr = 45
[[product]]
name = "Mag citrate"
salt = "citrate"
hydrate = "anhydrous"
salt_mg_per_unit = "500 mg"
units_per_day = 2
doses_per_day = 2
[[product]]
name = "Mg oil"
salt = "chloride"
route = "transdermal-oil"
[[medication]]
name = "levothyroxine"
times = ["07:00"]
""",
        encoding="utf-8",
    )
    result = run("check", "--file", str(path))
    assert result.exit_code == 10, result.output  # needs clinician: eGFR 45
    assert "Verdict: needs-clinician" in result.output
    assert "renal-moderate" in result.output and "dose-transdermal-not-counted" in result.output
    assert "162 mg/day" in result.output and "EU upper limit for supplements: 250 mg/day" in result.output


def test_blocked_regimen_exits_11():
    result = run("check", "--age", "60", "--egfr", "25", "--salt", "citrate", "--elemental-mg", "200")
    assert result.exit_code == 11
    assert "Verdict: blocked" in result.output and "renal-severe" in result.output


def test_transdermal_cream_at_any_dose_is_ok():
    result = run(
        "check",
        "--age",
        "40",
        "--egfr",
        "90",
        "--salt",
        "chloride",
        "--elemental-mg",
        "5000",
        "--units-per-day",
        "10",
        "--route",
        "transdermal-cream",
    )
    assert result.exit_code == 0, result.output
    assert "Total oral elemental magnesium: 0 mg/day" in result.output


def test_salts_lists_fractions_with_sources():
    result = run("salts")
    assert result.exit_code == 0
    for text in ("oxide", "60.3", "hexahydrate", "12.0", "heptahydrate", "9.9", "l-threonate", "openFDA"):
        assert text in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--age", "200", "--salt", "oxide", "--salt-mg", "400"], "Error: age must be 0-120 years"),
        (["--age", "50", "--egfr", "900", "--salt", "oxide", "--salt-mg", "400"], "Error: eGFR must be 0-200"),
        (["--age", "50", "--salt", "oxide", "--salt-mg", "-400"], "Error: "),
        (["--age", "50", "--salt", "oxide", "--salt-mg", "400 grains"], "Error: unknown unit 'grains'"),
        (["--age", "50", "--salt", "unobtainium", "--salt-mg", "400"], "Error: unknown magnesium salt 'unobtainium'"),
        (["--age", "50", "--salt", "oxide", "--salt-mg", "400", "--med", "gabapentin@8am"], "Error: "),
        (["--age", "50", "--salt", "oxide", "--salt-mg", "400", "--jurisdiction", "UK"], "Error: jurisdiction"),
        (["--age", "50"], "Error: give --salt"),
    ],
)
def test_bad_input_exits_1_with_a_one_line_message(args, message):
    result = run("check", *args)
    assert result.exit_code == 1
    assert result.output.startswith(message)
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_file_and_person_flags_cannot_be_mixed(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('[person]\nage = 40\n[[product]]\nname = "x"\nsalt = "oxide"\nsalt_mg_per_unit = 400\n')
    result = run("check", "--file", str(path), "--age", "50")
    assert result.exit_code == 1 and "cannot be combined" in result.output


def test_person_flags_for_pregnancy_dialysis_and_conditions():
    result = run(
        "check",
        "--age",
        "30",
        "--sex",
        "female",
        "--pregnant",
        "--dialysis",
        "--condition",
        "heart block",
        "--condition",
        "asthma",
        "--salt",
        "oxide",
        "--salt-mg",
        "400",
    )
    assert result.exit_code == 11
    for rule_id in ("renal-dialysis", "condition-heart-block", "life-pregnancy", "condition-unlisted"):
        assert rule_id in result.output


# --- exit codes, --json, help (issue 12) ---------------------------------------------------------------

EXIT_CASES = [  # (args, exit code, verdict or None for an input error); 2 is reserved for click's usage errors
    (["--age", "45", "--egfr", "80", "--salt", "oxide", "--salt-mg", "400"], 0, "ok"),
    (["--age", "45", "--egfr", "80", "--salt", "oxide", "--salt-mg", "400", "--med", "gabapentin@08:00"], 0, "caution"),
    (["--age", "45", "--egfr", "45", "--salt", "oxide", "--salt-mg", "400"], 10, "needs-clinician"),
    (
        ["--age", "45", "--egfr", "80", "--salt", "oxide", "--salt-mg", "400", "--condition", "asthma"],
        10,
        "needs-clinician",
    ),
    (["--age", "45", "--egfr", "20", "--salt", "oxide", "--salt-mg", "400"], 11, "blocked"),
    (["--age", "45", "--salt", "oxide", "--salt-mg", "400", "--condition", "haemodialysis"], 11, "blocked"),
    (["--age", "45", "--salt", "oxide", "--elemental-mg", "24 g"], 1, None),
    (["--age", "45", "--salt", "unobtainium", "--salt-mg", "400"], 1, None),
]


@pytest.mark.parametrize(("args", "code", "verdict"), EXIT_CASES)
def test_exit_codes_are_distinct_from_usage_errors(args, code, verdict):
    result = run("check", *args)
    assert result.exit_code == code, result.output
    if verdict:
        assert f"Verdict: {verdict}" in result.output


def test_usage_error_exits_2_and_is_not_a_verdict():
    result = run("check", "--age", "45", "--salt", "oxide", "--salt-mg", "400", "--no-such-option")
    assert result.exit_code == 2
    assert "Verdict" not in result.output


@pytest.mark.parametrize(("args", "code", "verdict"), EXIT_CASES)
def test_json_output_carries_verdict_findings_and_exit_code(args, code, verdict):
    import json

    result = run("check", *args, "--json")
    assert result.exit_code == code, result.output
    data = json.loads(result.stdout)
    assert data["schema"] == "magtrial.safety-check/1" and data["exit_code"] == code
    if verdict is None:
        assert data["error"] and "verdict" not in data
        return
    assert data["verdict"] == verdict
    assert data["may_start"] is (verdict != "blocked")
    assert data["needs_acknowledgement"] is (verdict == "needs-clinician")
    assert all({"rule_id", "level", "message", "source"} <= set(f) for f in data["findings"])
    assert data["products"][0]["salt"] in ("oxide",)


def test_json_lists_how_each_condition_was_read_with_its_codes():
    import json

    result = run(
        "check",
        "--age",
        "45",
        "--egfr",
        "80",
        "--salt",
        "oxide",
        "--salt-mg",
        "400",
        "--json",
        "--condition",
        "CKD stage 3b",
        "--condition",
        "N18.4",
        "--condition",
        "gout",
    )
    data = json.loads(result.stdout)
    read = {c["text"]: c for c in data["conditions"]}
    assert read["CKD stage 3b"]["concept"] == "ckd-stage-3" and read["CKD stage 3b"]["rule_id"] == "renal-moderate"
    assert read["N18.4"]["via"] == "code" and read["N18.4"]["concept"] == "ckd-stage-4"
    assert {"system": "http://snomed.info/sct", "code": "431857002"}.items() <= read["N18.4"]["codes"][0].items()
    assert read["gout"]["recognised"] is False
    assert data["verdict"] == "blocked" and result.exit_code == 11


def test_help_documents_every_exit_code_and_keeps_toml_table_names():
    result = run("check", "--help")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for line in ("0 ok or caution", "1 input refused", "2 usage error", "10 needs clinician", "11 blocked"):
        assert line in text
    assert "[person]" in text and "[[product]]" in text and "[[medication]]" in text


def test_trial_create_help_keeps_toml_table_names():
    result = runner.invoke(app, ["trial", "create", "--help"])
    text = " ".join(result.output.split())
    assert "[product]" in text and "[person]" in text and "[[medication]]" in text


def test_exit_code_table_matches_the_code():
    from magtrial.cli.safety import EXIT_CODES, check
    from magtrial.core.safety import Level

    assert set(EXIT_CODES.values()).isdisjoint({1, 2})  # never an input or usage error
    for level, code in EXIT_CODES.items():
        if level is not Level.STOP:
            assert f"{code} " in check.__doc__ or code == 0
