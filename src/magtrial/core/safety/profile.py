"""A person, their medicines and a jurisdiction from plain keys (a TOML file, a form, CLI flags).

``SafetyProfile.from_dict`` reads the same keys a trial file embeds::

    jurisdiction = "US"
    [person]
    age = 54
    egfr = 72
    conditions = ["type 2 diabetes"]
    [[medication]]
    name = "gabapentin"
    times = ["08:00", "20:00"]

Errors name the bad key, so one validator serves every way in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from magtrial.core.protocol import Product, Route
from magtrial.core.safety.dose import parse_mass_mg
from magtrial.core.safety.model import Jurisdiction, Medication, Person, as_jurisdiction
from magtrial.errors import ProtocolError, SafetyInputError

PERSON_KEYS = {"age", "sex", "pregnant", "lactating", "egfr", "dialysis", "conditions"}
MEDICATION_KEYS = {"name", "times"}
PROFILE_KEYS = {"person", "medication", "jurisdiction"}


def parse_time(value: Any, what: str) -> dt.time:
    """'08:00' or a TOML local time; seconds are dropped (reminders work in minutes)."""
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0)
    if isinstance(value, str):
        try:
            hours, minutes = value.strip().split(":")
            return dt.time(int(hours), int(minutes))
        except ValueError:
            pass
    raise SafetyInputError(f"{what} must be a 24-hour time HH:MM such as 08:00, got {value!r}")


def medication_from_dict(data: Any, where: str = "medication") -> Medication:
    if not isinstance(data, dict):
        raise SafetyInputError(f"{where} must be a table with name and times, got {data!r}")
    unknown = set(data) - MEDICATION_KEYS
    if unknown:
        raise SafetyInputError(f"unknown {where} key(s): {', '.join(sorted(unknown))}; use name and times")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SafetyInputError(f"{where} needs a name")
    times = data.get("times", [])
    if isinstance(times, str | dt.time):
        times = [times]
    if not isinstance(times, list):
        raise SafetyInputError(f"{where}.times must be a list such as [\"08:00\", \"20:00\"], got {times!r}")
    return Medication(name=name.strip(), times=tuple(parse_time(t, f"{name} time") for t in times))


def parse_med_spec(spec: str) -> Medication:
    """'gabapentin@08:00,20:00' (or just 'gabapentin' when taken as needed), for CLI flags."""
    name, _, times = spec.partition("@")
    if not name.strip():
        raise SafetyInputError(f"medication {spec!r} needs a name, as in gabapentin@08:00,20:00")
    parts = [t for t in times.split(",") if t.strip()]
    return Medication(name=name.strip(), times=tuple(parse_time(t, f"{name.strip()} time") for t in parts))


def person_from_dict(data: Any) -> Person:
    if not isinstance(data, dict):
        raise SafetyInputError("the profile needs a [person] table with at least age")
    unknown = set(data) - PERSON_KEYS
    if unknown:
        raise SafetyInputError(f"unknown person key(s): {', '.join(sorted(unknown))}; "
                               f"known: {', '.join(sorted(PERSON_KEYS))}")
    if "age" not in data:
        raise SafetyInputError("person needs an age in years")
    kwargs = dict(data)
    conditions = kwargs.get("conditions", ())
    if isinstance(conditions, str):
        conditions = [conditions]
    if not isinstance(conditions, list | tuple) or not all(isinstance(c, str) for c in conditions):
        raise SafetyInputError(f"person.conditions must be a list of names, got {conditions!r}")
    kwargs["conditions"] = tuple(conditions)
    return Person(**kwargs)


def product_from_dict(data: Any, where: str = "product") -> Product:
    """A magnesium product; masses may carry a unit ('400 mg', '0.4 g', '4 mmol' elemental)."""
    if not isinstance(data, dict):
        raise SafetyInputError(f"{where} must be a table with at least name and salt")
    known = {f.name for f in dataclasses.fields(Product)}
    unknown = set(data) - known
    if unknown:
        raise SafetyInputError(f"unknown {where} key(s): {', '.join(sorted(unknown))}; known: "
                               f"{', '.join(sorted(known))}")
    kwargs = dict(data)
    if "route" in kwargs:
        try:
            kwargs["route"] = Route(kwargs["route"])
        except ValueError:
            raise SafetyInputError(f"{where}.route must be one of {', '.join(r.value for r in Route)}; "
                                   f"got {kwargs['route']!r}") from None
    if kwargs.get("elemental_mg_per_unit") is not None:
        kwargs["elemental_mg_per_unit"] = parse_mass_mg(kwargs["elemental_mg_per_unit"],
                                                        f"{where} elemental mg per unit", elemental=True)
    if kwargs.get("salt_mg_per_unit") is not None:
        kwargs["salt_mg_per_unit"] = parse_mass_mg(kwargs["salt_mg_per_unit"], f"{where} salt mg per unit")
    for key, kind in (("units_per_day", (int, float)), ("doses_per_day", (int,))):
        if key in kwargs and (isinstance(kwargs[key], bool) or not isinstance(kwargs[key], kind)):
            raise SafetyInputError(f"{where}.{key} must be a number, got {kwargs[key]!r}")
    try:
        return Product(**kwargs)
    except ProtocolError as exc:
        raise SafetyInputError(f"{where}: {exc}") from None
    except TypeError as exc:
        raise SafetyInputError(f"{where}: {exc}") from None


@dataclass(frozen=True)
class SafetyProfile:
    """Who is checked and under which rules: what a trial stores beside its protocol."""

    person: Person
    medications: tuple[Medication, ...] = ()
    jurisdiction: Jurisdiction = Jurisdiction.US

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SafetyProfile:
        if not isinstance(data, dict):
            raise SafetyInputError("a safety profile must be a table with [person] and [[medication]]")
        unknown = set(data) - PROFILE_KEYS
        if unknown:
            raise SafetyInputError(f"unknown safety profile key(s): {', '.join(sorted(unknown))}; "
                                   f"known: {', '.join(sorted(PROFILE_KEYS))}")
        meds = data.get("medication", [])
        if isinstance(meds, dict):
            meds = [meds]
        if not isinstance(meds, list):
            raise SafetyInputError("medication must be a list of [[medication]] tables")
        medications = tuple(medication_from_dict(m, f"medication {i}") for i, m in enumerate(meds, 1))
        return cls(person=person_from_dict(data.get("person")), medications=medications,
                   jurisdiction=as_jurisdiction(data.get("jurisdiction", "US")))

    def to_dict(self) -> dict[str, Any]:
        """Plain keys; ``from_dict(to_dict())`` round-trips."""
        person = {k: v for k, v in dataclasses.asdict(self.person).items() if v is not None}
        person["sex"] = self.person.sex.value
        person["conditions"] = list(self.person.conditions)
        return {
            "jurisdiction": self.jurisdiction.value,
            "person": person,
            "medication": [{"name": m.name, "times": [f"{t:%H:%M}" for t in m.times]}
                           for m in self.medications],
        }
