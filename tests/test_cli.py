"""The CLI as a user drives it (Typer's CliRunner, a real SQLite file in a temporary folder)."""

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parent.parent / "examples" / "trial.toml"



def create(run, *extra):
    start = (dt.date.today() - dt.timedelta(days=9)).isoformat()
    result = run("trial", "create", "--participant", "P-9", "--condition", "crps-1", "--product", "Mg citrate",
                 "--salt", "citrate", "--elemental-mg", "100", "--units-per-day", "2", "--period-days", "7",
                 "--cycles", "2", "--run-in-days", "2", "--start", start, "--age", "50", "--egfr", "85", *extra)
    return re.search(r"Created trial (mt-[0-9a-f]+)", result.output).group(1), result


def test_create_show_today_and_diary_round_trip(run):
    trial, result = create(run)
    assert "Published commitment" in result.output
    shown = json.loads(run("trial", "show", trial, "--json").output)
    assert shown["status"] == "active" and "arm" not in json.dumps(shown["periods"])
    assert "take pack" in run("trial", "today", trial).output
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    run("diary", "add", trial, "--date", yesterday, "--avg", "6", "--worst", "8", "--sleep", "3")
    run("diary", "correct", trial, "--date", yesterday, "--avg", "5", "--worst", "8", "--reason", "typo")
    history = run("diary", "list", trial, "--history").output
    assert "original" in history and "correction" in history and "typo" in history
    run("diary", "void", trial, "--date", yesterday, "--reason", "wrong day")
    assert "entered in error" in run("diary", "list", trial, "--history").output


def test_create_from_the_example_toml_file(run, tmp_path):
    path = tmp_path / "trial.toml"
    shutil.copy(EXAMPLE, path)
    result = run("trial", "create", "--file", path)
    assert "Created trial" in result.output and "P-017" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["diary", "add", "{trial}", "--avg", "11"], "average pain must be 0-10"),
        (["diary", "add", "{trial}", "--avg", "5", "--date", "{future}"], "in the future"),
        (["diary", "add", "mt-unknown", "--avg", "5"], "no trial 'mt-unknown'"),
        (["diary", "add", "{trial}", "--avg", "5", "--date", "03/04/2026"], "must be YYYY-MM-DD"),
        (["diary", "add", "{trial}", "--avg", "5", "--dose", "double"], "full, partial or none"),
        (["trial", "unblind", "{trial}"], "needs a reason"),
        (["--role", "pharmacist", "diary", "add", "{trial}", "--avg", "5"], "pharmacist may not"),
        (["--role", "patient", "trial", "packs", "{trial}"], "patient may not"),
    ],
)
def test_bad_input_is_one_clear_line_non_zero_exit_and_stores_nothing(run, args, message):
    trial, _ = create(run)
    before = run("diary", "list", trial, "--history").output
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    result = run(*[a.format(trial=trial, future=future) for a in args], ok=False)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert run("diary", "list", trial, "--history").output == before


def test_second_entry_for_a_day_is_refused(run):
    trial, _ = create(run)
    run("diary", "add", trial, "--avg", "4")
    result = run("diary", "add", trial, "--avg", "7", ok=False)
    assert result.exit_code == 1 and "already an entry" in result.output


def test_unblind_then_verify_and_offline_verify(run):
    trial, _ = create(run)
    commitment = json.loads(run("trial", "show", trial, "--json").output)["commitment"]
    assert "still blinded" in run("trial", "verify", trial).output
    out = run("trial", "unblind", trial, "--reason", "end of study").output
    sequence = re.search(r"sequence ([AB]+)", out).group(1)
    assert "Commitment verifies" in out
    verified = run("trial", "verify", trial).output
    assert "Commitment verifies." in verified
    salt = re.search(r"salt ([0-9a-f]{64})", verified).group(1)
    offline = run("trial", "verify", trial, "--commitment", commitment, "--sequence", sequence, "--salt", salt)
    assert "Commitment verifies." in offline.output
    flipped = sequence.translate(str.maketrans("AB", "BA"))
    bad = run("trial", "verify", trial, "--commitment", commitment, "--sequence", flipped, "--salt", salt, ok=False)
    assert bad.exit_code == 2 and "does NOT verify" in bad.output


def test_audit_verify_reports_intact_chain(run):
    create(run)
    assert "Audit chain intact" in run("audit", "verify").output


def test_demo_runs_end_to_end(run):
    out = run("demo").output
    assert "Commitment verifies" in out and "Audit chain intact" in out
    assert re.search(r"Diary: \d+ of 119 days recorded", out)


def test_blocked_regimen_cannot_start_and_nothing_is_stored(run):
    result = run("trial", "create", "--participant", "P-1", "--condition", "crps-1", "--product", "Mg", "--salt",
                 "oxide", "--elemental-mg", "241", "--age", "70", "--egfr", "25", ok=False)
    assert result.exit_code == 1 and "blocked" in result.output and "renal-severe" in result.output
    assert "mt-" not in run("trial", "list").output


def test_needs_clinician_requires_acknowledgement_recorded_in_audit(run):
    args = ["trial", "create", "--participant", "P-2", "--condition", "crps-1", "--product", "Mg", "--salt",
            "citrate", "--elemental-mg", "100", "--age", "66", "--egfr", "45"]
    refused = run(*args, ok=False)
    assert refused.exit_code == 1 and "--clinician-ack" in refused.output
    created = run(*args, "--clinician-ack").output
    trial = re.search(r"Created trial (mt-[0-9a-f]+)", created).group(1)
    assert "acknowledged by the clinician" in created
    assert "safety.acknowledge" in run("audit", "show", trial).output


def test_stop_symptom_in_diary_raises_prominent_warning_and_flags_trial(run):
    trial, _ = create(run)
    out = run("diary", "add", trial, "--avg", "5", "--side-effect", "muscle-weakness").output
    assert "STOP and seek care" in out
    flags = json.loads(run("trial", "show", trial, "--json").output)["flags"]
    assert len(flags) == 1 and "muscle weakness" in flags[0].lower()


def test_diarrhoea_on_two_days_of_a_period_suggests_a_lower_dose(run):
    trial, _ = create(run)  # run-in 2 days, then 7-day periods: days 3-9 before today are period 1
    days = [(dt.date.today() - dt.timedelta(days=d)).isoformat() for d in (6, 5)]
    first = run("diary", "add", trial, "--date", days[0], "--avg", "4", "--side-effect", "diarrhoea").output
    assert "lower dose" not in first.lower()
    second = run("diary", "add", trial, "--date", days[1], "--avg", "4", "--side-effect", "diarrhoea").output
    assert "caution" in second and "dose" in second.lower() and "STOP" not in second


@pytest.mark.postgres
def test_the_same_cli_runs_on_postgresql(run, postgres_server):
    url = postgres_server.fresh_database()
    out = run("--db", url, "demo").output
    assert "postgresql" in out and "Commitment verifies" in out and "Audit chain intact" in out
    assert "unblinded" in run("--db", url, "trial", "list").output


def test_audit_verify_command_names_a_row_edited_with_raw_sql(run, tmp_path):
    import sqlite3

    trial, _ = create(run)
    run("diary", "add", trial, "--avg", "4")
    with sqlite3.connect(tmp_path / "data" / "magtrial.sqlite3") as conn:
        conn.execute("UPDATE audit_events SET reason = 'nothing to see' WHERE seq = 2")
    result = run("audit", "verify", ok=False)
    assert result.exit_code == 2 and "row 2 was edited" in result.output
