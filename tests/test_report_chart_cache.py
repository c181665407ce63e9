"""The report's drawn charts kept in the data folder (plots/chart_cache.py, issue 13).

A kept chart must be byte-identical to a fresh drawing, changed data must redraw it, a blinded
trial's kept files must be the same whichever order was drawn (the participant may own the folder),
and a planted file that references anything outside itself must never reach the report.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from magtrial.core.analysis import analyze
from magtrial.data.evidence import load_evidence
from magtrial.plots.chart_cache import cached_chart, is_plain_svg
from magtrial.report.build import draw_charts, record_safety
from magtrial.report.evidence_panel import forest_svg
from magtrial.report.render import render_html
from tests.record_factory import allocate, make_record

WHEN = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)


def kept(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_kept_charts_are_byte_identical_to_a_fresh_drawing(tmp_path):
    record = make_record(blinded=False, seed=7)
    analysis = analyze(record)
    fresh = draw_charts(record, analysis)
    first = draw_charts(record, analysis, tmp_path)
    files = kept(tmp_path)
    assert len(files) == 2  # daily pain and posterior; the timeline is drawn by hand, not kept
    second = draw_charts(record, analysis, tmp_path)  # read back from the files
    assert first == second == fresh
    assert kept(tmp_path) == files  # a hit writes nothing
    inputs = {"analysis": analysis, "safety": record_safety(record), "evidence": load_evidence(), "generated_at": WHEN}
    assert render_html(record, **inputs, chart_cache=tmp_path) == render_html(record, **inputs)


def test_a_kept_chart_is_what_is_used(tmp_path):
    record = make_record(blinded=True, seed=8)
    draw_charts(record, None, tmp_path)
    (path,) = tmp_path.iterdir()
    head, svg = path.read_text().split("\n", 1)
    path.write_text(head + "\n" + svg.replace("pain (0-10)", "kept copy"))
    assert "kept copy" in draw_charts(record, None, tmp_path)["timeseries"]  # so the tests above read files


def test_changed_diary_redraws_the_chart_and_replaces_the_file(tmp_path):
    record = make_record(blinded=True, seed=9)
    before = draw_charts(record, None, tmp_path)["timeseries"]
    (path,) = tmp_path.iterdir()
    old_file = path.read_bytes()
    day = max(record.current())
    entry = record.current()[day]
    versions = list(record.versions)
    values = entry.values
    other = {"worst_pain": 10} if values.worst_pain < 10 else {"average_pain": 0}  # still a valid entry
    versions[versions.index(entry)] = dataclasses.replace(entry, values=dataclasses.replace(values, **other))
    changed = dataclasses.replace(record, versions=tuple(versions))
    after = draw_charts(changed, None, tmp_path)["timeseries"]
    assert after != before
    assert after == draw_charts(changed, None)["timeseries"]
    assert [p.name for p in tmp_path.iterdir()] == [path.name] and path.read_bytes() != old_file


def test_changed_pooled_rows_redraw_the_forest_plot(tmp_path):
    evidence = load_evidence()
    one = forest_svg(evidence, None, tmp_path)
    fewer = dataclasses.replace(evidence, studies=evidence.studies[1:])
    other = forest_svg(fewer, None, tmp_path)
    assert one != other and other == forest_svg(fewer, None)
    assert forest_svg(evidence, None, tmp_path) == one


@pytest.mark.parametrize("other", ["ABABABAB", "BABAABAB"])
def test_a_blinded_trials_kept_files_are_the_same_whichever_order_was_drawn(tmp_path, other):
    a = make_record(blinded=True, seed=4, sequence="ABBABAAB", commitment_override="c" * 64)
    b = allocate(a, other, commitment_override="c" * 64)
    folders = []
    for name, record in (("a", a), ("b", b)):
        folder = tmp_path / name
        render_html(record, safety=record_safety(record), evidence=load_evidence(), chart_cache=folder)
        folders.append(kept(folder))
    assert folders[0] == folders[1] and len(folders[0]) == 2  # daily pain and forest plot
    unblinded = [allocate(a, seq, blinded=False) for seq in ("ABBABAAB", other)]
    for i, record in enumerate(unblinded):  # the comparison could fail: unblinded charts differ by order
        draw_charts(record, None, tmp_path / f"u{i}")
    assert kept(tmp_path / "u0") != kept(tmp_path / "u1")


@pytest.mark.parametrize(
    "planted",
    [
        '<svg><image href="file:///etc/passwd"/></svg>',
        '<svg><use xlink:href="file:///etc/passwd#x"/></svg>',
        '<svg><path style="fill: url(https://example.org/x.svg#p)"/></svg>',
        '<svg><style>@import "https://example.org/x.css";</style></svg>',
        "<svg><foreignObject><p>hello</p></foreignObject></svg>",
        '<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg><text>&x;</text></svg>',
    ],
)
def test_a_planted_file_with_outside_references_is_redrawn_not_used(tmp_path, planted):
    draw = lambda: '<svg><use xlink:href="#m1"/><path style="fill: url(#p1)"/></svg>'  # noqa: E731
    assert is_plain_svg(draw()) and not is_plain_svg(planted)
    cached_chart(tmp_path, "T-1", "timeseries", {"x": 1}, draw)
    (path,) = tmp_path.iterdir()
    path.write_text(path.read_text().split("\n", 1)[0] + "\n" + planted)  # right digest, foreign content
    assert cached_chart(tmp_path, "T-1", "timeseries", {"x": 1}, draw) == draw()
    assert path.read_text().endswith(draw())


def test_every_chart_matplotlib_draws_passes_the_check():
    record = make_record(blinded=False, seed=12)
    charts = draw_charts(record, analyze(record))
    charts["forest"] = forest_svg(load_evidence(), None)
    assert all(is_plain_svg(svg) for name, svg in charts.items() if name != "timeline")


def test_a_second_pdf_report_from_the_command_line_draws_nothing_and_leaves_weasyprint_to_its_process(run, tmp_path):
    from tests.helpers import run_demo
    from tests.test_cli_imports import run_cli_modules

    trial, as_clinician, _ = run_demo(run, tmp_path)
    url = f"sqlite:///{tmp_path / 'demo-run.sqlite3'}"
    args = ("--db", url, "--user", "demo-clinician", "report", trial, "-F", "pdf")
    loaded = []
    for name in ("first.pdf", "second.pdf"):
        status, modules = run_cli_modules(tmp_path, *args, "-o", str(tmp_path / name))
        assert status == 0
        loaded.append({m.split(".")[0] for m in modules})
    assert "matplotlib" in loaded[0] and "matplotlib" not in loaded[1]  # the second run reads the kept charts
    assert not any("weasyprint" in m for m in loaded)  # laid out by the child process (report/pdf_process.py)
    assert (tmp_path / "second.pdf").read_bytes().startswith(b"%PDF-")
    assert len(list((tmp_path / "data" / "cache" / "charts").glob("*/chart-*.svg"))) == 3
