"""Clinician report time for a 16-week trial, against the 1 s target of issue 13: in-process and end to end.

Run: ``.venv/bin/python benchmarks/bench_report.py [OLD_SRC]`` (or ``python -m benchmarks report``).

In-process rows: the record is the test factory's simulated trial (7-day run-in + 4 cycles x 2 x
14-day periods, 10 % missing days, one correction, one void) with its safety findings, the
published evidence table, a pooled estimate of 10 other simulated trials and, unblinded, its
analysis, so all three charts and every section are drawn (a blinded report has no analysis: it
compares no packs). Each the median of ``RUNS`` runs after one warm-up: the HTML (context, SVG
charts, template), the PDF from that HTML (WeasyPrint), and the whole PDF path.

End-to-end rows (``ROUNDS`` interleaved rounds, new processes, order rotated each round; wall and
user + system CPU seconds of the process and its children): ``magtrial report TRIAL -F pdf`` for
the trial ``magtrial demo`` makes (unblinded: analysis, all charts, evidence panel), the same on a
copy of that database holding 10,000 more pooled trials (time must not grow with the database),
``python -c pass`` (the interpreter's floor), ``python -c "import weasyprint"`` and a one-line PDF
(WeasyPrint's own floor), and, given ``OLD_SRC`` (the ``src`` folder of an older checkout, ``git
worktree add /tmp/old COMMIT``), the same report from that tree. The first run of each database
fills the data folder's cache (pooled estimate, drawn charts) and is not timed.
WeasyPrint subsets fonts with HarfBuzz when ``libharfbuzz-subset0`` is installed; without it the
report embeds whole fonts instead.
"""

from __future__ import annotations

import ctypes.util
import datetime as dt
import os
import pathlib
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # for tests.record_factory

from benchmarks.harness import Row, report, timed  # noqa: E402

RUNS = 5
ROUNDS = int(os.environ.get("ROUNDS", "5"))
WHEN = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
ROOT = pathlib.Path(__file__).resolve().parent.parent
CLI = "from magtrial.cli.main import main; main()"
TRIVIAL_PDF = "import weasyprint; weasyprint.HTML(string='<p>Hello</p>').write_pdf()"


def in_process() -> None:
    from magtrial.core.analysis import analyze
    from magtrial.core.pooling import pool, summary_from_record
    from magtrial.data.evidence import load_evidence
    from magtrial.report.build import record_safety
    from magtrial.report.render import pdf_from_html, render_html
    from tests.record_factory import make_record

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
                "",
            ),
        ):
            fn()  # warm-up: imports, font configuration, template compilation
            report(Row(name, [timed(fn) for _ in range(RUNS)], target=target))


def _run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and user + system CPU seconds of one new process (its children included)."""
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def _add_pooled_trials(path: pathlib.Path, n: int, clinician: str) -> None:
    """``n`` unblinded trials with effect summaries, inserted in bulk (``pool_store``'s rows)."""
    from benchmarks import pool_store

    rows = [
        (r[0][:2] + (clinician,) + r[0][3:10] + (clinician,) + r[0][11:], r[1])
        for r in pool_store._rows(pool_store.simulate(n), 0, n)
    ]
    with sqlite3.connect(path) as con:
        con.executemany(
            f"INSERT INTO trials ({pool_store.TRIAL_COLS}) VALUES ({','.join('?' * 14)})", [r[0] for r in rows]
        )
        cols = pool_store.SUMMARY_COLS
        con.executemany(f"INSERT INTO effect_summaries ({cols}) VALUES ({','.join('?' * 11)})", [r[1] for r in rows])


def end_to_end(old_src: str | None) -> None:
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        env = {k: v for k, v in os.environ.items() if k != "MAGTRIAL_DATABASE_URL"}
        env |= {"MAGTRIAL_DATA_DIR": str(folder / "data"), "PYTHONPATH": str(ROOT / "src")}
        demo = subprocess.run([python, "-c", CLI, "demo"], env=env, capture_output=True, text=True, check=True)
        trial_id = re.search(r"Trial (mt-[0-9a-f]+)", demo.stdout).group(1)  # type: ignore[union-attr]
        small, big = folder / "data" / "demo.sqlite3", folder / "big.sqlite3"
        shutil.copy(small, big)
        _add_pooled_trials(big, 10_000, "demo-clinician")

        def report_args(db: pathlib.Path) -> list[str]:
            args = ["--db", f"sqlite:///{db}", "--user", "demo-clinician", "report", trial_id, "-F", "pdf"]
            return [python, "-c", CLI, *args, "-o", str(folder / "r.pdf")]

        commands = {
            "PDF report end to end (CLI, 16-week trial)": (report_args(small), env),
            "  the same, 10,000 more pooled trials in the db": (report_args(big), env),
            "python -c pass": ([python, "-c", "pass"], env),
            'python -c "import weasyprint"': ([python, "-W", "ignore", "-c", "import weasyprint"], env),
            "one-line PDF with WeasyPrint (floor)": ([python, "-W", "ignore", "-c", TRIVIAL_PDF], env),
        }
        if old_src:
            commands["  the same report, old tree (OLD_SRC)"] = (report_args(small), {**env, "PYTHONPATH": old_src})
        for args, e in commands.values():
            _run(args, e)  # warm-up: the data folder's cache, font configuration, page cache
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        names = list(commands)
        for i in range(ROUNDS):
            for name in names[i % len(names) :] + names[: i % len(names)]:  # rotated: no command always first
                results[name].append(_run(*commands[name]))
        size = (folder / "r.pdf").stat().st_size
        for name, runs in results.items():
            wall, cpu = [w for w, _ in runs], [c for _, c in runs]
            target = "<= 1 s" if name.startswith("PDF report") else ""
            note = f"wall {min(wall):.2f}-{max(wall):.2f} s; CPU median {statistics.median(cpu):.2f} s"
            report(Row(name, wall, target=target, note=note + (f"; {size:,} bytes" if target else "")))


def main() -> None:
    old_src = next((a for a in sys.argv[1:] if pathlib.Path(a, "magtrial").is_dir()), None)  # not a bench name
    print(f"command: {' '.join([pathlib.Path(sys.executable).name, *sys.argv])}; median of {RUNS} after a warm-up")
    in_process()
    print(f"end to end: {ROUNDS} rotated rounds of new processes")
    end_to_end(old_src)
    harfbuzz = ctypes.util.find_library("harfbuzz-subset")
    subsetter = f"HarfBuzz ({harfbuzz})" if harfbuzz else "none, whole fonts embedded (no libharfbuzz-subset0)"
    print(f"font subsetting: {subsetter}")


if __name__ == "__main__":
    main()
