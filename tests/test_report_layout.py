"""Report layout (issue 12): nothing under 7 pt in the PDF, no duplicate ids in the HTML."""

from __future__ import annotations

import re
import subprocess
from collections import Counter

import numpy as np
import pytest

from magtrial.core.analysis import analyze
from magtrial.core.pooling import collect, pool_data
from magtrial.core.pooling.simulate import simulate_pool
from magtrial.data.evidence import load_evidence
from magtrial.report.render import render_html, render_pdf
from tests.record_factory import make_record
from tests.test_report_pdf import WHEN, _tool

DEJAVU_BOX = 1.164  # DejaVu Sans ascent + descent, in ems: a word's box height / this = its font size


def word_sizes(pdf: bytes) -> list[tuple[float, str]]:
    """(font size in pt, word) for every word, from pdftotext's word boxes."""
    html = subprocess.run(
        [_tool("pdftotext"), "-bbox", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    words = re.findall(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>', html)
    return [((float(y1) - float(y0)) / DEJAVU_BOX, w) for y0, y1, w in words]


@pytest.fixture(scope="module")
def full_report():
    record = make_record(blinded=False, seed=11)
    pooled = pool_data(collect(simulate_pool(20, -1.0, 0.5, np.random.default_rng(3)).summaries), persons=False)
    kw = dict(analysis=analyze(record), evidence=load_evidence(), pooled=pooled, generated_at=WHEN)
    return render_html(record, **kw), render_pdf(record, **kw)


def test_no_word_in_the_pdf_is_under_7_pt(full_report):
    sizes = word_sizes(full_report[1])
    assert len(sizes) > 1000
    small = sorted((round(s, 2), w) for s, w in sizes if s < 6.95)
    assert not small, small[:20]


def test_html_ids_are_unique_across_the_inline_charts(full_report):
    ids = Counter(re.findall(r'\bid="([^"]+)"', full_report[0]))
    assert [i for i, n in ids.items() if n > 1] == []
    assert full_report[0].count("<svg") >= 3
    # every reference points at an id of the same page
    refs = set(re.findall(r'(?:url\(#|href="#)([^)"]+)', full_report[0]))
    assert refs <= set(ids)
