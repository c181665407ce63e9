"""WeasyPrint in a child process (report/pdf_process.py, issue 13): the same PDF bytes as in-process."""

from __future__ import annotations

import datetime as dt

import pytest

from magtrial.core.analysis import analyze
from magtrial.errors import MagtrialError
from magtrial.report.pdf import pdf_from_html
from magtrial.report.pdf_process import PdfProcess
from magtrial.report.render import render_html, write_report
from tests.record_factory import make_record

WHEN = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)


def test_the_child_process_lays_out_the_same_pdf_bytes_as_this_process(tmp_path):
    record = make_record(blinded=False, seed=13)
    inputs = {"analysis": analyze(record), "generated_at": WHEN}
    process = PdfProcess()
    try:
        path = write_report(record, tmp_path / "r.pdf", "pdf", process, **inputs)
    finally:
        process.close()
    assert path.read_bytes() == pdf_from_html(render_html(record, **inputs))


def test_a_process_never_used_is_stopped_and_reaped():
    process = PdfProcess()
    process.close()
    assert process._child.returncode is not None
    process.close()  # twice is harmless


def test_a_failed_layout_is_an_error_not_an_empty_file():
    process = PdfProcess()
    with pytest.raises(MagtrialError, match="PDF layout failed"):
        process("")  # no HTML: the child writes nothing
    process.close()
