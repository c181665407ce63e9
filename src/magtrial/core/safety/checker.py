"""The magnesium safety check: a person, their magnesium products and medicines, in one report.

Every finding names the rule that produced it and that rule's source. The verdict is the most
serious finding: ok < caution < needs-clinician < blocked. Trial creation refuses ``blocked``
and records a clinician's acknowledgement for ``needs-clinician`` (the service does that).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from magtrial.core.protocol import Product
from magtrial.core.safety.conditions import ConditionConcept, ConditionMatch
from magtrial.core.safety.dose import product_dose
from magtrial.core.safety.model import (
    Finding,
    Jurisdiction,
    Level,
    Medication,
    Person,
    ProductDose,
    SafetyReport,
    as_jurisdiction,
)
from magtrial.core.safety.rules import PersonRule, SafetyRules
from magtrial.core.safety.timetable import DEFAULT_SLEEP, DEFAULT_WAKE, Spacing, propose_timetable
from magtrial.errors import SafetyInputError


def person_findings(person: Person, rules: SafetyRules) -> list[Finding]:
    """Kidney, condition, life-stage and age rules; of threshold rules only the strictest that applies."""
    applying = [r for r in rules.person_rules if r.applies(person)]
    strictest: dict[str, PersonRule] = {}
    for r in applying:
        if r.threshold is None:
            continue
        held = strictest.get(r.kind)
        if held is None or r.threshold < (held.threshold or 0):
            strictest[r.kind] = r
    findings = [
        Finding(r.rule_id, r.level, r.message, r.source)
        for r in applying
        if r.threshold is None or strictest[r.kind] is r
    ]
    if person.egfr is None and not person.dialysis:
        p = rules.policy("renal-egfr-unknown")
        findings.append(Finding(p.rule_id, p.level, p.message, p.source))
    findings.extend(condition_findings(match_conditions(person, rules), rules, {f.rule_id for f in findings}))
    return findings


def match_conditions(person: Person, rules: SafetyRules) -> tuple[ConditionMatch, ...]:
    """How each condition the person listed was read against the vocabulary."""
    return tuple(rules.conditions.match(c) for c in person.conditions)


def condition_findings(
    matches: Sequence[ConditionMatch], rules: SafetyRules, already: Collection[str] = ()
) -> list[Finding]:
    """One finding per rule the conditions trigger (naming every condition that did), and one
    *needs clinician* finding per condition not recognised; a rule already reported from the
    person's other details (the dialysis flag, the eGFR) is not repeated.

    An unrecognised text that names a known concept ("suspected myasthenia gravis") also triggers
    that concept's rule when it is more than ``ok``, so a qualifier never hides a blocking condition.
    """
    by_rule: dict[str, list[str]] = {}
    findings: list[Finding] = []
    for m in matches:
        if m.concept is not None:
            by_rule.setdefault(m.concept.rule_id, []).append(_read_as(m.text, m.concept))
            continue
        p = rules.policy("condition-unlisted")
        findings.append(Finding(p.rule_id, p.level, p.message.format(condition=m.text), p.source))
        for concept in m.mentions:
            if rules.person_rule(concept.rule_id).level > Level.OK:
                by_rule.setdefault(concept.rule_id, []).append(f"'{m.text}' mentions {concept.name}")
    for rule_id, reads in by_rule.items():
        if rule_id in already:
            continue
        rule = rules.person_rule(rule_id)
        notes = " ".join(
            dict.fromkeys(n for m in matches if m.concept and m.concept.rule_id == rule_id and (n := m.concept.note))
        )
        message = f"{'; '.join(reads)}. {rule.message}" + (f" {notes}" if notes else "")
        findings.append(Finding(rule.rule_id, rule.level, message, rule.source))
    return findings


def _read_as(text: str, concept: ConditionConcept) -> str:
    codes = ", ".join(f"{c.system_name} {c.code}" for c in concept.codes if c.verified)
    return f"'{text}' read as {concept.name}" + (f" ({codes})" if codes else "")


def medication_findings(
    medications: Sequence[Medication], rules: SafetyRules, takes_oral: bool
) -> tuple[list[Finding], list[Spacing]]:
    """One finding per medicine, and the spacing rules the timetable must keep.

    A medicine missing from the table gets the default chelation spacing as a precaution.
    Spacing only matters for magnesium taken by mouth, so skin-only regimens get notes.
    """
    findings: list[Finding] = []
    spacings: list[Spacing] = []
    oral_note = "" if takes_oral else " (Spacing matters only for magnesium taken by mouth.)"
    for med in medications:
        rule = rules.interaction(med.name)
        if rule is None:
            p = rules.policy("drug-unlisted")
            minutes = int(p.value or 0)
            level = p.level if takes_oral else Level.OK
            findings.append(
                Finding(p.rule_id, level, p.message.format(drug=med.name, hours=minutes / 60) + oral_note, p.source)
            )
            before = after = minutes
            rule_id = p.rule_id
        else:
            level = rule.level if (takes_oral or not rule.spaced) else Level.OK
            at = f" (taken at {', '.join(f'{t:%H:%M}' for t in med.times)})" if med.times else ""
            findings.append(
                Finding(
                    rule.rule_id,
                    level,
                    f"{med.name}{at}: {rule.effect} {rule.action}" + (oral_note if rule.spaced else ""),
                    rule.source,
                )
            )
            before, after, rule_id = rule.drug_before_mg_min, rule.drug_after_mg_min, rule.rule_id
        if takes_oral and (before or after):
            spacings.extend(Spacing(med.name, t, before, after, rule_id) for t in med.times)
    return findings, spacings


def check_regimen(
    person: Person,
    products: Sequence[Product],
    medications: Sequence[Medication],
    jurisdiction: Jurisdiction | str,
    *,
    rules: SafetyRules,
    wake: dt.time = DEFAULT_WAKE,
    sleep: dt.time = DEFAULT_SLEEP,
) -> SafetyReport:
    """Check a whole regimen; the report's ``verdict`` decides whether a trial may start."""
    jurisdiction = as_jurisdiction(jurisdiction)
    if not products:
        raise SafetyInputError("give at least one magnesium product to check")
    findings = person_findings(person, rules)
    conditions = match_conditions(person, rules)
    doses = []
    for product in products:
        dose, dose_notes = product_dose(product, rules)
        doses.append(dose)
        findings.extend(dose_notes)
    total = sum(d.elemental_mg_per_day for d in doses if d.counts_toward_ul)
    takes_oral = any(d.counts_toward_ul for d in doses)
    ul = rules.upper_limit(person, jurisdiction)
    if ul.mg is None:
        if total > 0:
            p = rules.policy("dose-no-ul")
            findings.append(Finding(p.rule_id, p.level, p.message.format(total=total), f"{p.source}; {ul.source}"))
    elif takes_oral:
        p = rules.policy("dose-within-ul" if total <= ul.mg else "dose-over-ul")
        message = p.message.format(total=total, ul=ul.mg, jurisdiction=jurisdiction.value)
        findings.append(Finding(p.rule_id, p.level, message, f"{p.source}; {ul.rule_id}: {ul.source}"))
    findings.extend(implausibly_low(products, doses, rules))
    drug_findings, spacings = medication_findings(medications, rules, takes_oral)
    findings.extend(drug_findings)
    timetable = None
    oral = [p for p in products if not p.route.transdermal]
    if oral:
        names = ", ".join(p.name for p in oral)
        timetable = propose_timetable(max(p.doses_per_day for p in oral), spacings, wake, sleep, label=names)
        if not timetable.feasible:
            p = rules.policy("timetable-infeasible")
            findings.append(
                Finding(
                    p.rule_id,
                    p.level,
                    p.message.format(wake=f"{wake:%H:%M}", sleep=f"{sleep:%H:%M}", reason=timetable.reason),
                    p.source,
                )
            )
    rda = rules.rda(person)
    return SafetyReport(
        findings=tuple(findings),
        doses=tuple(doses),
        total_oral_mg=round(total, 1),
        upper_limit_mg=ul.mg,
        rda_mg=rda.mg if rda else None,
        jurisdiction=jurisdiction,
        timetable=timetable,
        conditions=conditions,
    )


def implausibly_low(products: Sequence[Product], doses: Sequence[ProductDose], rules: SafetyRules) -> list[Finding]:
    """A question for each oral product whose daily elemental dose is too small to be a supplement
    (a gram typed as mg, say): a clinician confirms the dose before the trial starts."""
    p = rules.policy("dose-implausibly-low")
    findings = []
    for product, dose in zip(products, doses, strict=True):
        total = dose.elemental_mg_per_day
        if dose.counts_toward_ul and 0 < total < (p.value or 0):
            typed = [
                (what, mg)
                for what, mg in (
                    ("elemental magnesium", product.elemental_mg_per_unit),
                    ("salt", product.salt_mg_per_unit),
                )
                if mg is not None
            ]
            what, mg = typed[0]
            hint = (
                f" ({mg:g} mg of {what} per unit: did you mean {mg:g} g, that is {mg * 1000:g} mg?)" if mg < 10 else ""
            )
            findings.append(
                Finding(p.rule_id, p.level, p.message.format(product=product.name, total=total, hint=hint), p.source)
            )
    return findings


def check_protocol(
    person: Person,
    product: Product,
    medications: Sequence[Medication],
    jurisdiction: Jurisdiction | str,
    *,
    rules: SafetyRules,
    wake: dt.time = DEFAULT_WAKE,
    sleep: dt.time = DEFAULT_SLEEP,
) -> SafetyReport:
    """The check ``trial create`` runs on a protocol's single product."""
    return check_regimen(person, [product], medications, jurisdiction, rules=rules, wake=wake, sleep=sleep)
