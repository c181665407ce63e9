"""Clinician report render time for a 16-week trial, against the 2 s budget of issue 7.

Run: ``.venv/bin/python benchmarks/bench_report.py`` (or ``python -m benchmarks report``).
The record is the test factory's simulated trial (7-day run-in + 4 cycles x 2 x 14-day periods, 10 %
missing days, one correction, one void) with its safety findings, the published evidence table, a
pooled estimate of 10 other simulated trials and, unblinded, its analysis, so all three charts and
every section are drawn (a blinded report has no analysis: it compares no packs). Timed, each as the
median of ``RUNS`` runs after one warm-up: the HTML (context, SVG charts, template), the PDF from
that HTML (WeasyPrint), and the whole PDF path (context + HTML + PDF), in wall-clock and CPU
seconds. WeasyPrint subsets fonts with HarfBuzz when ``libharfbuzz-subset0`` is installed; without
it the report embeds whole fonts instead.
"""

from __future__ import annotations

import ctypes.util
import datetime as dt
import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # for tests.record_factory

from magtrial.core.analysis import analyze  # noqa: E402
from magtrial.core.pooling import pool, summary_from_record  # noqa: E402
from magtrial.data.evidence import load_evidence  # noqa: E402
from magtrial.report.build import record_safety  # noqa: E402
from magtrial.report.render import pdf_from_html, render_html  # noqa: E402
from tests.record_factory import make_record  # noqa: E402

RUNS = 5
BUDGET_S = 2.0
WHEN = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def median_time(fn, runs: int = RUNS) -> tuple[float, float]:
    """Median wall-clock and CPU seconds (CPU is the fairer figure on a shared, loaded machine)."""
    fn()  # warm-up: imports, font configuration, template compilation
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def fmt(t: tuple[float, float]) -> str:
    return f"{t[0]:.3f} s (CPU {t[1]:.3f} s)"


def main() -> None:
    print(f"command: {' '.join([pathlib.Path(sys.executable).name, *sys.argv])}")
    others = [make_record(blinded=False, seed=s, trial_id=f"T-{s}") for s in range(100, 110)]
    pooled = pool(summary_from_record(r, analyze(r).effect_likelihood()) for r in others)
    evidence = load_evidence()
    for blinded in (True, False):
        record = make_record(blinded=blinded, seed=1)
        analysis = None if blinded else analyze(record)
        safety = record_safety(record)
        inputs = {"analysis": analysis, "safety": safety, "evidence": evidence, "pooled": pooled, "generated_at": WHEN}
        html = render_html(record, **inputs)
        t_html = median_time(lambda record=record, inputs=inputs: render_html(record, **inputs))
        t_pdf = median_time(lambda html=html: pdf_from_html(html))
        t_all = median_time(lambda record=record, inputs=inputs: pdf_from_html(render_html(record, **inputs)))
        days = record.schedule.total_days
        label = "blinded" if blinded else "unblinded"
        print(f"{label:>9} 16-week trial ({days} days, {len(record.current())} diary entries), median of {RUNS}:")
        verdict = "ok" if t_all[0] <= BUDGET_S else "OVER"
        print(f"    HTML {fmt(t_html)} | PDF from HTML {fmt(t_pdf)} | full PDF {fmt(t_all)}")
        print(f"    budget {BUDGET_S:.1f} s wall for the full PDF: {verdict}")
    harfbuzz = ctypes.util.find_library("harfbuzz-subset")
    subsetter = f"HarfBuzz ({harfbuzz})" if harfbuzz else "none, whole fonts embedded (no libharfbuzz-subset0)"
    print(f"font subsetting: {subsetter}")


if __name__ == "__main__":
    main()
