"""WeasyPrint in a process of its own, started before the report is built (issue 13).

``import weasyprint`` alone takes about 0.9 s of a ``magtrial report -F pdf`` run, and reading the
trial, importing the analysis (numpy, scipy) and analysing take longer still; neither needs the
other. So the command starts this module as a child process first: it imports WeasyPrint on the
other core while the parent builds the HTML, then reads the HTML on stdin and answers with the PDF
on stdout (``report.pdf.pdf_from_html``, the same call the in-process path makes, so the bytes are
the same). Without input (the parent failed before sending any) it exits without doing anything.

    process = PdfProcess()          # early: WeasyPrint starts loading
    pdf = process(html)             # later: the PDF bytes
    process.close()                 # always (kills a child that was never used)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import magtrial
from magtrial.errors import MagtrialError


class PdfProcess:
    """A child process that lays out one HTML document; call it with the HTML to get the PDF."""

    def __init__(self) -> None:
        source = str(Path(magtrial.__file__).resolve().parent.parent)  # the child runs this same magtrial
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([source, *filter(None, [os.environ.get("PYTHONPATH")])])}
        self._child = subprocess.Popen(
            [sys.executable, "-m", "magtrial.report.pdf_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )

    def __call__(self, html: str) -> bytes:
        pdf, errors = self._child.communicate(html.encode("utf-8"))
        if self._child.returncode != 0 or not pdf.startswith(b"%PDF-"):
            tail = errors.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
            raise MagtrialError(f"PDF layout failed (WeasyPrint process exit {self._child.returncode}): {tail[0]}")
        return pdf

    def close(self) -> None:
        """Stop the child if it is still waiting (the report failed before its HTML was ready)."""
        if self._child.returncode is not None:  # already answered
            return
        if self._child.poll() is None:
            self._child.kill()
        self._child.communicate()  # reaps the child and closes the pipes


def main() -> None:
    """Child side: import WeasyPrint at once, then turn stdin's HTML into a PDF on stdout."""
    from magtrial.report.pdf import _harfbuzz_subset, _weasyprint

    _weasyprint()
    _harfbuzz_subset()
    html = sys.stdin.buffer.read().decode("utf-8")
    if not html:
        return
    from magtrial.report.pdf import pdf_from_html

    sys.stdout.buffer.write(pdf_from_html(html))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
