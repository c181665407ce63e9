"""The CLI as a user drives it (Typer's CliRunner, a real SQLite file in a temporary folder)."""

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest

from tests.helpers import setup_clinic

EXAMPLE = Path(__file__).parent.parent / "examples" / "trial.toml"


@pytest.fixture
def clinic(run, tmp_path):
    """dr-lee (first account), pharmacist ph-ann, and both unblinding keys, made through the CLI."""
    return setup_clinic(run, tmp_path)


def create(run, *extra):
    start = (dt.date.today() - dt.timedelta(days=9)).isoformat()
    result = run(
        "trial",
        "create",
        "--participant",
        "P-9",
        "--condition",
        "crps-1",
        "--product",
        "Mg citrate",
        "--salt",
        "citrate",
        "--elemental-mg",
        "100",
        "--units-per-day",
        "2",
        "--period-days",
        "7",
        "--cycles",
        "2",
        "--run-in-days",
        "2",
        "--start",
        start,
        "--age",
        "50",
        "--egfr",
        "85",
        *extra,
    )
    return re.search(r"Created trial (mt-[0-9a-f]+)", result.output).group(1), result


def test_create_show_today_and_diary_round_trip(run, clinic):
    trial, result = create(run)
    assert "Published commitment" in result.output
    shown = json.loads(run("trial", "show", trial, "--json").output)
    assert shown["status"] == "active" and "arm" not in json.dumps(shown["periods"])
    assert "take pack" in run("--user", "P-9", "trial", "today", trial).output
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    added = run(
        "--user",
        "P-9",
        "diary",
        "add",
        trial,
        "--date",
        yesterday,
        "--avg",
        "6",
        "--worst",
        "8",
        "--sleep",
        "3",
        "--side-effect",
        "nausea",
    ).output
    receipt = re.search(r"Receipt: (\d+:[0-9a-f]{64})", added).group(1)
    run("--user", "P-9", "diary", "correct", trial, "--date", yesterday, "--avg", "5", "--reason", "typo")
    history = run("diary", "list", trial, "--history").output
    assert "original" in history and "correction" in history and "typo" in history
    current = run("diary", "list", trial).output
    assert "nausea" in current and re.search(r"\b5\W+8\W+3\W", current)  # only the average changed
    run("--user", "P-9", "diary", "void", trial, "--date", yesterday, "--reason", "wrong day")
    assert "entered in error" in run("diary", "list", trial, "--history").output
    assert "holds the kept head" in run("audit", "verify", "--expect-head", receipt).output
    assert re.fullmatch(r"\d+:[0-9a-f]{64}\n", run("audit", "head").output)


def test_every_command_acts_as_an_existing_account(run, clinic):
    trial, _ = create(run)
    result = run("--user", "nobody", "trial", "list", ok=False)
    assert result.exit_code == 1 and "no account 'nobody'" in result.output
    assert trial not in run("--user", "ph-ann", "diary", "list", trial, ok=False).output
    assert "P-9" in run("user", "list").output
    refused = run("--user", "P-9", "user", "add", "dr-x", "--role", "clinician", ok=False)
    assert refused.exit_code == 1 and "patient may not add accounts" in refused.output


def test_pack_list_and_unblinding_need_a_key(run, clinic):
    trial, _ = create(run)
    result = run("--user", "ph-ann", "trial", "packs", trial, ok=False)
    assert result.exit_code != 0 and "--key" in result.output
    refused = run("trial", "packs", trial, "--key", clinic["emergency"], ok=False)
    assert refused.exit_code == 1 and "clinician may not open the allocation" in refused.output
    packs = run("--user", "ph-ann", "trial", "packs", trial, "--key", clinic["pharmacist"]).output
    assert packs.count("magnesium") == 2 and packs.count("comparator") == 2
    assert "allocation.view" in run("audit", "show", trial).output


def test_a_password_protected_account_needs_its_password(run, clinic, monkeypatch):
    monkeypatch.setenv("MAGTRIAL_PASSWORD", "a long enough password")
    run("user", "add", "dr-pw", "--role", "clinician", "--password")
    assert run("--user", "dr-pw", "trial", "list").exit_code == 0
    monkeypatch.setenv("MAGTRIAL_PASSWORD", "wrong password here")
    result = run("--user", "dr-pw", "trial", "list", ok=False)
    assert result.exit_code == 1 and "wrong password" in result.output


def test_create_from_the_example_toml_file(run, tmp_path, clinic):
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
        (["trial", "unblind", "{trial}", "--key", "{emergency}"], "needs a reason"),
        (["--user", "ph-ann", "diary", "add", "{trial}", "--avg", "5"], "pharmacist may not"),
        (["--user", "P-9", "trial", "packs", "{trial}", "--key", "{pharmacist}"], "patient may not"),
        (["--user", "P-9", "trial", "unblind", "{trial}", "--key", "{pharmacist}"], "patient may not"),
    ],
)
def test_bad_input_is_one_clear_line_non_zero_exit_and_stores_nothing(run, clinic, args, message):
    trial, _ = create(run)
    before = run("diary", "list", trial, "--history").output
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    result = run(*[a.format(trial=trial, future=future, **clinic) for a in args], ok=False)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert run("diary", "list", trial, "--history").output == before


def test_second_entry_for_a_day_is_refused(run, clinic):
    trial, _ = create(run)
    run("diary", "add", trial, "--avg", "4")
    result = run("diary", "add", trial, "--avg", "7", ok=False)
    assert result.exit_code == 1 and "already an entry" in result.output


def test_unblind_then_verify_and_offline_verify(run, clinic):
    trial, _ = create(run)
    commitment = json.loads(run("trial", "show", trial, "--json").output)["commitment"]
    assert "still blinded" in run("trial", "verify", trial).output
    out = run("trial", "unblind", trial, "--key", clinic["emergency"], "--reason", "end of study").output
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


def test_audit_verify_reports_intact_chain(run, clinic):
    create(run)
    assert "Audit chain intact" in run("audit", "verify").output


def test_demo_runs_end_to_end_on_its_own_database_with_keys(run, tmp_path):
    out = run("demo").output
    assert "Commitment verifies" in out and "Audit chain intact" in out and "emergency key" in out
    assert "pack 1 = " in out and re.search(r"Diary: \d+ of 119 days recorded", out)
    assert (tmp_path / "data" / "demo.sqlite3").exists() and not (tmp_path / "data" / "magtrial.sqlite3").exists()


def test_blocked_regimen_cannot_start_and_nothing_is_stored(run, clinic):
    result = run(
        "trial",
        "create",
        "--participant",
        "P-1",
        "--condition",
        "crps-1",
        "--product",
        "Mg",
        "--salt",
        "oxide",
        "--elemental-mg",
        "241",
        "--age",
        "70",
        "--egfr",
        "25",
        ok=False,
    )
    assert result.exit_code == 1 and "blocked" in result.output and "renal-severe" in result.output
    assert "mt-" not in run("trial", "list").output


def test_needs_clinician_requires_acknowledgement_recorded_in_audit(run, clinic):
    args = [
        "trial",
        "create",
        "--participant",
        "P-2",
        "--condition",
        "crps-1",
        "--product",
        "Mg",
        "--salt",
        "citrate",
        "--elemental-mg",
        "100",
        "--age",
        "66",
        "--egfr",
        "45",
    ]
    refused = run(*args, ok=False)
    assert refused.exit_code == 1 and "--clinician-ack" in refused.output
    created = run(*args, "--clinician-ack").output
    trial = re.search(r"Created trial (mt-[0-9a-f]+)", created).group(1)
    assert "acknowledged by the clinician" in created
    assert "safety.acknowledge" in run("audit", "show", trial).output


def test_stop_symptom_in_diary_raises_prominent_warning_and_flags_trial(run, clinic):
    trial, _ = create(run)
    out = run("--user", "P-9", "diary", "add", trial, "--avg", "5", "--side-effect", "muscle-weakness").output
    assert "STOP and seek care" in out
    flags = json.loads(run("trial", "show", trial, "--json").output)["flags"]
    assert len(flags) == 1 and "muscle weakness" in flags[0].lower()


def test_diarrhoea_on_two_days_of_a_period_suggests_a_lower_dose(run, clinic):
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
    assert "unblinded (simulated)" in run("--db", url, "--user", "demo-clinician", "trial", "list").output


def test_audit_verify_command_names_a_row_edited_with_raw_sql(run, tmp_path, clinic):
    import sqlite3

    trial, _ = create(run)
    run("diary", "add", trial, "--avg", "4")
    with sqlite3.connect(tmp_path / "data" / "magtrial.sqlite3") as conn:
        conn.execute(
            'UPDATE diary_versions SET "values" = replace("values", \'"average_pain": 4\', \'"average_pain": 1\')'
        )
    result = run("audit", "verify", ok=False)
    assert result.exit_code == 2 and "average_pain differ" in result.output
    with sqlite3.connect(tmp_path / "data" / "magtrial.sqlite3") as conn:
        conn.execute("UPDATE audit_events SET reason = 'nothing to see' WHERE seq = 2")
    result = run("audit", "verify", ok=False)
    assert result.exit_code == 2 and "row 2 was edited" in result.output
