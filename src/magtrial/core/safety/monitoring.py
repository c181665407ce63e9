"""Diary side effects fed back into safety while a trial runs.

Two rules: repeated diarrhoea within a period suggests a lower dose; any stop-and-seek-care sign
of too much magnesium gives an urgent finding that flags the trial for the clinician. Messages
name periods and packs only, never an arm, so they are safe to show a blinded participant.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping

from magtrial.core.diary import DiaryVersion
from magtrial.core.safety.model import Finding
from magtrial.core.safety.rules import SafetyRules, Symptom
from magtrial.core.schedule import DayKind, Schedule

DIARRHOEA = "diarrhoea"


def stop_symptoms(side_effects: frozenset[str], other_text: str, rules: SafetyRules) -> list[Symptom]:
    """The toxicity signs in one day's diary: ticked items, or their words in the free text."""
    return [s for s in rules.symptoms if side_effects & set(s.diary_items) or (other_text and s.found_in(other_text))]


def review_diary(schedule: Schedule, entries: Mapping[dt.date, DiaryVersion], *, rules: SafetyRules) -> list[Finding]:
    """Findings from the current diary entries (``current_entries()``), urgent ones first."""
    urgent: list[Finding] = []
    diarrhoea_days: dict[int, list[dt.date]] = defaultdict(list)
    stop = rules.policy("diary-stop-symptom")
    for day, version in sorted(entries.items()):
        values = version.values
        if values is None:
            continue
        plan = schedule.day(day)
        found = stop_symptoms(values.side_effects, values.side_effect_other, rules)
        if found:
            source = "; ".join([stop.source, *(f"{s.rule_id}: {s.source}" for s in found)])
            urgent.append(
                Finding(
                    stop.rule_id,
                    stop.level,
                    stop.message.format(symptoms=", ".join(s.name for s in found), day=day.isoformat()),
                    source,
                    day=day,
                    period=plan.period,
                )
            )
        if DIARRHOEA in values.side_effects and plan.kind is DayKind.PERIOD and plan.period is not None:
            diarrhoea_days[plan.period].append(day)
    lower_dose = rules.policy("diary-diarrhoea")
    threshold = int(lower_dose.value or 2)
    suggestions = [
        Finding(
            lower_dose.rule_id,
            lower_dose.level,
            lower_dose.message.format(days=len(days), period=period),
            lower_dose.source,
            day=days[-1],
            period=period,
        )
        for period, days in sorted(diarrhoea_days.items())
        if len(days) >= threshold
    ]
    return urgent + suggestions
