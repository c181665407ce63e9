"""The trial protocol: what is compared, how it is blinded and how the calendar is cut.

A protocol is a frozen value; everything else (schedule, allocation, analysis) is derived from it.
``Protocol.from_dict`` accepts the same keys a TOML protocol file uses, so a file, CLI flags and
the web form all pass through one validator: the pydantic dataclasses below, whose field types
(``magtrial.core.inputs``) refuse wrong types, NaN, unknown keys and oversized text in one line
naming the field, before ``__post_init__`` applies the domain rules.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import field
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pydantic
from pydantic import BeforeValidator, PlainValidator

from magtrial.core.diary import SCORE_FIELDS
from magtrial.core.inputs import (
    INPUT_CONFIG,
    PLACE,
    SHORT_MAX,
    Count,
    Date,
    Name,
    Number,
    Short,
    Text,
    kind,
    number,
    one_of,
    shown,
    validated,
)
from magtrial.core.inputs import validate as validate_input
from magtrial.core.stopping import StoppingRule, check_rule
from magtrial.errors import ProtocolError, SafetyInputError

OUTCOMES = SCORE_FIELDS
"""The outcomes the analysis supports (``analysis.Outcome``): the diary's three 0-10 scores."""


class Condition(StrEnum):
    CRPS1 = "crps-1"
    DIABETIC_NEUROPATHY = "painful-diabetic-neuropathy"
    LOW_BACK_PAIN = "low-back-pain-neuropathic"
    POST_HERPETIC = "post-herpetic-neuralgia"
    CHEMO_NEUROPATHY = "chemotherapy-induced-neuropathy"
    OTHER = "other"


class Route(StrEnum):
    ORAL = "oral"
    CREAM = "transdermal-cream"
    OIL = "transdermal-oil"
    LOTION = "transdermal-lotion"
    FOOT_SOAK = "foot-soak"
    BATH = "bath"

    @property
    def transdermal(self) -> bool:
        """Skin routes, whose uptake is unproven, so they never count toward the oral upper limit."""
        return self is not Route.ORAL

    @property
    def blindable(self) -> bool:
        """A soak smells and feels like Epsom salt; water does not, so it cannot be blinded."""
        return self not in (Route.FOOT_SOAK, Route.BATH)


class Comparator(StrEnum):
    PLACEBO = "matched-placebo"
    VEHICLE = "vehicle-cream"
    NONE = "no-treatment"


class Blinding(StrEnum):
    BLINDED = "blinded"
    OPEN = "open"


class Design(StrEnum):
    """How the order of the two arms is randomized.

    ``paired``: every cycle is AB or BA, each drawn independently (2**cycles possible sequences).
    ``counterbalanced``: one of ABBA... or BAAB... is drawn for the whole trial (2 sequences).
    """

    PAIRED = "paired"
    COUNTERBALANCED = "counterbalanced"


def _mass(elemental: bool) -> Callable[[object], float]:
    """A mass in mg: a number, or text with a unit parsed by the safety checker's one mass parser."""

    def parse(value: object) -> float:
        if isinstance(value, str):
            from magtrial.core.safety.dose import parse_mass_mg  # here, not on top: safety imports protocol

            try:
                return parse_mass_mg(value, PLACE, elemental=elemental)
            except SafetyInputError as exc:
                raise ValueError(str(exc)) from None
        return number(value)

    return parse


_ROUTE_SYNONYMS = {
    "by mouth": "oral",
    "mouth": "oral",
    "po": "oral",
    "orally": "oral",
    "cream": "transdermal-cream",
    "oil": "transdermal-oil",
    "spray": "transdermal-oil",
    "lotion": "transdermal-lotion",
    "soak": "foot-soak",
    "footsoak": "foot-soak",
    "foot bath": "foot-soak",
}
_CLINIC_ROUTES = {
    "iv",
    "i v",
    "intravenous",
    "intravenously",
    "infusion",
    "drip",
    "im",
    "intramuscular",
    "injection",
    "subcutaneous",
    "sc",
    "nebulised",
    "nebulized",
}


def _route(value: object) -> object:
    """Route names as people type them: any case, spaces or underscores for hyphens, a few synonyms.

    Injected or infused magnesium is refused with why: it is given in clinic and recorded as a
    co-intervention, not planned as a trial product.
    """
    if not isinstance(value, str):
        return value
    text = " ".join(value.strip().lower().replace("_", " ").replace(".", " ").split())
    if text in _CLINIC_ROUTES:
        raise ValueError(
            f"{PLACE} {value!r}: intravenous (or injected) magnesium is given in clinic, not planned here; record it "
            "as a co-intervention in the diary (rescue medication or note) on the days it is given. magtrial trials "
            f"products taken at home: {one_of(Route)}"
        )
    text = _ROUTE_SYNONYMS.get(text, text).replace(" ", "-")
    return Route(text) if text in {r.value for r in Route} else value


ElementalMass = Annotated[float, PlainValidator(_mass(elemental=True))]  # '100', '100 mg', '0.1 g', '4 mmol'
SaltMass = Annotated[float, PlainValidator(_mass(elemental=False))]  # '500', '500 mg', '0.5 g'


def _outcome(value: object) -> str:
    if not isinstance(value, str) or value not in OUTCOMES:
        raise ValueError(f"must be one of {one_of(OUTCOMES)}; got {shown(value)}")
    return str(value)


OutcomeName = Annotated[str, PlainValidator(_outcome)]  # one of OUTCOMES


@validated(ProtocolError)
@pydantic.dataclasses.dataclass(frozen=True, config=INPUT_CONFIG)
class Product:
    """A magnesium product as the participant holds it.

    ``elemental_mg_per_unit`` is what a label's Supplement Facts state. When only the salt mass is
    known, give ``salt_mg_per_unit`` and the safety checker converts it with the salt table; the
    two are never confused. Masses may carry a unit ('100 mg', '0.4 g'; '4 mmol' for elemental).
    """

    name: Name
    salt: Name
    route: Annotated[Route, BeforeValidator(_route)] = Route.ORAL
    units_per_day: Number = 1.0
    elemental_mg_per_unit: ElementalMass | None = None
    salt_mg_per_unit: SaltMass | None = None
    hydrate: Short | None = None
    doses_per_day: Count = 1

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ProtocolError("product name is empty")
        if self.units_per_day <= 0:
            raise ProtocolError(f"units per day must be positive, got {self.units_per_day}")
        if self.doses_per_day < 1 or self.doses_per_day > 6:
            raise ProtocolError(f"doses per day must be 1-6, got {self.doses_per_day}")
        for label, value in (("elemental mg", self.elemental_mg_per_unit), ("salt mg", self.salt_mg_per_unit)):
            if value is not None and value <= 0:
                raise ProtocolError(f"{label} per unit must be positive, got {value}")
        if self.route is Route.ORAL and self.elemental_mg_per_unit is None and self.salt_mg_per_unit is None:
            raise ProtocolError(
                "an oral product needs its elemental mg per unit (from the label) or its salt mg per unit"
            )


@validated(ProtocolError)
@pydantic.dataclasses.dataclass(frozen=True, config=INPUT_CONFIG)
class Protocol:
    condition: Condition
    product: Product
    comparator: Comparator = Comparator.PLACEBO
    blinding: Blinding = Blinding.BLINDED
    design: Design = Design.PAIRED
    run_in_days: Count = 7
    period_days: Count = 14
    washout_days: Count = 0
    cycles: Count = 4
    carryover_days: Count = 3
    late_after_hours: Count = 36
    late_window_hours: Count | None = None  # participant entries this long after a day ends; older need approval
    start_date: Date | None = None
    timezone: Short = "UTC"
    primary_outcome: OutcomeName = "average_pain"
    stopping: StoppingRule | None = None  # adaptive stopping (core.stopping); None: a fixed design
    notes: Text = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    # Versions before the last amendment, oldest first: {"version", "until_period", "protocol"} (core/versions.py).
    earlier_versions: tuple[dict[str, Any], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        validate(self)

    @property
    def n_periods(self) -> int:
        return 2 * self.cycles

    @property
    def total_days(self) -> int:
        return self.run_in_days + self.n_periods * self.period_days + (self.n_periods - 1) * self.washout_days

    def local_date(self, moment: dt.datetime) -> dt.date:
        """The participant's calendar day at ``moment``: diary days begin and end in their time zone."""
        return moment.astimezone(ZoneInfo(self.timezone)).date()

    def with_changes(self, **changes: Any) -> Protocol:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Protocol:
        """Build from plain keys (a TOML file's tables or a JSON body); an error is one line naming the key."""
        if not isinstance(data, Mapping):
            raise ProtocolError(f"a protocol must be a table of keys, got {shown(data)} ({kind(data)})")
        return validate_input(cls, dict(data), ProtocolError, hints=_HINTS)

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON- and TOML-friendly keys; ``from_dict(to_dict())`` round-trips."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "product":
                value = {
                    k: (v.value if isinstance(v, StrEnum) else v)
                    for k, v in dataclasses.asdict(self.product).items()
                    if v is not None
                }
            elif isinstance(value, StrEnum):
                value = value.value
            elif isinstance(value, StoppingRule):
                value = value.to_dict()
            elif isinstance(value, dt.date):
                value = value.isoformat()
            elif value is None or (f.name in ("extra", "earlier_versions") and not value):
                continue
            elif f.name == "earlier_versions":
                value = [dict(v) for v in value]
            out[f.name] = value
        return out


_HINTS = {
    "condition": f"give one of {one_of(Condition)}",
    "product": "a protocol needs a [product] table with at least name and salt",
    "product.name": "give the product's name as on the label",
    "product.salt": "give the magnesium salt, e.g. citrate or oxide",
}


def participant_pseudonym(value: object) -> str:
    """A participant's pseudonym (never a real name), stripped: 1-100 printable characters."""
    if not isinstance(value, str):
        raise ProtocolError(f"participant must be a pseudonym such as P-017, got {shown(value)} ({kind(value)})")
    name = value.strip()
    if not name:
        raise ProtocolError("participant is empty; give a pseudonym such as P-017")
    if len(name) > SHORT_MAX:
        raise ProtocolError(f"participant is too long ({len(name):,} characters; at most {SHORT_MAX})")
    if not name.isprintable():
        raise ProtocolError(f"participant must be printable characters on one line, got {shown(name)}")
    return name


# A start date outside these is a typing slip (and a calendar running past 9999 cannot be built).
EARLIEST_START, LATEST_START = dt.date(2000, 1, 1), dt.date(2099, 12, 31)


def validate(p: Protocol) -> None:
    """Every rule a protocol must meet, each with a message a clinician can act on."""
    if not 3 <= p.period_days <= 84:
        raise ProtocolError(f"period length must be 3-84 days, got {p.period_days}")
    if not 1 <= p.cycles <= 12:
        raise ProtocolError(f"cycles must be 1-12, got {p.cycles}")
    if not 0 <= p.washout_days < p.period_days:
        raise ProtocolError(
            f"washout must be 0 or more days and shorter than a period ({p.period_days}), got {p.washout_days}"
        )
    if not 0 <= p.run_in_days <= 56:
        raise ProtocolError(f"run-in must be 0-56 days, got {p.run_in_days}")
    if not 0 <= p.carryover_days <= p.period_days - 2:
        raise ProtocolError(
            f"carry-over window must be 0 to {p.period_days - 2} days so at least two days "
            f"of each period count, got {p.carryover_days}"
        )
    if not 1 <= p.late_after_hours <= 24 * 14:
        raise ProtocolError(f"late-entry threshold must be 1-336 hours, got {p.late_after_hours}")
    if p.late_window_hours is not None and not 24 <= p.late_window_hours <= 24 * 14:
        raise ProtocolError(  # at least a day, so yesterday can always be filled in today
            f"late-entry window must be 24-336 hours, got {p.late_window_hours}"
        )
    if p.design is Design.COUNTERBALANCED and p.cycles % 2:
        raise ProtocolError("a counterbalanced ABBA/BAAB design needs an even number of cycles")
    if p.stopping is not None:
        check_rule(p.stopping, p.cycles)
    if p.start_date is not None and not EARLIEST_START <= p.start_date <= LATEST_START:
        raise ProtocolError(
            f"start date must be between {EARLIEST_START.isoformat()} and {LATEST_START.isoformat()}, "
            f"got {p.start_date.isoformat()}"
        )
    try:
        ZoneInfo(p.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ProtocolError(f"unknown time zone {p.timezone!r}; use an IANA name such as Europe/London") from None
    _check_earlier_versions(p)
    route = p.product.route
    if p.comparator is Comparator.VEHICLE and not route.transdermal:
        raise ProtocolError(
            "a vehicle-cream comparator only fits a transdermal product; use matched-placebo for an oral product"
        )
    if p.comparator is Comparator.PLACEBO and route in (Route.FOOT_SOAK, Route.BATH):
        raise ProtocolError("no matched placebo exists for a foot soak or bath; use no-treatment, open")
    if p.blinding is Blinding.BLINDED:
        if p.comparator is Comparator.NONE:
            raise ProtocolError(
                "a 'no treatment' comparator cannot be blinded: the participant knows when "
                "nothing is taken. Choose blinding = open, or a matched placebo"
            )
        if not route.blindable:
            raise ProtocolError(
                f"a {route.value} cannot be blinded (Epsom salt is recognisable by feel and "
                "smell). Choose blinding = open"
            )


def _check_earlier_versions(p: Protocol) -> None:
    """Earlier versions (written by an amendment) are numbered 1, 2, ... and govern consecutive periods."""
    until = 0
    for n, entry in enumerate(p.earlier_versions, start=1):
        if set(entry) != {"version", "until_period", "protocol"} or entry["version"] != n:
            raise ProtocolError(f"earlier protocol version {n} is malformed (written only by an amendment)")
        if not isinstance(entry["until_period"], int) or not until <= entry["until_period"] < p.n_periods:
            raise ProtocolError(f"earlier protocol version {n} governs periods out of order")
        until = entry["until_period"]


def blinding_limitations(p: Protocol) -> list[str]:
    """Plain statements of what an open design cannot rule out, for reports and the CLI."""
    notes = []
    if p.blinding is Blinding.OPEN:
        notes.append(
            "Open design: the participant knows which arm is taken, so expectation (placebo "
            "response) can explain part of any difference."
        )
    if p.product.route.transdermal:
        notes.append(
            "Transdermal magnesium: skin uptake is weakly supported (Groeber 2017), so a "
            "difference tests the whole regimen, not systemic magnesium."
        )
    return notes
