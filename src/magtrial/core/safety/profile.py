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
import re
from collections.abc import Mapping
from typing import Annotated, Any

import pydantic
from pydantic import BeforeValidator, Field

from magtrial.core.inputs import INPUT_CONFIG, clock_time, kind, shown, single_as_list, validate, validated
from magtrial.core.protocol import Product
from magtrial.core.safety.model import Jurisdiction, Medication, Person
from magtrial.errors import ProtocolError, SafetyInputError

MAX_MEDICATIONS = 50


def parse_time(value: Any, what: str) -> dt.time:
    """'08:00' or a TOML local time; seconds are dropped (reminders work in minutes)."""
    try:
        return clock_time(value)
    except ValueError as exc:
        raise SafetyInputError(f"{what} {exc}") from None


def parse_med_spec(spec: str) -> Medication:
    """'gabapentin@08:00,20:00' (or just 'gabapentin' when taken as needed), for CLI flags."""
    name, _, times = spec.partition("@")
    if not name.strip():
        raise SafetyInputError(f"medication {spec!r} needs a name, as in gabapentin@08:00,20:00")
    parts = [t for t in times.split(",") if t.strip()]
    return Medication(name=name.strip(), times=tuple(parse_time(t, f"{name.strip()} time") for t in parts))


def product_from_dict(data: Any, where: str = "product") -> Product:
    """A magnesium product; masses may carry a unit ('400 mg', '0.4 g', '4 mmol' elemental).

    The same validator as a protocol's ``[product]`` table, raising ``SafetyInputError`` whose
    message names the field under ``where`` (``where="product 2"`` gives "product[2].units_per_day ...").
    """
    if not isinstance(data, Mapping):
        raise SafetyInputError(f"{where} must be a table with at least name and salt, got {shown(data)} ({kind(data)})")
    try:
        path = re.sub(r"^(\w+) (\d+)$", r"\1[\2]", where)
        return validate(Product, dict(data), SafetyInputError, where=path, hints=_PRODUCT_HINTS)
    except ProtocolError as exc:  # a domain rule in Product.__post_init__
        raise SafetyInputError(f"{where}: {exc}") from None


_PRODUCT_HINTS = {
    "name": "give the product's name as on the label",
    "salt": "give the magnesium salt, e.g. citrate or oxide",
}


def _jurisdiction(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


@validated(SafetyInputError)
@pydantic.dataclasses.dataclass(frozen=True, config=INPUT_CONFIG)
class SafetyProfile:
    """Who is checked and under which rules: what a trial stores beside its protocol.

    In a file the medicines are ``[[medication]]`` tables, so the key is ``medication``.
    """

    person: Person
    medications: Annotated[
        tuple[Medication, ...], Field(alias="medication", max_length=MAX_MEDICATIONS), BeforeValidator(single_as_list)
    ] = ()
    jurisdiction: Annotated[Jurisdiction, BeforeValidator(_jurisdiction)] = Jurisdiction.US

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SafetyProfile:
        """From a file's keys (``jurisdiction``, ``[person]``, ``[[medication]]``); errors name the key."""
        if not isinstance(data, Mapping):
            raise SafetyInputError("a safety profile must be a table with [person] and [[medication]]")
        return validate(cls, dict(data), SafetyInputError, hints=_PROFILE_HINTS)

    def to_dict(self) -> dict[str, Any]:
        """Plain keys; ``from_dict(to_dict())`` round-trips."""
        person = {k: v for k, v in dataclasses.asdict(self.person).items() if v is not None}
        person["sex"] = self.person.sex.value
        person["conditions"] = list(self.person.conditions)
        return {
            "jurisdiction": self.jurisdiction.value,
            "person": person,
            "medication": [{"name": m.name, "times": [f"{t:%H:%M}" for t in m.times]} for m in self.medications],
        }


_PROFILE_HINTS = {
    "person": "the profile needs a [person] table with at least age",
    "person.age": "the person's age in years is needed",
    "medication.name": "each [[medication]] needs a name",
}
