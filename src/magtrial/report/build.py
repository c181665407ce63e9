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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from magtrial import __version__
from magtrial.core.allocation import possible_sequences, verify_all
from magtrial.core.analysis import SEALED
from magtrial.core.creation import days_started_before_creation
from magtrial.core.labels import COMPARATOR_LABELS
from magtrial.core.protocol import blinding_limitations
from magtrial.core.record import TrialRecord
from magtrial.core.versions import describe
from magtrial.data.safety import elemental_dose
from magtrial.errors import Forbidden
from magtrial.report import tables
from magtrial.report.checkin import checkin_section
from magtrial.report.clinic import cent_note, clinic_section

if TYPE_CHECKING:  # the report's typed inputs (imported for the checker only: analysis pulls in scipy)
    from magtrial.core.analysis import AnalysisResult
    from magtrial.core.evidence import EvidenceTable
    from magtrial.core.pooling import PoolResult
    from magtrial.core.safety import SafetyReport

    # A checker's report, its stored dict (TrialRecord.stored_safety) or a plain list of findings.
    SafetyInput = SafetyReport | Mapping[str, Any] | Sequence[Any]
from magtrial.report.charts import draw_charts
from magtrial.report.evidence_panel import evidence_section, forest_svg


def build_context(
    record: TrialRecord,
    *,
    analysis: AnalysisResult | None = None,
    safety: SafetyInput | None = None,
    evidence: EvidenceTable | PoolResult | None = None,
    pooled: PoolResult | None = None,
    generated_at: dt.datetime | None = None,
    charts: bool = True,
    chart_cache: Path | None = None,
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
    chart_cache : a folder to keep drawn charts in between runs (``plots.chart_cache``), or None.
    """
    if record.blinded and analysis is not None:
        raise Forbidden(f"trial {record.trial_id} is blinded: {SEALED}")
    generated_at = generated_at or dt.datetime.now(dt.UTC)
    p = record.protocol
    today = p.local_date(generated_at)  # the participant's calendar day
    quality = tables.data_quality(record, today)
    context: dict[str, Any] = {
        "title": f"N-of-1 trial of {p.product.name} vs {COMPARATOR_LABELS[p.comparator]}",
        "trial_id": record.trial_id,
        "participant": record.participant,
        "blinded": record.blinded,
        "generated": f"{generated_at:%d %b %Y %H:%M} UTC",
        "version": __version__,
        "status": record.status,
        "progress": tables.trial_progress(record, today),
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
    context["clinic"] = clinic_section(record)
    context["checkin"] = checkin_section(record)  # blinding check and stopping rule
    if pooled is None and hasattr(evidence, "mu"):
        evidence, pooled = None, evidence
    context["evidence"] = evidence_section(evidence, pooled)
    context["cent"] = cent_items(record, context)
    context["summary"] = plain_summary(record, analysis, quality)
    context["charts"] = draw_charts(record, analysis, chart_cache) if charts else {}
    if charts and context["evidence"] is not None:
        context["charts"]["forest"] = forest_svg(evidence, pooled, chart_cache)
    return context


CONDITION_LABELS = {
    "crps-1": "complex regional pain syndrome type 1 (CRPS-1)",
    "painful-diabetic-neuropathy": "painful diabetic neuropathy",
    "low-back-pain-neuropathic": "low back pain with a neuropathic component",
    "post-herpetic-neuralgia": "post-herpetic neuralgia",
    "chemotherapy-induced-neuropathy": "chemotherapy-induced peripheral neuropathy",
    "other": "other neuropathic pain (see the clinical notes)",
}


def condition_label(record: TrialRecord) -> str:
    value = str(record.protocol.condition.value)
    return CONDITION_LABELS.get(value, value.replace("-", " "))


def timezone_text(record: TrialRecord) -> str:
    tz = record.protocol.timezone
    if tz == "UTC":
        return (
            "time zone UTC (the default: no local time zone was set, so diary days, late entries and "
            "reminders follow UTC; amend the protocol's time zone if the participant lives elsewhere)"
        )
    return f"time zone {tz} (diary days and reminders follow it)"


def points(x: float, digits: int = 2) -> str:
    """Signed points without a negative zero: -0.004 shows as '0.00', not '-0.00'."""
    text = f"{x:+.{digits}f}"
    return text[1:] if float(text) == 0 else text


def protocol_rows(record: TrialRecord) -> list[tuple[str, str]]:
    p, schedule = record.protocol, record.schedule
    mg, how = elemental_dose(p.product)
    dose = f"{mg:g} mg elemental magnesium a day ({how})" if mg is not None else how
    return [
        ("Condition", condition_label(record)),
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
            + timezone_text(record),
        ),
        *([("Protocol versions", "; ".join(describe(p)))] if p.earlier_versions else []),  # after amendments
    ]


def randomization(record: TrialRecord) -> dict[str, str]:
    """How the order was drawn and whether the published commitment checks out."""
    p = record.protocol
    n = sum(1 for _ in possible_sequences(p.design, p.cycles))
    created = p.local_date(record.created_at)  # the participant's calendar day
    late = days_started_before_creation(record)  # the same count the CLI and web warn with
    when = (
        f"when the trial was created ({created:%d %b %Y}), before the first diary day"
        if not late
        else f"when the trial was created ({created:%d %b %Y}), {late} "
        f"day(s) after the start date it was given ({record.schedule.start:%d %b %Y}): diary days "
        "entered before then were entered before the order existed"
    )
    method = (
        f"{p.design.value} design: the order of the two packs was drawn by the computer's secure random "
        f"generator from {n} equally likely orders, {when}."
    )
    if record.allocation is None:
        check = (
            f"Sealed. SHA-256 commitment {record.commitment} was published at creation "
            f"({record.created_at:%d %b %Y}); it is checked when the trial is unblinded."
        )
        sequence = "not shown (blinded)"
    else:
        a = record.allocation
        ok = verify_all(record.commitment, record.trial_id, a)  # with the parts amendments added, if any
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
        "n_days": str(analysis.effect.n_days),
        "effect": f"{points(analysis.effect.mean)} ({points(analysis.effect.lower)} to "
        f"{points(analysis.effect.upper)})",
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


CENT_ITEMS = (
    "1a",
    "1b",
    "2a",
    "2b",
    "3a",
    "3b",
    "4a",
    "4b",
    "5",
    "6a",
    "6b",
    "7a",
    "7b",
    "8a",
    "8b",
    "9",
    "10",
    "11a",
    "11b",
    "12a",
    "12b",
    "13a",
    "13b",
    "14a",
    "14b",
    "15",
    "16",
    "17a",
    "17b",
    "18",
    "19",
    "20",
    "21",
    "22",
    "23",
    "24",
    "25",
)
"""Every item of the CENT 2015 checklist (Vohra et al., BMJ 2015;350:h1738); ``cent_items`` answers each."""

NOT_APPLICABLE = "Not applicable: "


def cent_items(record: TrialRecord, ctx: dict[str, Any]) -> list[dict[str, str]]:
    """Every CENT 2015 item for one person's trial: answered from the record, or "Not applicable: why".

    Each row is ``{"item", "topic", "text"}``; ``CENT_ITEMS`` lists the items in checklist order and a
    test checks that each appears exactly once with a non-empty answer.
    """
    p, q, schedule = record.protocol, ctx["quality"], record.schedule
    comparator = COMPARATOR_LABELS[p.comparator]
    n_orders = ctx["randomization"]["n_sequences"]
    analysis = ctx["analysis"]
    blinding = (
        "Participant and clinician blinded: the packs look alike and are numbered; the pharmacist (or "
        "trusted person) who fills them holds the key. Until unblinding this report shows pack numbers "
        "only and neither groups nor compares packs."
        if p.blinding.value != "open"
        else "Open (not blinded). " + " ".join(ctx["limitations"])
    )
    blinding += (
        " Unblinded on " + f"{record.unblinded_at:%d %b %Y}."
        if record.unblinded_at
        else " Still blinded."
        if record.blinded
        else ""
    )
    blinding += (
        " Success of blinding was not assessed: the diary does not ask which pack the participant "
        "believes held magnesium."
    )
    planned = (
        f"Bayesian AR(1) model of daily {p.primary_outcome.replace('_', ' ')} (magnesium minus comparator) with "
        "a linear drift, autocorrelation between days, and the rounding of whole-number scores, integrated "
        "exactly (no sampling); posterior mean, 95% credible interval and the probability of a benefit of "
        f"at least the threshold; and an exact randomization test over the {n_orders} orders the design "
        f"allows. The first {p.carryover_days} days of each period are not analysed (carry-over); missing "
        "days are left out and the model keeps their calendar gaps."
    )
    if analysis:
        methods = (
            f"{planned} Done: {analysis['model']} of {analysis['outcome']} ({analysis['comparison']}); "
            f"threshold {analysis['mcid']} point(s), {analysis['mcid_rule']}."
        )
    elif record.blinded:
        methods = f"Planned (run only after unblinding): {planned}"
    else:
        methods = f"Planned (not run for this report): {planned}"
    amendments = record.extra.get("amendments") or []
    changes = (
        "; ".join(
            f"{a.get('at', '')}: {a.get('changes', '')} ({a.get('reason', '')})"
            for a in amendments
            if isinstance(a, dict)
        )
        if isinstance(amendments, list) and amendments
        else "None recorded with this report; protocol amendments are audit events "
        f"(magtrial audit show {record.trial_id})."
    )
    harms = f"{len(ctx['side_effects'])} kind(s) of side effect reported in the diary (see Side effects and safety)"
    if ctx["safety"] is not None:
        harms += f"; {len(ctx['safety']['findings'])} safety finding(s)"
    if record.blinded:
        results = "Not yet: packs are compared only after unblinding (see Effect estimate above)."
    elif analysis:
        results = (
            f"{analysis['outcome'].capitalize()}, {analysis['comparison']}: {analysis['effect']} points "
            "(posterior mean, 95% credible interval); see Effect estimate and Periods above."
        )
    else:
        results = "Per-period means are in the Periods table above; the effect estimate was not run for this report."
    stopped = record.status == "stopped"
    ended = (
        "Stopped early (trial status stopped)."
        if stopped
        else "Completed as planned."
        if ctx["progress"] == "all periods finished"
        else f"Not ended: {ctx['progress']}."
    )
    rows = [
        (
            "1a",
            "Title",
            f"N-of-1 trial (randomized, {p.blinding.value}) of {p.product.name} vs {comparator}, {record.trial_id}",
        ),
        ("1b", "Abstract", "The Summary for the participant at the top of this report."),
        (
            "2a",
            "Background and rationale",
            f"Magnesium is proposed for neuropathic pain with mixed published evidence (see Evidence beyond this "
            f"trial); a single-person trial asks whether it helps {record.participant}.",
        ),
        (
            "2b",
            "Objectives",
            f"To estimate, for this person, the difference in daily {p.primary_outcome.replace('_', ' ')} "
            f"between {p.product.name} and {comparator}.",
        ),
        (
            "3a",
            "Design",
            f"{p.design.value} crossover, {p.cycles} cycles of two periods ({p.n_periods} periods of "
            f"{p.period_days} days), run-in {p.run_in_days} days, washout {p.washout_days} days",
        ),
        ("3b", "Changes to methods after start", changes),
        ("4a", "Participant", f"{condition_label(record)}; pseudonym {record.participant}"),
        (
            "4b",
            "Setting",
            "Daily diary kept by the participant at home (magtrial); clinician review. "
            + timezone_text(record).capitalize()
            + ".",
        ),
        (
            "5",
            "Interventions",
            f"{p.product.name} vs {comparator}, one numbered pack per period (see the period table); "
            f"adherence: full dose on {q['full']} of {q['period_entries']} period diary days ({q['adherence']}), "
            f"partial {q['partial']}, none {q['missed']}" + cent_note(record),
        ),
        (
            "6a",
            "Outcomes",
            f"Primary: daily {p.primary_outcome.replace('_', ' ')} (0-10 numeric rating). Also daily average and "
            "worst pain, sleep interference, dose taken, side effects and rescue medication.",
        ),
        ("6b", "Changes to outcomes", changes),
        (
            "7a",
            "Number of periods",
            f"{p.cycles} cycles fixed at set-up. With {p.cycles} cycles the randomization test cannot give a "
            f"one-sided p below 1/{n_orders}; `magtrial plan --cycles 2,3,4,5,6` gives the power and interval "
            "width for other numbers of cycles by simulation. No power calculation is stored with the trial.",
        ),
        (
            "7b",
            "Interim analyses and stopping",
            "No interim analysis of the effect (nothing is compared before unblinding). The trial stops early "
            "for safety: a stop-and-seek-care symptom flags it, and the clinician may unblind with the emergency "
            "key.",
        ),
        ("8a", "Sequence generation", ctx["randomization"]["method"]),
        (
            "8b",
            "Type of randomization",
            f"Restricted: each cycle holds both treatments once ({p.design.value}); {n_orders} possible orders.",
        ),
        ("9", "Allocation concealment", ctx["randomization"]["check"]),
        (
            "10",
            "Implementation",
            "magtrial drew the order; it is sealed to the pharmacist's key and the clinic's emergency key. "
            "The pharmacist (or trusted person) filled the numbered packs; the participant and clinician did not "
            "see the order.",
        ),
        ("11a", "Blinding", blinding),
        (
            "11b",
            "Similarity of interventions",
            f"{comparator.capitalize()}; packs are numbered, not labelled by content. Whether they looked, "
            "tasted or felt alike was not recorded."
            if p.blinding.value != "open"
            else NOT_APPLICABLE + "open design, the treatments were not disguised.",
        ),
        ("12a", "Statistical methods", methods),
        (
            "12b",
            "Additional analyses",
            "Sensitivity analysis on full-dose days only"
            + (f" ({analysis['full_dose_note']})" if analysis else "")
            + "; worst pain and sleep interference are summarised per arm without a model.",
        ),
        (
            "13a",
            "Periods completed",
            f"{q['filled']} of {q['due']} diary days due so far filled ({q['completion']}); see the period table",
        ),
        (
            "13b",
            "Losses and exclusions",
            f"{q['missing']} diary day(s) missing; the first {p.carryover_days} day(s) of each period are excluded "
            "by design (carry-over); voided entries are excluded",
        ),
        ("14a", "Dates", f"{schedule.start:%d %b %Y} to {schedule.end:%d %b %Y}; period dates in the period table"),
        ("14b", "Why the trial ended", ended),
        (
            "15",
            "Baseline data",
            f"Run-in of {p.run_in_days} days before the first pack (run-in means in Secondary outcomes once unblinded)."
            if p.run_in_days
            else NOT_APPLICABLE + "the protocol has no run-in.",
        ),
        (
            "16",
            "Numbers analysed",
            f"{analysis['n_days']} analysed diary days in the main analysis"
            if analysis
            else "Analysed days per period are in the period table.",
        ),
        ("17a", "Outcomes and estimation", results),
        (
            "17b",
            "Binary outcomes",
            NOT_APPLICABLE + "the outcomes are 0-10 ratings, analysed as numbers; "
            "the probability of a benefit of at least the threshold is given instead.",
        ),
        ("18", "Ancillary analyses", "The full-dose-only analysis (item 12b); no other analyses."),
        ("19", "Harms", harms),
        (
            "20",
            "Limitations",
            " ".join(
                [
                    *ctx["limitations"],
                    "One person's data: the result does not show how others would respond. Blinding success "
                    "was not assessed. Carry-over beyond the excluded first days cannot be ruled out.",
                ]
            ),
        ),
        (
            "21",
            "Generalisability",
            "The result applies to this person, this product and dose, during this time; the pooled N-of-1 "
            "and published evidence (Evidence beyond this trial) speak to others.",
        ),
        (
            "22",
            "Interpretation",
            "See the Summary: probabilities from this person's diary, not proof that the treatment works.",
        ),
        (
            "23",
            "Registration",
            NOT_APPLICABLE + "a single-patient trial in clinical care is not registered; "
            f"the SHA-256 commitment {record.commitment} fixes the order in advance.",
        ),
        (
            "24",
            "Protocol",
            "The protocol table above; the full protocol and its history are in the audit trail "
            f"(magtrial trial show {record.trial_id}).",
        ),
        (
            "25",
            "Funding",
            NOT_APPLICABLE + "no external funding is recorded for a trial run in routine care; "
            "magtrial is open-source software.",
        ),
    ]
    return [{"item": i, "topic": t, "text": x} for i, t, x in rows]


def plain_summary(record: TrialRecord, analysis: Any, quality: dict[str, Any]) -> str:
    """What the participant reads: the analysis's own words, or a description of the diary so far."""
    if analysis is not None:
        return analysis.text
    return (
        f"You have filled in {quality['filled']} of {quality['due']} diary days so far "
        f"({quality['completion']}) and took the full dose on {quality['adherence']} of pack days. "
        "The results have not been analysed yet; your clinician will go through them with you."
    )
