"""Clinician report (PDF): rendered by WeasyPrint, then read back with poppler's pdftotext and pdftoppm.

Needs poppler-utils (``apt-get install poppler-utils``); CI installs it, and these tests fail, not
skip, when it is missing.
"""

import datetime as dt
import shutil
import subprocess

import numpy as np
import pytest

from magtrial.core.analysis import analyze
from magtrial.report.render import render_pdf
from tests.record_factory import AUDIT_HEAD, allocate, make_record

WHEN = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} not found: install poppler-utils (apt-get install poppler-utils)")
    return path


def pdf_text(pdf: bytes, page: int | None = None) -> str:
    args = [_tool("pdftotext"), "-layout"] + (["-f", str(page), "-l", str(page)] if page else []) + ["-", "-"]
    return subprocess.run(args, input=pdf, capture_output=True, check=True).stdout.decode()


def page_png(pdf: bytes, page: int, tmp_path) -> np.ndarray:
    from matplotlib.image import imread

    prefix = tmp_path / "page"
    subprocess.run(
        [_tool("pdftoppm"), "-png", "-r", "50", "-f", str(page), "-l", str(page), "-singlefile", "-", str(prefix)],
        input=pdf,
        check=True,
    )
    return imread(str(prefix) + ".png")


def page_count(pdf: bytes) -> int:
    return pdf_text(pdf).count("\f")


@pytest.fixture(scope="module")
def unblinded_pdf():
    record = make_record(blinded=False, seed=11, audit_head=AUDIT_HEAD)
    return record, render_pdf(record, analysis=analyze(record), generated_at=WHEN)


@pytest.fixture(scope="module")
def blinded_pdf():
    record = make_record(blinded=True, seed=11)
    return record, render_pdf(record, generated_at=WHEN)


def test_pdf_is_a_multi_page_pdf_with_the_key_numbers(unblinded_pdf):
    record, pdf = unblinded_pdf
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    result = analyze(record)
    assert f"{result.effect.mean:+.2f}" in text
    assert f"{result.randomization.p_lower:.4f}" in text
    assert record.trial_id in text and record.participant in text
    assert "Reporting checklist (CENT 2015" in text
    assert page_count(pdf) >= 3


def test_pdf_chart_page_has_the_chart_drawn(blinded_pdf, tmp_path):
    _, pdf = blinded_pdf
    page = next(n for n in range(1, page_count(pdf) + 1) if "Daily pain" in pdf_text(pdf, n))
    text = pdf_text(pdf, page)
    assert "pain (0-10)" in text and "pack 8" in text  # the chart's axis and period labels, as vector text
    assert "set X" not in text and "magnesium" not in text.split("Daily pain")[1]
    rgb = page_png(pdf, page, tmp_path)[..., :3]
    coloured = (rgb.max(axis=2) - rgb.min(axis=2)) > 0.06  # shading and lines; body text is grey
    assert coloured.mean() > 0.05
    rows = np.flatnonzero(coloured.mean(axis=1) > 0.3)  # a wide coloured block: the shaded chart area
    assert rows.size > 0.1 * rgb.shape[0]


def test_blinded_pdf_text_is_identical_whichever_order_was_drawn():
    a = make_record(blinded=True, seed=12, sequence="ABABBAAB", commitment_override="c" * 64)
    b = allocate(a, "BABAABBA", commitment_override="c" * 64)
    text_a = pdf_text(render_pdf(a, generated_at=WHEN))
    text_b = pdf_text(render_pdf(b, generated_at=WHEN))
    assert text_a == text_b
    assert "pack 3" in text_a and "No effect estimate while blinded" in text_a
    assert "pack set" not in text_a.lower() and "set X" not in text_a


def test_pdf_shows_the_audit_head_sentence_and_the_simulated_banner_on_every_page():
    pdf = render_pdf(make_record(seed=14, audit_head=AUDIT_HEAD, simulated=True), generated_at=WHEN)
    text = pdf_text(pdf)
    flat = "".join(text.split())
    assert "Checkthisrecordlaterwithmagtrialauditverify--expect-head" + AUDIT_HEAD in flat
    pages = text.split("\f")[:-1]
    assert pages and all("SIMULATED DATA — not a real participant" in page for page in pages)


def test_unblinded_pdf_shows_the_arms():
    record = make_record(blinded=False, seed=13, sequence="BAABABBA")
    text = pdf_text(render_pdf(record, generated_at=WHEN))
    assert "BAABABBA" in text and "matched placebo" in text
