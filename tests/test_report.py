"""Clinician report (HTML): sections, numbers from the analysis, and blinding that cannot leak."""

import datetime as dt
import re

import pytest

from magtrial.core.analysis import analyze
from magtrial.errors import Forbidden
from magtrial.report.build import build_context
from magtrial.report.render import render_html
from tests.record_factory import AUDIT_HEAD, allocate, make_record

WHEN = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)
ARM_WORDS = re.compile(r"\b(magnesium|placebo|comparator)\b", re.IGNORECASE)


def svg_texts(html: str) -> list[str]:
    """Every text label inside the inline SVG charts."""
    texts = []
    for svg in re.findall(r"<svg.*?</svg>", html, flags=re.S):
        texts += [re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)]
    return texts


def test_report_renders_without_analysis_safety_or_evidence():
    for blinded, note in ((True, "No effect estimate while blinded"), (False, "The analysis has not been run")):
        html = render_html(make_record(blinded=blinded, seed=1), generated_at=WHEN)
        for section in ("summary", "protocol", "pain", "periods", "effect", "secondary", "harms", "cent"):
            assert f'id="{section}"' in html
        assert note in html
        assert 'id="evidence"' not in html and 'id="record"' not in html
        assert len(svg_texts(html)) > 10  # the time-series chart is there, with its labels as text


def test_report_shows_the_analysis_numbers_and_its_plain_text():
    record = make_record(blinded=False, seed=2)
    result = analyze(record)
    html = render_html(record, analysis=result, generated_at=WHEN)
    assert f"{result.effect.mean:+.2f}" in html
    assert f"{result.randomization.p_lower:.4f}" in html
    assert result.text.split(".")[0] in html
    assert 'id="chart-posterior"' in html
    assert any("MCID" in t for t in svg_texts(html))


def test_per_period_means_match_the_diary():
    record = make_record(blinded=False, seed=3)
    ctx = build_context(record, generated_at=WHEN, charts=False)
    current = record.current()
    p = record.schedule.period(2)
    days = [current[d].values.average_pain for d in current if p.analysis_start <= d <= p.end]
    assert ctx["periods"][1]["average_pain"] == f"{sum(days) / len(days):.1f}"
    assert ctx["periods"][1]["diary"] == f"{sum(1 for d in current if p.start <= d <= p.end)}/{p.days}"


@pytest.mark.parametrize("other", ["ABABABAB", "BABAABAB"])
def test_blinded_report_is_identical_whichever_order_was_drawn(other):
    from magtrial.report.build import record_safety

    a = make_record(blinded=True, seed=4, sequence="ABBABAAB", commitment_override="c" * 64)
    b = allocate(a, other, commitment_override="c" * 64)
    assert render_html(a, safety=record_safety(a), generated_at=WHEN) == render_html(
        b, safety=record_safety(b), generated_at=WHEN
    )


def test_blinded_report_names_no_arm_for_any_period_or_chart_label():
    record = make_record(blinded=True, seed=5, sequence="ABBAABBA")
    html = render_html(record, generated_at=WHEN)
    assert not [t for t in svg_texts(html) if ARM_WORDS.search(t)]
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>", "", html, flags=re.S))
    assert not re.search(r"(period|pack)\s*\d+\W{0,3}(magnesium|placebo|comparator|arm [AB])\b", text, re.I)
    assert not re.search(r"\b[AB]{8}\b", text)  # no sequence of arm letters
    assert "not shown (blinded)" in text
    assert "magnesium packs" not in text.lower()


def test_blinded_report_neither_groups_nor_compares_packs():
    record = make_record(blinded=True, seed=5)
    ctx = build_context(record, generated_at=WHEN)
    assert all(
        set(p) == {"period", "pack", "dates", "diary", "analysed", "adherence", "partial_missed", "side_effect_days"}
        for p in ctx["periods"]
    )  # no group, no outcome mean per pack
    assert ctx["groups"] == [] and ctx["analysis"] is None
    assert ctx["se_columns"] == ["run-in", *(f"pack {n}" for n in range(1, 9))]
    labels = [t for t in svg_texts(ctx["charts"]["timeseries"]) if t.startswith("pack")]
    assert labels == [f"pack {n}" for n in range(1, 9)]  # no set, no arm, under each band
    assert "period mean" not in " ".join(svg_texts(ctx["charts"]["timeseries"]))
    html = render_html(record, generated_at=WHEN)
    assert "No effect estimate while blinded" in html and "pack set" not in html.lower()


def test_blinded_chart_draws_every_pack_alike_and_the_unblinded_one_by_arm():
    from magtrial.plots.timeseries import period_shading

    blinded = make_record(blinded=True, seed=5, sequence="ABBAABBA")
    assert len({b["colour"] for b in period_shading(blinded)}) == 1
    assert [b["label"] for b in period_shading(blinded)] == [f"pack {n}" for n in range(1, 9)]
    assert len({b["colour"] for b in period_shading(allocate(blinded, "ABBAABBA", blinded=False))}) == 2


def test_an_analysis_is_refused_beside_a_blinded_record():
    record = make_record(blinded=True, seed=5)
    analysis = analyze(allocate(record, "ABBAABBA", blinded=False))
    with pytest.raises(Forbidden, match="only after unblinding"):
        build_context(record, analysis=analysis, generated_at=WHEN, charts=False)


def test_report_names_its_audit_head_and_how_to_check_it():
    html = render_html(make_record(seed=19, audit_head=AUDIT_HEAD), generated_at=WHEN)
    assert f"Check this record later with <code>magtrial audit verify --expect-head {AUDIT_HEAD}</code>" in html
    assert f'<meta name="magtrial-audit-head" content="{AUDIT_HEAD}">' in html
    assert "SIMULATED DATA" not in html
    assert "--expect-head" not in render_html(make_record(seed=19), generated_at=WHEN)


def test_simulated_report_says_so_prominently():
    html = render_html(make_record(blinded=False, seed=19, simulated=True), generated_at=WHEN)
    header = html[html.index("<header>") : html.index("</header>")]
    assert '<p class="banner simulated" id="simulated">SIMULATED DATA — not a real participant</p>' in header
    assert "<title>SIMULATED: " in html and "@top-center" in html


def test_unblinded_report_labels_arms_and_verifies_the_commitment():
    record = make_record(blinded=False, seed=6, sequence="ABABBABA")
    html = render_html(record, analysis=analyze(record), generated_at=WHEN)
    labels = " ".join(svg_texts(html))
    assert "magnesium" in labels and "matched placebo" in labels
    assert "Verified:" in html and "ABABBABA" in html


def test_a_commitment_that_does_not_match_is_reported():
    record = make_record(blinded=False, seed=7, commitment_override="0" * 64)
    assert "DOES NOT VERIFY" in render_html(record, generated_at=WHEN)


def test_report_lists_corrections_with_their_reasons():
    record = make_record(seed=8)
    html = render_html(record, generated_at=WHEN)
    assert "typo: meant one lower" in html and "entered for the wrong day" in html


def test_report_shows_safety_findings_and_evidence_when_given():
    from magtrial.core.safety.model import Finding, Level

    finding = Finding(
        rule_id="GI-DIARRHOEA-3D",
        level=Level.NEEDS_CLINICIAN,
        message="Diarrhoea on 3 days in a row",
        source="NIH ODS fact sheet",
        day=dt.date(2026, 2, 3),
        period=3,
    )
    record = make_record(seed=9)
    html = render_html(record, safety=[finding], generated_at=WHEN)
    assert "GI-DIARRHOEA-3D" in html and "Diarrhoea on 3 days in a row" in html and "period 3" in html


def test_user_text_is_escaped():
    from magtrial.core.diary import DiaryValues, DiaryVersion, VersionKind

    record = make_record(seed=10)
    day = record.schedule.periods[0].start
    values = DiaryValues(average_pain=5, worst_pain=6, sleep_interference=3, side_effect_other="<script>x</script>")
    bad = DiaryVersion(
        day=day,
        version=9,
        kind=VersionKind.CORRECTION,
        values=values,
        recorded_at=WHEN,
        recorded_by="participant",
        reason="<b>why</b>",
    )
    import dataclasses

    html = render_html(dataclasses.replace(record, versions=(*record.versions, bad)), generated_at=WHEN)
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html


def test_evidence_panel_shows_published_trials_pooled_result_and_forest_plot():
    from magtrial.core.pooling import pool, summary_from_record
    from magtrial.data.evidence import load_evidence

    trials = [make_record(blinded=False, seed=s, trial_id=f"T-{s}") for s in range(20, 26)]
    pooled = pool(summary_from_record(r, analyze(r).effect_likelihood()) for r in trials)
    table = load_evidence()
    html = render_html(make_record(seed=30), evidence=table, pooled=pooled, generated_at=WHEN)
    assert 'id="evidence"' in html and "Pooled 6 unblinded N-of-1 trials" in html
    assert f"{pooled.mu.mean:+.2f} ({pooled.mu.lower:+.2f} to {pooled.mu.upper:+.2f})" in html
    assert all(s.label in html for s in table.studies)
    assert 'id="chart-forest"' in html


def test_pooled_result_alone_still_gives_an_evidence_panel():
    from magtrial.core.pooling import pool, summary_from_record

    trials = [make_record(blinded=False, seed=s, trial_id=f"T-{s}") for s in range(40, 44)]
    pooled = pool(summary_from_record(r, analyze(r).effect_likelihood()) for r in trials)
    html = render_html(make_record(seed=31), evidence=pooled, generated_at=WHEN)
    assert "Pooled 4 unblinded N-of-1 trials" in html and "<h3>Published trials</h3>" not in html


@pytest.mark.parametrize(
    "changes",
    [
        {"washout_days": 3, "cycles": 2},
        {"design": "counterbalanced", "cycles": 2, "period_days": 7, "run_in_days": 0},
    ],
)
def test_report_renders_other_designs(changes):
    from magtrial.core.protocol import Design

    if "design" in changes:
        changes = {**changes, "design": Design(changes["design"])}
    for blinded in (True, False):
        record = make_record(blinded=blinded, seed=16, **changes)
        html = render_html(record, analysis=None if blinded else analyze(record), generated_at=WHEN)
        assert f"pack {record.protocol.n_periods}" in " ".join(svg_texts(html))


def test_charts_draw_on_a_given_axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from magtrial.plots.posterior import mixture_density, plot_posterior
    from magtrial.plots.timeseries import plot_pain_timeseries

    fig, (top, bottom) = plt.subplots(2)
    assert plot_pain_timeseries(make_record(seed=17), ax=top) is top
    grid, density = mixture_density([0.5, 0.5], [-1.0, -0.5], [0.3, 0.4])
    assert plot_posterior(grid, density, mcid=1.0, interval=(-1.5, 0.0), xlabel="x", ax=bottom) is bottom
    assert abs(float((density * (grid[1] - grid[0])).sum()) - 1.0) < 1e-3
    plt.close(fig)


def test_a_trial_without_diary_entries_still_renders():
    import dataclasses

    record = dataclasses.replace(make_record(seed=18), versions=())
    html = render_html(record, generated_at=dt.datetime(2025, 12, 1, tzinfo=dt.UTC))
    assert "not started" in html and "0 of 0 diary days" in html  # nothing is due before the start
