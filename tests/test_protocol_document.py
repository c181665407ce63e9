"""The SPENT 2019 protocol document: every item, from the trial record, never from the allocation."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from magtrial.core.allocation import Allocation, possible_sequences
from magtrial.report.protocol_doc import NA, protocol_items, render_protocol_html, render_protocol_pdf
from magtrial.service import amendments, trials

from .helpers import setup_clinic

# fmt: off
SPENT_2019 = [
    "1", "2a", "2b", "3", "4", "5a", "5b", "5c", "5d", "6a", "6b", "7", "8", "9", "10", "11a", "11b", "11c", "11d",
    "12", "13", "14", "15", "16a", "16b", "16c", "17a", "17b", "18a", "18b", "19", "20a", "20b", "20c", "21a", "21b",
    "22", "23", "24", "25", "26a", "26b", "27", "28", "29", "30", "31a", "31b", "31c", "32", "33",
]
# fmt: on
AT = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)


def test_every_spent_item_is_answered_in_order_and_not_applicable_says_why(clinician, running_trial):
    items = protocol_items(trials.record(clinician, running_trial.trial_id))
    assert [row["item"] for row in items] == SPENT_2019
    for row in items:
        assert row["text"].strip(), row
        if row["text"].startswith(NA):
            assert len(row["text"]) > len(NA) + 10, row  # a reason follows
    text = {row["item"]: row["text"] for row in items}
    assert "evidence.toml" in text["6a"] and "Pickering 2011" in text["6a"]  # background cites the evidence file
    assert "3 cycles of two periods (6 periods" in text["8"] and "run-in 3 days" in text["8"]
    assert running_trial.commitment in text["16b"] and "secrets" in text["16a"]
    assert "None so far" in text["25"]


def test_the_document_is_the_same_whichever_order_was_drawn(clinician, running_trial):
    record = trials.record(clinician, running_trial.trial_id)
    blinded = render_protocol_html(record, AT)
    for sequence in possible_sequences(record.protocol.design, record.protocol.cycles):
        unblinded = dataclasses.replace(record, allocation=Allocation(record.protocol.design, sequence, "ab" * 32))
        assert render_protocol_html(unblinded, AT) == blinded
    assert "magnesium, B =" not in blinded and "protocol-timeline" in blinded


def test_amendments_and_versions_appear_in_the_document(clinician, running_trial):
    amendments.amend(clinician, running_trial.trial_id, {"period_days": 10}, "slower response", add_cycles=1)
    text = {r["item"]: r["text"] for r in protocol_items(trials.record(clinician, running_trial.trial_id))}
    assert "slower response" in text["25"] and "period days 7 -> 10" in text["25"]
    assert "version 1: periods 1-2" in text["3"] and "version 2: periods 3-8" in text["3"]


def test_pdf_through_weasyprint(clinician, running_trial):
    pdf = render_protocol_pdf(trials.record(clinician, running_trial.trial_id), AT)
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


def test_cli_protocol_writes_pdf_and_html_and_amendment_commands(run, tmp_path):
    setup_clinic(run, tmp_path)
    start = (dt.date.today() - dt.timedelta(days=9)).isoformat()
    created = run(
        *[
            "trial",
            "create",
            "--participant",
            "P-9",
            "--condition",
            "crps-1",
            "--product",
            "Mg",
            "--salt",
            "citrate",
            "--elemental-mg",
            "100",
        ],
        *[
            "--units-per-day",
            "2",
            "--period-days",
            "7",
            "--cycles",
            "2",
            "--run-in-days",
            "2",
            "--age",
            "50",
            "--egfr",
            "85",
            "--start",
        ],
        start,
    )
    trial = re.search(r"Created trial (mt-[0-9a-f]+)", created.output).group(1)
    out = run("amendment", "add", trial, "--set", "product.units_per_day=3", "--add-cycles", "1", "--reason", "more")
    assert "from period 3" in out.output and "Added 1 cycle(s) from period 5" in out.output
    refused = run("amendment", "add", trial, "--set", "design=counterbalanced", "--reason", "x", ok=False)
    assert refused.exit_code != 0 and "cannot change from the next period" in refused.output
    assert "more" in run("amendment", "list", trial).output
    pdf, html, svg = tmp_path / "p.pdf", tmp_path / "p.html", tmp_path / "t.svg"
    run("trial", "protocol", trial, "--pdf", pdf, "--html", html)
    assert pdf.read_bytes().startswith(b"%PDF") and "SPENT 2019" in html.read_text()
    assert "16b Allocation concealment" in run("trial", "protocol", trial).output
    run("trial", "timeline", trial, "-o", svg)
    assert svg.read_text().startswith("<svg") and "pack 6" in svg.read_text()
