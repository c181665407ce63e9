"""A SPENT 2019-shaped trial protocol generated from the trial record (HTML, and PDF through WeasyPrint).

SPENT 2019 (Porcino et al., BMJ 2020;368:m122) is the SPIRIT 2013 protocol checklist extended for
N-of-1 trials. Every SPIRIT item is answered, in checklist order, from the record: the protocol and
its versions, the calendar, the safety check stored at creation, the commitment; an item that does
not apply to one person's trial on this platform says why. The document is what was planned before
the first period, so it never uses the allocation, even once the trial is unblinded: it is the same
whichever order was drawn.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from magtrial import __version__
from magtrial.core.allocation import possible_sequences
from magtrial.core.labels import COMPARATOR_LABELS
from magtrial.core.protocol import Blinding, blinding_limitations
from magtrial.core.record import TrialRecord
from magtrial.core.versions import describe, versions
from magtrial.data.safety import elemental_dose
from magtrial.report.timeline import timeline_svg

NA = "Not applicable: "

SPENT_ITEMS = (
    ("1", "Title"),
    ("2a", "Trial registration"),
    ("2b", "Registration data set"),
    ("3", "Protocol version"),
    ("4", "Funding"),
    ("5a", "Roles and responsibilities: contributors"),
    ("5b", "Sponsor"),
    ("5c", "Role of sponsor and funders"),
    ("5d", "Committees"),
    ("6a", "Background and rationale (including why an N-of-1 trial)"),
    ("6b", "Choice of comparator"),
    ("7", "Objectives"),
    ("8", "Trial design: periods, washout, cycles, run-in"),
    ("9", "Study setting"),
    ("10", "Eligibility criteria (the participant)"),
    ("11a", "Interventions"),
    ("11b", "Modifications of the interventions"),
    ("11c", "Adherence"),
    ("11d", "Concomitant care"),
    ("12", "Outcomes"),
    ("13", "Participant timeline"),
    ("14", "Sample size (number of periods and measurements)"),
    ("15", "Recruitment"),
    ("16a", "Randomization: sequence generation"),
    ("16b", "Allocation concealment and commitment"),
    ("16c", "Implementation"),
    ("17a", "Blinding"),
    ("17b", "Emergency unblinding"),
    ("18a", "Data collection methods"),
    ("18b", "Retention"),
    ("19", "Data management"),
    ("20a", "Statistical methods"),
    ("20b", "Additional analyses (aggregation of N-of-1 trials)"),
    ("20c", "Missing data"),
    ("21a", "Data monitoring"),
    ("21b", "Interim analyses and stopping"),
    ("22", "Harms and safety monitoring"),
    ("23", "Auditing"),
    ("24", "Research ethics approval"),
    ("25", "Protocol amendments"),
    ("26a", "Consent"),
    ("26b", "Consent for ancillary studies"),
    ("27", "Confidentiality"),
    ("28", "Declaration of interests"),
    ("29", "Access to data"),
    ("30", "Ancillary and post-trial care"),
    ("31a", "Dissemination"),
    ("31b", "Authorship"),
    ("31c", "Reproducible research"),
    ("32", "Informed consent materials"),
    ("33", "Biological specimens"),
)
"""Every SPIRIT 2013 item as SPENT 2019 adapts it, in checklist order; ``protocol_items`` answers each."""


def protocol_items(record: TrialRecord) -> list[dict[str, str]]:
    """Every SPENT item as ``{"item", "topic", "text"}``, answered from the record or "Not applicable: why"."""
    answers = _answers(record)
    return [{"item": i, "topic": t, "text": answers[i]} for i, t in SPENT_ITEMS]


def _answers(record: TrialRecord) -> dict[str, str]:
    from magtrial.data.evidence import load_evidence

    p, schedule = record.protocol, record.schedule
    first = versions(p)[0].protocol
    comparator = COMPARATOR_LABELS[p.comparator]
    mg, how = elemental_dose(p.product)
    dose = f"{mg:g} mg elemental magnesium a day ({how})" if mg is not None else how
    n_orders = sum(1 for _ in possible_sequences(p.design, first.cycles))
    safety: dict[str, Any] = dict(record.extra.get("safety") or {})  # type: ignore[call-overload]
    findings = safety.get("findings") or []
    amendments: Any = record.extra.get("amendments") or []  # stored dicts: at, changes, reason
    evidence = load_evidence()
    cited = "; ".join(f"{s.label}: {s.headline}" for s in evidence.studies)
    periods = ", ".join(
        f"period {q.number} (pack {q.pack}) {q.start:%d %b %Y} to {q.end:%d %b %Y}" for q in schedule.periods
    )
    blinded = p.blinding is Blinding.BLINDED
    return {
        "1": f"Randomized, {p.blinding.value} N-of-1 trial of {p.product.name} versus {comparator} for "
        f"{p.condition.value.replace('-', ' ')} (trial {record.trial_id}, participant {record.participant}).",
        "2a": NA + "a single person's treatment trial run in clinical care is not registered on this platform; "
        f"its identifier is {record.trial_id} and its SHA-256 commitment {record.commitment}.",
        "2b": NA + "no registry entry (see 2a); the items below hold the data set a registry would ask for.",
        "3": f"Version {len(versions(p))} of {record.created_at:%d %b %Y}, generated by magtrial {__version__}"
        + (f" at audit head {record.audit_head}" if record.audit_head else "")
        + ". "
        + " ".join(f"Protocol {line}." for line in describe(p)),
        "4": NA + "no external funding is recorded with the trial.",
        "5a": f"Participant {record.participant}; the treating clinician owns the trial; a pharmacist (or trusted "
        "person) holding the pharmacist key prepares identical-looking numbered packs.",
        "5b": NA + "an individual trial in clinical care has no sponsor; the clinician is responsible.",
        "5c": NA + "no sponsor or funder (see 4, 5b).",
        "5d": NA + "no committees for one person's trial; safety is monitored by the clinician (see 21a, 22).",
        "6a": "Magnesium is an NMDA-receptor antagonist tried for neuropathic pain; published trials are few, small "
        f"and mixed ({cited}). An N-of-1 trial answers the question for this person with their own repeated, "
        "blinded comparisons. Evidence table: magtrial/data/evidence.toml.",
        "6b": f"{comparator.capitalize()}: "
        + ("identical in look, so neither participant nor clinician knows the pack." if blinded else "open."),
        "7": f"To estimate, for this participant, the difference in daily {p.primary_outcome.replace('_', ' ')} "
        f"between {p.product.name} and {comparator}, and the probability of a clinically meaningful benefit.",
        "8": f"{p.design.value} crossover: {p.cycles} cycles of two periods ({p.n_periods} periods, one numbered pack "
        f"each); run-in {p.run_in_days} days without trial product; periods of {first.period_days} days; washout "
        f"{first.washout_days} days between periods; the first {first.carryover_days} days of each period are not "
        "analysed (carry-over).",
        "9": f"The participant's home, with a phone or computer diary; days follow time zone {p.timezone}.",
        "10": f"Participant {record.participant} with {p.condition.value.replace('-', ' ')}; a safety check of age, "
        "kidney function, pregnancy, conditions and medicines ran before the trial could start"
        + (f" (verdict: {safety['verdict']})." if safety.get("verdict") else "."),
        "11a": f"{p.product.name} ({p.product.salt}, {p.product.route.value}), {dose}, in "
        f"{p.product.doses_per_day} dose(s) a day; versus {comparator} in the same schedule.",
        "11b": "The dose may be lowered for side effects; a change of product or dose is an amendment from the next "
        "period on, with a reason, the clinician's approval and a new safety check (see 25).",
        "11c": "The diary records each day whether the full, a partial or no dose was taken.",
        "11d": "Rescue medicine and other treatments are recorded in the diary; usual medicines continue.",
        "12": f"Primary: daily {p.primary_outcome.replace('_', ' ')} (0-10). Secondary: the other 0-10 diary "
        "scores (average pain, worst pain, sleep interference), side effects, adherence.",
        "13": f"Run-in from {schedule.start:%d %b %Y}; {periods}; last day {schedule.end:%d %b %Y}.",
        "14": f"{p.n_periods} periods with one diary entry a day; the design allows {n_orders} equally likely orders, "
        f"so the smallest possible one-sided randomization-test p is {1 / n_orders:.4f}.",
        "15": NA + "one participant, who asked for the trial with their clinician.",
        "16a": f"The order of packs is drawn by the operating system's secure random generator (Python secrets) from "
        f"the {n_orders} orders the {p.design.value} design allows, with a random 256-bit salt.",
        "16b": f"The order and salt are sealed (libsodium sealed boxes) to the pharmacist's and the clinic's "
        f"emergency public keys; the database holds ciphertext and the SHA-256 commitment {record.commitment}, "
        "published before the first period and checked at unblinding. Cycles added by an amendment get an "
        "order, salt and commitment of their own, sealed to the same keys.",
        "16c": "The computer draws the order; the pharmacist opens it with their key (audited) to fill the packs.",
        "17a": ("Participant and clinician see pack numbers only until unblinding; " if blinded else "Open design. ")
        + " ".join(blinding_limitations(p)),
        "17b": "In an emergency the clinician unblinds at once with the clinic's emergency key and a reason; early "
        "unblinding is recorded as such.",
        "18a": "Daily diary: average pain, worst pain and sleep interference 0-10, dose taken, side effects, rescue "
        f"medicine, a note; entries later than {p.late_after_hours} hours are flagged late.",
        "18b": "Reminders (calendar file) for diary and doses; a missed day can be filled in the next day (flagged).",
        "19": "Append-only diary versions and a hash-chained audit trail; corrections keep the earlier value.",
        "20a": "Bayesian AR(1) model of the daily outcome with drift (magnesium minus comparator), posterior mean, "
        "95% credible interval and probability of benefit; exact randomization test over the design's orders; "
        "each day is analysed under the protocol version it ran under.",
        "20b": "With consent, the per-trial effect likelihood may be pooled with other real (not simulated) trials.",
        "20c": "Missing days are left out; the model keeps their calendar gaps.",
        "21a": "The clinician follows completeness, adherence and safety flags throughout; no data monitoring "
        "committee (one person).",
        "21b": "No comparison of packs before unblinding; the trial may stop early for safety or by the "
        "participant's choice.",
        "22": f"Safety check before the start ({len(findings)} finding(s)); stop-and-seek-care symptoms in the diary "
        "flag the trial at once; side effects are recorded daily.",
        "23": "Every change is an audit event in a hash chain; `magtrial audit verify` replays it against the tables.",
        "24": NA + "a treatment trial in one person's clinical care; local rules on ethics review apply.",
        "25": (
            "; ".join(f"{a.get('at', '')}: {a.get('changes', '')} ({a.get('reason', '')})" for a in amendments)
            if amendments
            else "None so far."
        )
        + " Amendments change periods not yet started only, with a reason, the clinician's approval, an audit "
        "event and a new safety check.",
        "26a": "The participant agrees with the clinician before the first period.",
        "26b": NA + "no ancillary studies.",
        "27": "The participant is known by a pseudonym only; the database holds no real name.",
        "28": NA + "none recorded with the trial.",
        "29": "The participant and their clinician; the pharmacist sees the allocation only with their key.",
        "30": "After unblinding the clinician and participant decide together whether to continue the product.",
        "31a": "The result is shared with the participant in plain words after unblinding.",
        "31b": NA + "a clinical trial of one, not a publication.",
        "31c": "Commitment, sequence and salt allow anyone to verify the allocation after unblinding.",
        "32": NA + "consent is recorded in clinical care, not attached to this document.",
        "33": NA + "no biological specimens are collected.",
    }


def protocol_context(record: TrialRecord, generated_at: dt.datetime | None = None) -> dict[str, Any]:
    generated_at = generated_at or dt.datetime.now(dt.UTC)
    return {
        "title": f"Protocol: N-of-1 trial of {record.protocol.product.name}",
        "trial_id": record.trial_id,
        "participant": record.participant,
        "simulated": record.simulated,
        "audit_head": record.audit_head,
        "generated": f"{generated_at:%d %b %Y %H:%M} UTC",
        "version": __version__,
        "items": protocol_items(record),
        "timeline": timeline_svg(dataclasses.replace(record, allocation=None), id_prefix="protocol-timeline"),
    }


def render_protocol_html(record: TrialRecord, generated_at: dt.datetime | None = None) -> str:
    from markupsafe import Markup

    from magtrial.report.render import _environment

    context = protocol_context(record, generated_at)
    context["timeline"] = Markup(context["timeline"])  # drawn by us from the calendar, escaped inside
    return _environment().get_template("protocol.html.j2").render(**context)


def render_protocol_pdf(record: TrialRecord, generated_at: dt.datetime | None = None) -> bytes:
    from magtrial.report.render import pdf_from_html

    return pdf_from_html(render_protocol_html(record, generated_at))
