"""Magnesium safety: is this regimen safe to start, when to take it, and what the diary says.

The public entry points, all pure (rules come in as ``SafetyRules`` from
``magtrial.data.safety.load_safety_rules()``):

- ``check_regimen`` / ``check_protocol``: a ``SafetyReport`` with an ordered verdict;
- ``propose_timetable``: dose times that keep every spacing rule;
- ``review_diary``: findings from diary side effects during a trial;
- ``SafetyProfile.from_dict``: person, medicines and jurisdiction from plain keys;
- ``ConditionVocabulary.match``: how a condition as typed is read (concept, codes, rule).
"""

from magtrial.core.safety.checker import check_protocol, check_regimen
from magtrial.core.safety.conditions import ConditionConcept, ConditionMatch, ConditionVocabulary
from magtrial.core.safety.dose import parse_mass_mg, product_dose
from magtrial.core.safety.model import (
    DoseTime,
    Finding,
    Jurisdiction,
    Level,
    Medication,
    Person,
    ProductDose,
    SafetyReport,
    Sex,
    Timetable,
    as_jurisdiction,
)
from magtrial.core.safety.monitoring import review_diary
from magtrial.core.safety.profile import SafetyProfile, parse_med_spec, parse_time, product_from_dict
from magtrial.core.safety.rules import SafetyRules
from magtrial.core.safety.timetable import Spacing, propose_timetable, violations

__all__ = [
    "ConditionConcept",
    "ConditionMatch",
    "ConditionVocabulary",
    "DoseTime",
    "Finding",
    "Jurisdiction",
    "Level",
    "Medication",
    "Person",
    "ProductDose",
    "SafetyProfile",
    "SafetyReport",
    "SafetyRules",
    "Sex",
    "Spacing",
    "Timetable",
    "as_jurisdiction",
    "check_protocol",
    "check_regimen",
    "parse_mass_mg",
    "parse_med_spec",
    "parse_time",
    "product_dose",
    "product_from_dict",
    "propose_timetable",
    "review_diary",
    "violations",
]
