"""What else happened during a trial: co-interventions (CENT item 4a) and clinic measurements.

Co-interventions are medication changes, rescue medicine and clinic-given treatments, including
intravenous magnesium sulfate (Yousef 2013 gave 1 g IV daily for two weeks before oral magnesium;
the CRPS trials of Collins 2009 and Fischer 2013 gave 70 mg/kg IV). IV magnesium counts toward the
day's magnesium total the safety checker reports; analysis flags the periods a co-intervention
overlaps rather than adjusting for them. Clinic measurements (lumbar range of motion by goniometer
as in Yousef 2013; brush allodynia and pinprick hyperalgesia for CRPS) are secondary outcomes by
period. Nothing here depends on the allocation except ``compare_measurements``, which needs it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from magtrial.core.safety.dose import parse_mass_mg
from magtrial.core.safety.rules import SaltForm
from magtrial.core.schedule import Schedule
from magtrial.errors import SafetyInputError, ValidationError

MAX_TEXT = 2000
MAX_SPAN_DAYS = 366
MAX_IV_MG_PER_DAY = 5000.0
"""Above this much elemental magnesium a day by infusion (about 50 g of MgSO4.7H2O, beyond even
obstetric regimens) a dose is refused as a typing or unit mistake."""


class CoInterventionKind(StrEnum):
    MEDICATION_CHANGE = "medication-change"
    RESCUE = "rescue-medication"
    IV_MAGNESIUM = "iv-magnesium"
    CLINIC_TREATMENT = "clinic-treatment"
    OTHER = "other"


@dataclass(frozen=True)
class CoIntervention:
    """One co-intervention; ``elemental_mg`` is magnesium given per day (IV magnesium only)."""

    day: dt.date
    last_day: dt.date
    kind: CoInterventionKind
    description: str
    dose: str = ""
    given_by: str = ""
    elemental_mg: float | None = None
    recorded_by: str = ""

    def covers(self, day: dt.date) -> bool:
        return self.day <= day <= self.last_day

    def as_dict(self) -> dict[str, object]:
        return {
            "day": self.day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "kind": self.kind.value,
            "description": self.description,
            "dose": self.dose,
            "given_by": self.given_by,
            "elemental_mg": self.elemental_mg,
        }


def _text(value: str, what: str, *, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(f"{what} is empty")
    if len(value) > MAX_TEXT:
        raise ValidationError(f"{what} is longer than {MAX_TEXT} characters")
    return value


def iv_elemental_mg(dose: str, sulfate: SaltForm) -> float:
    """Elemental magnesium in an IV magnesium sulfate dose: '1 g' of the salt, or '4 mmol' of magnesium.

    Infusions are prescribed as grams of magnesium sulfate heptahydrate (the 50% w/v ampoules), so
    a mass is converted with the heptahydrate fraction from the salt table (9.9%, ``sulfate``);
    mmol is already elemental (1 mmol = 24.305 mg).
    """
    try:
        if "mmol" in dose.lower():
            mg = parse_mass_mg(dose, "IV magnesium dose", elemental=True)
        else:
            mg = parse_mass_mg(dose, "IV magnesium dose") * sulfate.fraction
    except SafetyInputError as exc:
        raise ValidationError(f"{exc}; give the magnesium sulfate dose as e.g. '1 g' or '4 mmol'") from None
    if not 0 < mg <= MAX_IV_MG_PER_DAY:
        raise ValidationError(
            f"an IV magnesium dose of {mg:,.0f} mg elemental a day is not plausible (at most "
            f"{MAX_IV_MG_PER_DAY:,.0f}); check the unit (mg or g)"
        )
    return round(mg, 1)


def co_intervention(
    day: dt.date,
    kind: CoInterventionKind | str,
    description: str,
    *,
    dose: str = "",
    given_by: str = "",
    last_day: dt.date | None = None,
    sulfate: SaltForm | None = None,
) -> CoIntervention:
    """A validated co-intervention; IV magnesium needs a dose and the sulfate salt form to convert it."""
    try:
        kind = CoInterventionKind(kind)
    except ValueError:
        raise ValidationError(
            f"unknown co-intervention kind {kind!r}; use one of {', '.join(k.value for k in CoInterventionKind)}"
        ) from None
    last = last_day or day
    if last < day:
        raise ValidationError(f"the last day ({last.isoformat()}) is before the first ({day.isoformat()})")
    if (last - day).days >= MAX_SPAN_DAYS:
        raise ValidationError(f"a co-intervention may span at most {MAX_SPAN_DAYS} days; record a new one after")
    dose = _text(dose, "dose", required=kind is CoInterventionKind.IV_MAGNESIUM)
    if len(dose) > 200:
        raise ValidationError("dose is longer than 200 characters")
    if len(given_by.strip()) > 100:
        raise ValidationError("'given by' is longer than 100 characters")
    elemental = None
    if kind is CoInterventionKind.IV_MAGNESIUM:
        if sulfate is None:
            raise ValidationError("IV magnesium needs the magnesium sulfate salt table to count its magnesium")
        elemental = iv_elemental_mg(dose, sulfate)
    return CoIntervention(
        day=day,
        last_day=last,
        kind=kind,
        description=_text(description, "description", required=True),
        dose=dose,
        given_by=_text(given_by, "given by", required=False),
        elemental_mg=elemental,
    )


@dataclass(frozen=True)
class DailyMagnesium:
    """A day's elemental magnesium: the trial's oral dose (as if magnesium, whatever the pack) plus IV."""

    day: dt.date
    oral_mg: float
    iv_mg: float
    sources: tuple[str, ...]

    @property
    def total_mg(self) -> float:
        return self.oral_mg + self.iv_mg


def daily_magnesium(day: dt.date, oral_mg: float, items: Iterable[CoIntervention]) -> DailyMagnesium:
    """The day's total: the oral dose counts every day (it does not depend on the allocation)."""
    iv = [c for c in items if c.covers(day) and c.elemental_mg]
    return DailyMagnesium(
        day,
        oral_mg,
        sum(c.elemental_mg or 0.0 for c in iv),
        tuple(f"{c.description} {c.dose} ({c.elemental_mg:g} mg elemental)" for c in iv),
    )


@dataclass(frozen=True)
class Overlap:
    """A period (pack number) during which co-interventions were given: flagged next to the result."""

    period: int
    items: tuple[CoIntervention, ...]

    @property
    def text(self) -> str:
        what = "; ".join(f"{c.kind.value}: {c.description}" for c in self.items)
        return f"period {self.period} (pack {self.period}): {what}"


def overlaps(schedule: Schedule, items: Iterable[CoIntervention]) -> list[Overlap]:
    """Periods whose days a co-intervention covers, in period order (the run-in is not a period)."""
    found: dict[int, list[CoIntervention]] = defaultdict(list)
    for c in items:
        for p in schedule.periods:
            if c.day <= p.end and c.last_day >= p.start:
                found[p.number].append(c)
    return [Overlap(n, tuple(found[n])) for n in sorted(found)]


# --- clinic measurements -------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemSpec:
    label: str
    unit: str
    low: float
    high: float
    exam: bool = False  # a bedside examination: present/absent and the area (cm2)


MEASUREMENT_ITEMS = {
    "lumbar-flexion": ItemSpec("Lumbar flexion (goniometer)", "degrees", 0, 150),
    "lumbar-extension": ItemSpec("Lumbar extension (goniometer)", "degrees", 0, 90),
    "lumbar-lateral-flexion": ItemSpec("Lumbar lateral flexion (goniometer)", "degrees", 0, 90),
    "brush-allodynia": ItemSpec("Allodynia to a soft brush", "cm2", 0, 10000, exam=True),
    "pinprick-hyperalgesia": ItemSpec("Hyperalgesia to pinprick", "cm2", 0, 10000, exam=True),
}
"""Higher is better for range of motion; for the examinations a smaller area is better."""


@dataclass(frozen=True)
class Measurement:
    day: dt.date
    item: str
    value: float  # degrees, or the affected area in cm2 (0 when absent)
    present: bool | None = None  # examinations only
    note: str = ""
    recorded_by: str = ""

    @property
    def spec(self) -> ItemSpec:
        return MEASUREMENT_ITEMS[self.item]

    @property
    def shown(self) -> str:
        if self.spec.exam:
            return f"present, {self.value:g} cm2" if self.present else "absent"
        return f"{self.value:g} degrees"


def measurement(
    day: dt.date, item: str, value: float | None, present: bool | None = None, note: str = ""
) -> Measurement:
    """A validated measurement; an examination is present (with its area) or absent (area 0)."""
    spec = MEASUREMENT_ITEMS.get(item)
    if spec is None:
        raise ValidationError(f"unknown measurement {item!r}; use one of {', '.join(MEASUREMENT_ITEMS)}")
    if spec.exam:
        if present is None:
            raise ValidationError(f"{item}: say whether it is present or absent")
        if not present:
            if value not in (None, 0):
                raise ValidationError(f"{item}: an absent finding has no area")
            value = 0.0
        elif value is None:
            raise ValidationError(f"{item}: give the affected area in cm2")
    elif present is not None:
        raise ValidationError(f"{item} is measured in degrees, not present/absent")
    if value is None or isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(f"{item}: give a number of {spec.unit}")
    if not spec.low <= value <= spec.high:
        raise ValidationError(f"{item} must be {spec.low:g}-{spec.high:g} {spec.unit}, got {value:g}")
    return Measurement(day, item, float(value), present, _text(note, "note", required=False))


def measurements_by_period(schedule: Schedule, items: Iterable[Measurement]) -> dict[str, dict[int, float]]:
    """Per item, per period (pack number), the mean of that period's measurements (run-in ones left out)."""
    values: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for m in items:
        period = schedule.day(m.day).period if schedule.start <= m.day <= schedule.end else None
        if period:
            values[m.item][period].append(m.value)
    return {item: {p: sum(v) / len(v) for p, v in sorted(per.items())} for item, per in sorted(values.items())}
