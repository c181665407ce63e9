"""The values the safety checker reasons about: who takes magnesium, with what, and what it found.

Everything here is a frozen value validated on construction, so a bad age or eGFR is refused
with a message a person can act on before any rule runs. ``Person`` and ``Medication`` are
pydantic dataclasses (see ``magtrial.core.inputs``): wrong types, NaN, unknown keys and
oversized text are refused in one line naming the field, then ``__post_init__`` checks ranges.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

import pydantic
from pydantic import BeforeValidator, Field

from magtrial.core.inputs import INPUT_CONFIG, ClockTime, Flag, Name, Number, one_of, single_as_list, validated
from magtrial.core.safety.conditions import ConditionMatch
from magtrial.errors import SafetyInputError


class Level(StrEnum):
    """How serious a finding is, mildest first; the report's verdict is the most serious one.

    ``stop`` sits above ``blocked``: a blocked regimen must not start, while ``stop`` means a
    symptom of magnesium toxicity was reported during a trial and the person should stop and
    seek care now.
    """

    OK = "ok"
    CAUTION = "caution"
    NEEDS_CLINICIAN = "needs-clinician"
    BLOCKED = "blocked"
    STOP = "stop-seek-care"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank >= other.rank


_RANKS = {level: rank for rank, level in enumerate(Level)}


class Jurisdiction(StrEnum):
    """Whose upper limit applies: US/IOM (350 mg/day adults) or EU/EFSA (250 mg/day adults)."""

    US = "US"
    EU = "EU"


def as_jurisdiction(value: Jurisdiction | str) -> Jurisdiction:
    try:
        return Jurisdiction(str(value).upper())
    except ValueError:
        raise SafetyInputError(f"jurisdiction must be one of {one_of(Jurisdiction)}; got {value!r}") from None


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    UNSPECIFIED = "unspecified"


MAX_AGE = 120
MAX_EGFR = 200  # mL/min/1.73 m²; measured values above this are almost certainly typos
MAX_CONDITIONS = 50
MAX_TIMES = 24  # clock times of one medicine a day


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


@validated(SafetyInputError)
@pydantic.dataclasses.dataclass(frozen=True, config=INPUT_CONFIG)
class Person:
    """The facts about a person that change which magnesium rules apply.

    ``egfr`` is None when unknown; ``conditions`` are names (or SNOMED CT / ICD-10 codes) read
    through the condition vocabulary (``core.safety.conditions``); one it does not recognise is a
    *needs clinician* finding, not an error, since people describe illness freely.
    """

    age: Number
    sex: Annotated[Sex, BeforeValidator(_lower)] = Sex.UNSPECIFIED
    pregnant: Flag = False
    lactating: Flag = False
    egfr: Number | None = None
    dialysis: Flag = False
    conditions: Annotated[tuple[Name, ...], BeforeValidator(single_as_list), Field(max_length=MAX_CONDITIONS)] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.age <= MAX_AGE:
            raise SafetyInputError(f"age must be 0-{MAX_AGE} years, got {self.age}")
        if self.egfr is not None and not 0 <= self.egfr <= MAX_EGFR:
            raise SafetyInputError(
                f"eGFR must be 0-{MAX_EGFR} mL/min/1.73 m², got {self.egfr}; check the lab report's value and unit"
            )
        if (self.pregnant or self.lactating) and self.sex is Sex.MALE:
            raise SafetyInputError("pregnant or lactating was set for sex = male; check the person's details")
        object.__setattr__(self, "conditions", tuple(c.strip() for c in self.conditions if c.strip()))


@validated(SafetyInputError)
@pydantic.dataclasses.dataclass(frozen=True, config=INPUT_CONFIG)
class Medication:
    """A medicine the person takes, and at which clock times (empty when taken as needed)."""

    name: Name
    times: Annotated[tuple[ClockTime, ...], BeforeValidator(single_as_list), Field(max_length=MAX_TIMES)] = ()

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise SafetyInputError("a medication needs a name")
        object.__setattr__(self, "name", self.name.strip())
        object.__setattr__(self, "times", tuple(sorted(set(self.times))))


@dataclass(frozen=True)
class Finding:
    """One thing the checker noticed, with the rule that said so and that rule's source.

    ``day`` and ``period`` locate diary findings; they are None for findings about a regimen.
    """

    rule_id: str
    level: Level
    message: str
    source: str
    day: dt.date | None = None
    period: int | None = None

    @property
    def urgent(self) -> bool:
        """A toxicity symptom: show it first and prominently, not in a list of notes."""
        return self.level is Level.STOP

    @property
    def flag_clinician(self) -> bool:
        """The trial should be flagged for the clinician's attention."""
        return self.level >= Level.NEEDS_CLINICIAN

    def as_dict(self) -> dict[str, object]:
        """Plain keys for an audit record or a JSON answer."""
        return {
            "rule_id": self.rule_id,
            "level": self.level.value,
            "message": self.message,
            "source": self.source,
            "day": self.day.isoformat() if self.day else None,
            "period": self.period,
            "urgent": self.urgent,
            "flag_clinician": self.flag_clinician,
        }


@dataclass(frozen=True)
class ProductDose:
    """How much elemental magnesium one product gives a day, and how that was worked out."""

    product_name: str
    route: str
    elemental_mg_per_day: float
    counts_toward_ul: bool
    basis: str  # e.g. "label: 200 mg elemental x 2" or "400 mg oxide (anhydrous) x 60.3%"


@dataclass(frozen=True)
class DoseTime:
    """One proposed magnesium dose: a clock time and a label, ready to become a reminder."""

    time: dt.time
    label: str


@dataclass(frozen=True)
class Timetable:
    """Proposed dose times that keep every spacing rule, or why none exist.

    ``constraints`` states each rule in words (e.g. "levothyroxine 07:00: magnesium not within
    4 h"), so a person can see why the times were chosen.
    """

    doses: tuple[DoseTime, ...]
    feasible: bool
    reason: str
    constraints: tuple[str, ...] = ()
    wake: dt.time = dt.time(7, 0)
    sleep: dt.time = dt.time(22, 0)

    def reminders(self) -> list[tuple[dt.time, str]]:
        """Plain (time, label) pairs for a calendar or reminder export."""
        return [(d.time, d.label) for d in self.doses]


@dataclass(frozen=True)
class SafetyReport:
    """The checker's answer: an overall verdict, every finding, and the dose arithmetic behind it."""

    findings: tuple[Finding, ...]
    doses: tuple[ProductDose, ...]
    total_oral_mg: float
    upper_limit_mg: float | None  # None when no UL can be set (infants)
    rda_mg: float | None
    jurisdiction: Jurisdiction
    timetable: Timetable | None = None
    conditions: tuple[ConditionMatch, ...] = ()  # how each listed condition was read (codes included)

    @property
    def verdict(self) -> Level:
        return max((f.level for f in self.findings), default=Level.OK)

    @property
    def may_start(self) -> bool:
        """A blocked regimen cannot start a trial; anything else can (with acknowledgement if needed)."""
        return self.verdict < Level.BLOCKED

    @property
    def needs_acknowledgement(self) -> bool:
        return self.verdict is Level.NEEDS_CLINICIAN

    def by_level(self) -> list[Finding]:
        """Most serious first, so a reader sees what matters before the notes."""
        return sorted(self.findings, key=lambda f: -f.level.rank)

    def summary(self) -> str:
        """One plain-language paragraph for the audit trail and reports, so they need not recompute."""
        ul = (
            "no upper limit can be set"
            if self.upper_limit_mg is None
            else (f"{self.jurisdiction.value} upper limit {self.upper_limit_mg:g} mg/day")
        )
        serious = [f.rule_id for f in self.by_level() if f.level > Level.OK]
        reasons = f" Because of: {', '.join(serious)}." if serious else ""
        return f"Verdict: {self.verdict.value}. Oral elemental magnesium {self.total_oral_mg:g} mg/day; {ul}.{reasons}"

    def as_dict(self) -> dict[str, object]:
        """Plain keys for an audit record or a JSON answer (the check's inputs are stored elsewhere)."""
        return {
            "verdict": self.verdict.value,
            "total_oral_mg": self.total_oral_mg,
            "upper_limit_mg": self.upper_limit_mg,
            "rda_mg": self.rda_mg,
            "jurisdiction": self.jurisdiction.value,
            "findings": [f.as_dict() for f in self.by_level()],
            "conditions": [c.as_dict() for c in self.conditions],
            "doses": [
                {
                    "product": d.product_name,
                    "route": d.route,
                    "elemental_mg_per_day": d.elemental_mg_per_day,
                    "counts_toward_ul": d.counts_toward_ul,
                    "basis": d.basis,
                }
                for d in self.doses
            ],
            "timetable": None
            if self.timetable is None
            else {
                "feasible": self.timetable.feasible,
                "reason": self.timetable.reason,
                "doses": [{"time": f"{d.time:%H:%M}", "label": d.label} for d in self.timetable.doses],
                "constraints": list(self.timetable.constraints),
            },
        }
