"""Sources shown to clinicians read as citations they can follow, never as our research notes.

Every safety rule's source (printed by ``magtrial safety check`` and listed in the clinician report beside each
finding) and every evidence source must name a reference someone can look up (a DOI or a link), or say plainly
that it is a calculation, a product label or one of magtrial's own rules. Notes such as "D4: ...", "issue 4" or
"[read, partial]" stay in the TOML comments for maintainers.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import magtrial.data
from magtrial.cli.main import app
from magtrial.core.protocol import Product, Route
from magtrial.core.safety import Medication, Person, check_regimen
from magtrial.data.safety import load_safety_rules
from magtrial.report.build import safety_section

RULES = load_safety_rules()
INTERNAL_NOTE = re.compile(
    r"\bD\d\b|\[(read|secondary|verified|unverified)|\bissue \d|research file|/home/|/work/|"
    r"rxreasoner|iahf\.com|Gale list|pharmacistanswers|vazzello|medpill|droracle|GoodRx",
    re.IGNORECASE,
)
# A DOI, a link, a journal reference (year;volume), or plainly a calculation, a label or our own rule.
FOLLOWABLE = re.compile(r"doi:10\.|https://|\b(19|20)\d\d;\d+|^Calculated from|^Product label|^magtrial rule")


def _shown_sources() -> list[tuple[str, str]]:
    return list(RULES.rows())


def test_internal_note_pattern_catches_the_notes_it_replaced():
    old = "D4: FDA gabapentin label s7.3 'at least 2 hours following' antacid [read, partial]"
    assert INTERNAL_NOTE.search(old) and INTERNAL_NOTE.search("Issue 4 (pregnancy needs a clinician)")
    assert not INTERNAL_NOTE.search("Institute of Medicine. Dietary Reference Intakes. 1997. doi:10.17226/5776")


def test_no_safety_source_is_an_internal_note():
    rows = _shown_sources()
    assert len(rows) > 80
    assert [(rule, source) for rule, source in rows if INTERNAL_NOTE.search(source)] == []


def test_every_safety_source_can_be_followed():
    for rule, source in _shown_sources():
        for part in source.split("; "):
            assert FOLLOWABLE.search(part) or part.startswith(("Stockley's", "MIMS")), (rule, part)


def test_citations_name_authors_or_body_title_and_year():
    text = " ".join(source for _, source in _shown_sources())
    assert "Institute of Medicine. Dietary Reference Intakes" in text and "doi:10.17226/5776" in text
    assert "Kass L, Rosanoff A" in text and "doi:10.1371/journal.pone.0174817" in text
    assert "Evidence summary ESUOM4, 2013" in text


def test_evidence_sources_are_not_internal_notes():
    text = (Path(magtrial.data.__file__).parent / "evidence.toml").read_text()
    shown = re.findall(r'^(?:source|citation|source_note) = "(.*)"$', text, re.MULTILINE)
    assert shown and [s for s in shown if INTERNAL_NOTE.search(s)] == []


@pytest.fixture(scope="module")
def many_findings():
    """A regimen that trips dose, kidney, age, interaction and spacing rules at once."""
    product = Product(
        name="Mg oxide", route=Route.ORAL, salt="oxide", salt_mg_per_unit=800, units_per_day=1, doses_per_day=1
    )
    meds = [
        Medication("gabapentin", (dt.time(8), dt.time(20))),
        Medication("levothyroxine", (dt.time(7),)),
        Medication("furosemide", (dt.time(9),)),
        Medication("digoxin", (dt.time(9),)),
    ]
    return check_regimen(Person(age=16, egfr=45, pregnant=True), [product], meds, "EU", rules=RULES)


def test_clinician_report_lists_no_internal_note(many_findings):
    rows = safety_section(many_findings)["findings"]
    assert len(rows) >= 5
    assert [r["source"] for r in rows if INTERNAL_NOTE.search(r["source"]) or not r["source"]] == []


def test_safety_check_command_prints_citations_not_notes():
    result = CliRunner().invoke(
        app,
        ["safety", "check", "--age", "45", "--egfr", "45", "--salt", "oxide", "--salt-mg", "400"]
        + ["--med", "gabapentin@08:00,20:00", "--med", "levothyroxine@07:00"],
    )
    assert result.exit_code in (0, 10), result.output
    assert "doi:10.17226/5776" in result.output and "Neurontin (gabapentin)" in result.output
    assert INTERNAL_NOTE.search(result.output) is None, INTERNAL_NOTE.search(result.output)
