"""``magtrial report``, ``export`` and ``reminders`` as a user runs them (CliRunner, real SQLite file)."""

import datetime as dt
import json
import re

import icalendar
from fhir.resources.R4B.bundle import Bundle

from tests.helpers import run_demo, setup_clinic


def test_finished_demo_trial_reports_and_exports_every_format(run, tmp_path):
    trial, run, _ = run_demo(run, tmp_path)
    run("report", trial, "--format", "pdf", "-o", tmp_path / "r.pdf")
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")
    run("report", trial, "--format", "html", "-o", tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text()
    assert "Verified:" in html and 'id="chart-posterior"' in html and "Safety check" in html
    assert "SIMULATED DATA — not a real participant" in html  # the demo is simulated, and says so
    assert re.search(
        r"Check this record later with <code>magtrial audit verify --expect-head \d+:[0-9a-f]{64}</code>", html
    )
    assert 'id="chart-forest"' in html and "Pooled 1 unblinded N-of-1 trials" not in html  # demo data never pooled
    run("export", trial, "--format", "fhir", "-o", tmp_path / "b.json")
    bundle = Bundle.model_validate_json((tmp_path / "b.json").read_text())
    assert bundle.identifier.system == "urn:magtrial:audit-head" and [t.code for t in bundle.meta.tag] == ["HTEST"]
    assert any(e.resource.get_resource_type() == "ResearchSubject" and e.resource.assignedArm for e in bundle.entry)
    run("export", trial, "--format", "csv", "-o", tmp_path / "long.csv")
    assert (tmp_path / "long.csv").read_text().startswith("trial_id,participant,date")
    out = run("export", trial, "--format", "redcap", "-o", tmp_path / "redcap").output
    assert "redcap_dictionary.csv" in out and len(list((tmp_path / "redcap").iterdir())) == 2
    run("reminders", trial, "-o", tmp_path / "r.ics", "--diary-time", "21:00")
    cal = icalendar.Calendar.from_ical((tmp_path / "r.ics").read_bytes())
    assert dt.time(21) in {e["DTSTART"].dt.time() for e in cal.walk("VEVENT") if "RRULE" in e}


def test_running_trial_gives_a_blinded_report_without_an_estimate(run, tmp_path):
    setup_clinic(run, tmp_path)
    start = (dt.date.today() - dt.timedelta(days=9)).isoformat()
    out = run(
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
    trial = re.search(r"Created trial (mt-[0-9a-f]+)", out).group(1)
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    run("--user", "P-9", "diary", "add", trial, "--date", yesterday, "--avg", "6", "--worst", "8", "--sleep", "3")
    result = run("report", trial, "--format", "html", "-o", tmp_path / "r.html")
    assert "Report (blinded)" in result.output
    html = (tmp_path / "r.html").read_text()
    assert "not shown (blinded)" in html and "No effect estimate while blinded" in html
    assert "--expect-head" in html and "SIMULATED" not in html
    assert "<h3>Published trials</h3>" in html and "Pooled N-of-1" not in html  # nothing unblinded to pool
    run("report", trial, "--no-evidence", "-o", tmp_path / "bare.html")
    assert 'id="evidence"' not in (tmp_path / "bare.html").read_text()
    run("export", trial, "--format", "fhir", "-o", tmp_path / "b.json")
    subject = next(
        e["resource"]
        for e in json.loads((tmp_path / "b.json").read_text())["entry"]
        if e["resource"]["resourceType"] == "ResearchSubject"
    )
    assert "assignedArm" not in subject


def test_unknown_format_and_bad_time_are_one_line_errors(run, tmp_path):
    assert run("export", "mt-x", "--format", "xml", "-o", tmp_path / "x", ok=False).exit_code != 0
    result = run("reminders", "mt-nope", "-o", tmp_path / "r.ics", ok=False)
    assert result.exit_code == 1 and "Traceback" not in result.output
