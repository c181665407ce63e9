"""``magtrial analyze`` and ``magtrial plan`` as a user runs them (CliRunner, a real SQLite file)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from tests.helpers import run_demo, setup_clinic


def test_plan_prints_power_per_number_of_cycles(run):
    out = run("plan", "--trials", "400", "--cycles", "2,4", "--effect", "-2").output
    assert "Design simulation" in out and "4 cycles (16 weeks)" in out
    rows = json.loads(run("plan", "--trials", "400", "--cycles", "2,4", "--effect", "-2", "--json").output)
    assert [r["cycles"] for r in rows] == [2, 4]
    assert rows[0]["power_interval"] < rows[1]["power_interval"]


@pytest.mark.parametrize(
    "args,message",
    [
        (["--cycles", "two"], "--cycles"),
        (["--rho", "1.5"], "autocorrelation"),
        (["--design", "counterbalanced", "--cycles", "3"], "even number"),
    ],
)
def test_plan_bad_input_is_one_clear_line(run, args, message):
    result = run("plan", "--trials", "100", *args, ok=False)
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_analyze_a_completed_demo_trial(run, tmp_path):
    trial, run, _ = run_demo(run, tmp_path)
    out = run("analyze", trial).output
    assert "magnesium minus comparator" in out and "Per pack" in out and "not proof" in out
    data = json.loads(run("analyze", trial, "--json", "--outcome", "worst_pain", "--mcid", "30%-run-in").output)
    assert data["outcome"] == "worst_pain" and data["mcid_rule"].startswith("30% of mean run-in")
    assert data["effect"]["lower"] < data["effect"]["mean"] < data["effect"]["upper"]
    assert data["randomization_test"]["min_p_one_sided"] == 1 / 16


def test_analyze_refuses_a_blinded_trial_and_one_without_diary_days(run, tmp_path):
    keys = setup_clinic(run, tmp_path)
    start = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    created = run(
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
    ).output
    trial = re.search(r"Created trial (mt-[0-9a-f]+)", created).group(1)
    result = run("analyze", trial, ok=False)
    assert result.exit_code == 1 and "after unblinding" in result.output
    run("trial", "unblind", trial, "--key", keys["emergency"], "--reason", "participant withdrew")
    result = run("analyze", trial, ok=False)
    assert result.exit_code == 1 and "at least 6 diary days" in result.output
    result = run("analyze", trial, "--outcome", "mood", ok=False)
    assert result.exit_code == 1 and "outcome must be one of" in result.output
