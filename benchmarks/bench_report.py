"""Clinician report render time for a 16-week trial, in-process, against the 1 s target of issue 13.

Run: ``.venv/bin/python benchmarks/bench_report.py`` (or ``python -m benchmarks report``).
The record is the test factory's simulated trial (7-day run-in + 4 cycles x 2 x 14-day periods, 10 %
missing days, one correction, one void) with its safety findings, the published evidence table, a
pooled estimate of 10 other simulated trials and, unblinded, its analysis, so all three charts and
every section are drawn (a blinded report has no analysis: it compares no packs). Timed, each the
median of ``RUNS`` runs after one warm-up: the HTML (context, SVG charts, template), the PDF from
that HTML (WeasyPrint), and the whole PDF path (context + HTML + PDF). There is no peer; the PDF
end to end through the command line (start-up and database included) is in ``bench_cli.py``.
WeasyPrint subsets fonts with HarfBuzz when ``libharfbuzz-subset0`` is installed; without
it the report embeds whole fonts instead.
"""

from __future__ import annotations

import ctypes.util
import datetime as dt
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # for tests.record_factory

from benchmarks.harness import Row, report, timed  # noqa: E402
from magtrial.core.analysis import analyze  # noqa: E402
from magtrial.core.pooling import pool, summary_from_record  # noqa: E402
from magtrial.data.evidence import load_evidence  # noqa: E402
from magtrial.report.build import record_safety  # noqa: E402
from magtrial.report.render import pdf_from_html, render_html  # noqa: E402
from tests.record_factory import make_record  # noqa: E402

RUNS = 5
WHEN = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def main() -> None:
    print(f"command: {' '.join([pathlib.Path(sys.executable).name, *sys.argv])}; median of {RUNS} after a warm-up")
    others = [make_record(blinded=False, seed=s, trial_id=f"T-{s}") for s in range(100, 110)]
    pooled = pool(summary_from_record(r, analyze(r).effect_likelihood()) for r in others)
    evidence = load_evidence()
    for blinded in (False, True):
        record = make_record(blinded=blinded, seed=1)
        analysis = None if blinded else analyze(record)
        safety = record_safety(record)
        inputs = {"analysis": analysis, "safety": safety, "evidence": evidence, "pooled": pooled, "generated_at": WHEN}
        html = render_html(record, **inputs)
        label = "blinded" if blinded else "unblinded"
        for name, fn, target in (
            (f"report HTML ({label}, charts + template)", lambda r=record, i=inputs: render_html(r, **i), ""),
            (f"report PDF from HTML ({label}, WeasyPrint)", lambda h=html: pdf_from_html(h), ""),
            (
                f"report full PDF in-process ({label})",
                lambda r=record, i=inputs: pdf_from_html(render_html(r, **i)),
                "<= 1 s",
            ),
        ):
            fn()  # warm-up: imports, font configuration, template compilation
            report(Row(name, [timed(fn) for _ in range(RUNS)], target=target))
    harfbuzz = ctypes.util.find_library("harfbuzz-subset")
    subsetter = f"HarfBuzz ({harfbuzz})" if harfbuzz else "none, whole fonts embedded (no libharfbuzz-subset0)"
    print(f"font subsetting: {subsetter}")


if __name__ == "__main__":
    main()
