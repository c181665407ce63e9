"""Everything the clinician report shows, computed in Python as plain strings, rows and SVG charts.

``build_context`` is the one place that decides what a report says; the template only lays it out.
The analysis, safety and evidence results are optional inputs (the report renders without them)
and are shown as their own objects describe themselves (``.summary``, ``.text``), never recomputed.
Blinding is inherited from the record: with ``allocation is None`` there is no arm to print, and the
report shows pack numbers, dates, completeness, adherence and side effects only, with no grouping
of packs, no outcome per pack and no effect estimate (an analysis passed with a blinded record is
refused). Every report names the audit head its record was read at and says when it is simulated.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from magtrial import __version__
from magtrial.core.allocation import possible_sequences, verify_commitment
from magtrial.core.analysis import SEALED
from magtrial.core.labels import COMPARATOR_LABELS
from magtrial.core.protocol import blinding_limitations
from magtrial.core.record import TrialRecord
from magtrial.data.safety import elemental_dose
from magtrial.errors import Forbidden
from magtrial.report import tables
from magtrial.report.evidence_panel import evidence_section, forest_svg


def build_context(
    record: TrialRecord,
    *,
    analysis: Any = None,
    safety: Any = None,
    evidence: Any = None,
    pooled: Any = None,
    generated_at: dt.datetime | None = None,
    charts: bool = True,
) -> dict[str, Any]:
    """The template's whole input for one trial.

    Parameters
    ----------
    record : the trial; blinded when ``record.allocation is None``.
    analysis : an ``AnalysisResult`` (``magtrial.core.analysis.analyze``) or None; always None for a
        blinded record (``Forbidden`` otherwise).
    safety : a safety report (anything with ``.findings``) or a list of findings, or None.
    evidence : the published-evidence table (``magtrial.data.evidence.load_evidence()``) or None.
    pooled : the pooled N-of-1 estimate (a ``PoolResult``) or None; a ``PoolResult`` passed as
        ``evidence`` is taken as ``pooled``.
    generated_at : the report's timestamp (now, in UTC, when omitted).
    charts : draw the SVG charts (tests of the numbers can skip matplotlib).
    """
    if record.blinded and analysis is not None:
        raise Forbidden(f"trial {record.trial_id} is blinded: {SEALED}")
    generated_at = generated_at or dt.datetime.now(dt.UTC)
    p = record.protocol
    quality = tables.data_quality(record)
    context: dict[str, Any] = {
        "title": f"N-of-1 trial of {p.product.name} vs {COMPARATOR_LABELS[p.comparator]}",
        "trial_id": record.trial_id,
        "participant": record.participant,
        "blinded": record.blinded,
        "generated": f"{generated_at:%d %b %Y %H:%M} UTC",
        "version": __version__,
        "status": record.status,
        "progress": tables.trial_progress(record, generated_at.date()),
        "protocol": protocol_rows(record),
        "limitations": blinding_limitations(p),
        "randomization": randomization(record),
        "quality": quality,
        "periods": tables.period_rows(record),
        "flags": list(record.flags),
        "simulated": record.simulated,
        "audit_head": record.audit_head,
        "sealed": f"No effect estimate while blinded: {SEALED}.",
    }
    context["groups_columns"], context["groups"] = tables.group_rows(record)
    context["se_columns"], context["side_effects"], context["side_effect_other"] = tables.side_effect_rows(record)
    context["analysis"] = analysis_section(analysis)
    context["safety"] = safety_section(safety)
    if pooled is None and hasattr(evidence, "mu"):
        evidence, pooled = None, evidence
    context["evidence"] = evidence_section(evidence, pooled)
    context["cent"] = cent_items(record, context)
    context["summary"] = plain_summary(record, analysis, quality)
    context["charts"] = draw_charts(record, analysis) if charts else {}
    if charts and context["evidence"] is not None:
        context["charts"]["forest"] = forest_svg(evidence, pooled)
    return context


def protocol_rows(record: TrialRecord) -> list[tuple[str, str]]:
    p, schedule = record.protocol, record.schedule
    mg, how = elemental_dose(p.product)
    dose = f"{mg:g} mg elemental magnesium a day ({how})" if mg is not None else how
    return [
        ("Condition", p.condition.value.replace("-", " ")),
        ("Product tested", f"{p.product.name} ({p.product.salt}, {p.product.route.value})"),
        ("Dose on active packs", f"{dose}; {p.product.doses_per_day} dose(s) a day"),
        ("Comparator", COMPARATOR_LABELS[p.comparator]),
        ("Blinding", p.blinding.value),
        ("Design", f"{p.design.value}: {p.cycles} cycles of two periods ({p.n_periods} periods)"),
        (
            "Period length",
            f"{p.period_days} days, of which the first {p.carryover_days} are a carry-over window not analysed",
        ),
        ("Run-in / washout", f"{p.run_in_days} days run-in; {p.washout_days} days washout between periods"),
        ("Primary outcome", p.primary_outcome.replace("_", " ") + " (0-10 numeric rating, daily diary)"),
        (
            "Dates",
            f"{schedule.start:%d %b %Y} to {schedule.end:%d %b %Y} ({schedule.total_days} days), "
            f"time zone {p.timezone}",
        ),
    ]


def randomization(record: TrialRecord) -> dict[str, str]:
    """How the order was drawn and whether the published commitment checks out."""
    p = record.protocol
    n = sum(1 for _ in possible_sequences(p.design, p.cycles))
    method = (
        f"{p.design.value} design: the order of the two packs was drawn by the computer's secure random "
        f"generator from {n} equally likely orders, before the first diary day."
    )
    if record.allocation is None:
        check = (
            f"Sealed. SHA-256 commitment {record.commitment} was published at creation "
            f"({record.created_at:%d %b %Y}); it is checked when the trial is unblinded."
        )
        sequence = "not shown (blinded)"
    else:
        a = record.allocation
        ok = verify_commitment(record.commitment, record.trial_id, a.design, a.sequence, a.salt)
        check = (
            ("Verified: " if ok else "DOES NOT VERIFY: ") + f"the revealed order and salt hash to "
            f"{'the' if ok else 'a different value than the'} commitment {record.commitment} published "
            f"at creation ({record.created_at:%d %b %Y})."
        )
        sequence = f"{a.letters} (A = {p.product.name}, B = {COMPARATOR_LABELS[p.comparator]})"
    return {"method": method, "check": check, "sequence": sequence, "n_sequences": str(n)}


def analysis_section(analysis: Any) -> dict[str, Any] | None:
    if analysis is None:
        return None
    rows = [(r["quantity"], r["display"]) for r in analysis.summary]
    return {
        "rows": rows,
        "text": analysis.text,
        "randomization": analysis.randomization.text,
        "comparison": f"{analysis.labels.first} minus {analysis.labels.second}",
        "outcome": analysis.outcome.label,
        "mcid": f"{analysis.mcid:g}",
        "mcid_rule": analysis.mcid_rule,
        "model": analysis.model.get("name", ""),
        "full_dose_note": analysis.full_dose_note,
        "effect": f"{analysis.effect.mean:+.2f} ({analysis.effect.lower:+.2f} to {analysis.effect.upper:+.2f})",
    }


def _field(obj: Any, name: str) -> Any:
    """A value from a result object or from its stored dict form (the store keeps findings as dicts)."""
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _when(finding: Any) -> str:
    day, period = _field(finding, "day"), _field(finding, "period")
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return " ".join(filter(None, [f"{day:%d %b %Y}" if day else "", f"period {period}" if period else ""]))


def safety_section(safety: Any) -> dict[str, Any] | None:
    """Findings from a ``SafetyReport``, its stored dict, or a plain list of findings (either form)."""
    if safety is None:
        return None
    findings = safety if isinstance(safety, list | tuple) else (_field(safety, "findings") or [])
    rows = [
        {
            "level": str(getattr(_field(f, "level"), "value", _field(f, "level")) or ""),
            "rule": _field(f, "rule_id"),
            "message": _field(f, "message"),
            "source": _field(f, "source") or "",
            "when": _when(f),
        }
        for f in findings
    ]
    total = None if isinstance(safety, list | tuple) else _field(safety, "total_oral_mg")
    ul = None if isinstance(safety, list | tuple) else _field(safety, "upper_limit_mg")
    dose_line = (
        f"Oral elemental magnesium {total:g} mg/day; supplement upper limit {ul:g} mg/day."
        if total is not None and ul is not None
        else ""
    )
    return {"findings": rows, "dose_line": dose_line}


def record_safety(record: TrialRecord) -> dict[str, Any]:
    """The safety check stored when the trial was created plus what the diary has raised since."""
    from magtrial.core.safety.monitoring import review_diary
    from magtrial.data.safety import load_safety_rules

    stored = dict(record.extra.get("safety") or {})  # type: ignore[call-overload]
    diary = review_diary(record.schedule, record.current(), rules=load_safety_rules())
    return {**stored, "findings": [*stored.get("findings", []), *diary]}


def cent_items(record: TrialRecord, ctx: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The CENT 2015 items that apply to one person's trial, each answered from the record."""
    p, q = record.protocol, ctx["quality"]
    blinding = (
        "Participant and clinician blinded: packs look alike and are numbered; the report shows "
        "pack numbers only and neither groups nor compares packs until unblinding."
        if record.blinded
        else "Unblinded after the last period; arms are shown in this report."
    )
    if p.blinding.value == "open":
        blinding = "Open (not blinded). " + " ".join(ctx["limitations"])
    analysis = ctx["analysis"]
    if analysis:
        methods = (
            f"{analysis['model']} of {analysis['outcome']} ({analysis['comparison']}); threshold "
            f"{analysis['mcid']} point(s); exact randomization test."
        )
    elif record.blinded:
        methods = "Bayesian AR(1) model and exact randomization test, run only after unblinding."
    else:
        methods = "Analysis not run yet."
    results = (
        "Per-pack completeness, adherence and side effects below; packs are compared only after unblinding"
        if record.blinded
        else "Per-period means, effect posterior and randomization test below"
    )
    harms = f"{len(ctx['side_effects'])} kind(s) of side effect reported on the diary"
    if ctx["safety"] is not None:
        harms += f"; {len(ctx['safety']['findings'])} safety finding(s)"
    return [
        ("1a", "Identification", f"N-of-1 trial, {record.trial_id}"),
        (
            "3a",
            "Design",
            f"{p.design.value} crossover, {p.n_periods} periods of {p.period_days} days, run-in "
            f"{p.run_in_days} days, washout {p.washout_days} days",
        ),
        ("4a", "Participant", f"{p.condition.value.replace('-', ' ')}; pseudonym {record.participant}"),
        (
            "5",
            "Interventions",
            f"{p.product.name} vs {COMPARATOR_LABELS[p.comparator]}, one numbered pack per "
            "period (see the period table)",
        ),
        ("6a", "Outcomes", "Daily average pain (primary), worst pain and sleep interference, 0-10"),
        ("8a/8b", "Randomization", ctx["randomization"]["method"]),
        ("9/10", "Concealment", ctx["randomization"]["check"]),
        ("11a/11b", "Blinding", blinding),
        (
            "12a",
            "Statistical methods",
            methods + f" The first {p.carryover_days} days of each period are not analysed (carry-over).",
        ),
        (
            "13/16",
            "Periods and missing data",
            f"{q['filled']} of {q['due']} diary days filled ({q['completion']}); {q['missing']} missing",
        ),
        (
            "14",
            "Adherence",
            f"full dose on {q['full']} of {q['period_entries']} period diary days "
            f"({q['adherence']}); partial {q['partial']}, none {q['missed']}",
        ),
        (
            "—",
            "Deviations",
            f"{q['corrections']} correction(s), {q['voids']} void(s), {q['late']} late entr(ies)"
            + (f"; trial status {record.status}" if record.status == "stopped" else ""),
        ),
        ("17", "Results", results),
        ("19", "Harms", harms),
    ]


def plain_summary(record: TrialRecord, analysis: Any, quality: dict[str, Any]) -> str:
    """What the participant reads: the analysis's own words, or a description of the diary so far."""
    if analysis is not None:
        return analysis.text
    return (
        f"You have filled in {quality['filled']} of {quality['due']} diary days so far "
        f"({quality['completion']}) and took the full dose on {quality['adherence']} of pack days. "
        "The results have not been analysed yet; your clinician will go through them with you."
    )


def draw_charts(record: TrialRecord, analysis: Any) -> dict[str, str]:
    from magtrial.plots.posterior import mixture_density, plot_posterior
    from magtrial.plots.svg import figure_svg, style
    from magtrial.plots.timeseries import plot_pain_timeseries

    charts = {}
    with style():
        ax = plot_pain_timeseries(record, period_means=tables.period_means(record))
        charts["timeseries"] = figure_svg(ax.figure)
        post = getattr(analysis, "posterior", None)
        if post is not None:
            grid, density = mixture_density(post.weights, post.means, post.sds)
            xlabel = (
                f"difference in {analysis.outcome.label}, {analysis.labels.first} minus "
                f"{analysis.labels.second} (points)"
            )
            ax = plot_posterior(
                grid,
                density,
                mcid=analysis.mcid,
                interval=(analysis.effect.lower, analysis.effect.upper),
                xlabel=xlabel,
            )
            charts["posterior"] = figure_svg(ax.figure)
    return charts
