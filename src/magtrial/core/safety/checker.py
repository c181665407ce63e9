"""The magnesium safety check: a person, their magnesium products and medicines, in one report.

Every finding names the rule that produced it and that rule's source. The verdict is the most
serious finding: ok < caution < needs-clinician < blocked. Trial creation refuses ``blocked``
and records a clinician's acknowledgement for ``needs-clinician`` (the service does that).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from magtrial.core.protocol import Product
from magtrial.core.safety.dose import product_dose
from magtrial.core.safety.model import (
    Finding,
    Jurisdiction,
    Level,
    Medication,
    Person,
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
    findings = [Finding(r.rule_id, r.level, r.message, r.source) for r in applying
                if r.threshold is None or strictest[r.kind] is r]
    if person.egfr is None and not person.dialysis:
        p = rules.policy("renal-egfr-unknown")
        findings.append(Finding(p.rule_id, p.level, p.message, p.source))
    condition_rules = [r for r in rules.person_rules if r.kind == "condition"]
    for condition in person.conditions:
        if not any(r.matches_condition(condition) for r in condition_rules):
            p = rules.policy("condition-unlisted")
            findings.append(Finding(p.rule_id, p.level, p.message.format(condition=condition), p.source))
    return findings


def medication_findings(medications: Sequence[Medication], rules: SafetyRules,
                        takes_oral: bool) -> tuple[list[Finding], list[Spacing]]:
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
            findings.append(Finding(p.rule_id, level, p.message.format(drug=med.name, hours=minutes / 60)
                                    + oral_note, p.source))
            before = after = minutes
            rule_id = p.rule_id
        else:
            level = rule.level if (takes_oral or not rule.spaced) else Level.OK
            at = f" (taken at {', '.join(f'{t:%H:%M}' for t in med.times)})" if med.times else ""
            findings.append(Finding(rule.rule_id, level, f"{med.name}{at}: {rule.effect} {rule.action}"
                                    + (oral_note if rule.spaced else ""), rule.source))
            before, after, rule_id = rule.drug_before_mg_min, rule.drug_after_mg_min, rule.rule_id
        if takes_oral and (before or after):
            spacings.extend(Spacing(med.name, t, before, after, rule_id) for t in med.times)
    return findings, spacings


def check_regimen(person: Person, products: Sequence[Product], medications: Sequence[Medication],
                  jurisdiction: Jurisdiction | str, *, rules: SafetyRules, wake: dt.time = DEFAULT_WAKE,
                  sleep: dt.time = DEFAULT_SLEEP) -> SafetyReport:
    """Check a whole regimen; the report's ``verdict`` decides whether a trial may start."""
    jurisdiction = as_jurisdiction(jurisdiction)
    if not products:
        raise SafetyInputError("give at least one magnesium product to check")
    findings = person_findings(person, rules)
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
            findings.append(Finding(p.rule_id, p.level, p.message.format(total=total),
                                    f"{p.source}; {ul.source}"))
    elif takes_oral:
        p = rules.policy("dose-within-ul" if total <= ul.mg else "dose-over-ul")
        message = p.message.format(total=total, ul=ul.mg, jurisdiction=jurisdiction.value)
        findings.append(Finding(p.rule_id, p.level, message, f"{p.source}; {ul.rule_id}: {ul.source}"))
    drug_findings, spacings = medication_findings(medications, rules, takes_oral)
    findings.extend(drug_findings)
    timetable = None
    oral = [p for p in products if not p.route.transdermal]
    if oral:
        names = ", ".join(p.name for p in oral)
        timetable = propose_timetable(max(p.doses_per_day for p in oral), spacings, wake, sleep, label=names)
        if not timetable.feasible:
            p = rules.policy("timetable-infeasible")
            findings.append(Finding(p.rule_id, p.level, p.message.format(
                wake=f"{wake:%H:%M}", sleep=f"{sleep:%H:%M}", reason=timetable.reason), p.source))
    rda = rules.rda(person)
    return SafetyReport(findings=tuple(findings), doses=tuple(doses), total_oral_mg=round(total, 1),
                        upper_limit_mg=ul.mg, rda_mg=rda.mg if rda else None, jurisdiction=jurisdiction,
                        timetable=timetable)


def check_protocol(person: Person, product: Product, medications: Sequence[Medication],
                   jurisdiction: Jurisdiction | str, *, rules: SafetyRules, wake: dt.time = DEFAULT_WAKE,
                   sleep: dt.time = DEFAULT_SLEEP) -> SafetyReport:
    """The check ``trial create`` runs on a protocol's single product."""
    return check_regimen(person, [product], medications, jurisdiction, rules=rules, wake=wake, sleep=sleep)
