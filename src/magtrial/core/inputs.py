"""Validated input: the field types the core's dataclasses declare, and pydantic's errors as one line.

The trial protocol, the safety profile and a diary day are pydantic dataclasses built with
``INPUT_CONFIG`` (unknown keys refused) and these field types, so a TOML file, CLI flags, a
stored JSON row and a web form all pass through one validator:

- ``Number``: an int or float, never a bool, a string ("2") or NaN/infinity;
- ``Count``: a whole number, never a bool (``cycles = true``), 3.5 or "3";
- ``Flag``: true or false, never "yes";
- ``Short``, ``Name``, ``Text``: strings of at most 100, 200 and 2000 characters (codes, names, notes);
- ``Date``: a date or "YYYY-MM-DD", never the number 20260101;
- ``ClockTime``: a time or "HH:MM".

Errors come out as one line naming the field path, e.g. ``product.units_per_day must be a
number, got '2' (a string)``; list positions count from 1, as a person counts ``[[medication]]``
tables. ``validate(cls, data, error)`` builds from plain keys and ``validated(error)`` makes a
dataclass's own constructor raise the same one-line domain errors.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar, get_args

import pydantic
from pydantic import PlainValidator, Strict, StringConstraints

from magtrial.errors import ValidationError

T = TypeVar("T")

SHORT_MAX = 100  # codes and identifiers: a time zone, a hydrate, a pseudonym
NAME_MAX = 200  # product, medicine and condition names, salts, side-effect names
TEXT_MAX = 2000  # free text: notes, "other" side effects, rescue medication
MAX_SHOWN = 40  # characters of a bad value quoted back in a message
MAX_ERRORS = 3  # errors listed in one message before "and N more"

INPUT_CONFIG = pydantic.ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True)  # pydantic >= 2.11
"""For every input dataclass: unknown keys are an error; constructors take names or aliases."""

PLACE = "\x00field\x00"
"""Where a validator's message wants the field's path; otherwise the path is put in front."""


def kind(value: object) -> str:
    """What a value is, in words a person editing a TOML file knows."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple | set | frozenset):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, dt.datetime):
        return "a date and time"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, dt.time):
        return "a time"
    if value is None:
        return "nothing"
    return type(value).__name__


def shown(value: object) -> str:
    """The value as it was given, cut short so a 1 MB note is never echoed back."""
    if isinstance(value, str) and len(value) > MAX_SHOWN:
        return repr(value[:MAX_SHOWN]) + f"... ({len(value):,} characters)"
    text = repr(value)
    return text if len(text) <= MAX_SHOWN + 5 else text[:MAX_SHOWN] + "..."


def _got(value: object) -> str:
    return f"got {shown(value)} ({kind(value)})"


def number(value: object) -> float:
    """An int or float, finite, never a bool; raises ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number, {_got(value)}")
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number, got {value!r}")
    return value  # an int stays an int, so 54 years is shown as 54


def _date(value: object) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"must be a date, {_got(value)}; use YYYY-MM-DD such as 2026-03-02")


def clock_time(value: object) -> dt.time:
    """'08:00' or a time; seconds are dropped (reminders work in minutes). Raises ValueError."""
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    if isinstance(value, str):
        try:
            hours, minutes = value.strip().split(":")
            return dt.time(int(hours), int(minutes))
        except ValueError:
            pass
    raise ValueError(f"must be a 24-hour time HH:MM such as 08:00, got {shown(value)}")


def one_of(choices: object) -> str:
    """'a, b or c' from an enum class or an iterable of strings."""
    names = [str(getattr(c, "value", c)) for c in choices]  # type: ignore[attr-defined]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


Number = Annotated[float, PlainValidator(number)]
Count = Annotated[int, Strict()]
Flag = Annotated[bool, Strict()]
Date = Annotated[dt.date, PlainValidator(_date)]
ClockTime = Annotated[dt.time, PlainValidator(clock_time)]
Short = Annotated[str, Strict(), StringConstraints(max_length=SHORT_MAX)]
Name = Annotated[str, Strict(), StringConstraints(max_length=NAME_MAX)]
Text = Annotated[str, Strict(), StringConstraints(max_length=TEXT_MAX)]


# --- errors -----------------------------------------------------------------------------------------


def _path(loc: tuple[int | str, ...], where: str) -> str:
    parts = [where] if where else []
    for part in loc:
        if isinstance(part, int):
            if parts:
                parts[-1] += f"[{part + 1}]"
            else:
                parts.append(f"[{part + 1}]")
        else:
            parts.append(str(part))
    return ".".join(parts) or "input"


def _unwrap(tp: Any) -> Any:
    """The dataclass inside ``X | None``, ``tuple[X, ...]``, ``list[X]`` or ``Annotated[X, ...]``."""
    for _ in range(6):
        if isinstance(tp, type) and hasattr(tp, "__pydantic_fields__"):
            return tp
        args = [a for a in get_args(tp) if a is not type(None) and a is not Ellipsis]
        if not args:
            return tp
        tp = args[0]
    return tp


def allowed_keys(root: type, loc: tuple[int | str, ...]) -> list[str]:
    """The keys the table at ``loc`` (inside ``root``) accepts, as a file spells them."""
    tp: Any = root
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(_unwrap(tp), "__pydantic_fields__", None)
        if not fields:
            return []
        info = next((f for name, f in fields.items() if part in (name, f.alias)), None)
        if info is None:
            return []
        tp = info.annotation
    fields = getattr(_unwrap(tp), "__pydantic_fields__", {})
    return [f.alias or name for name, f in fields.items()]


def _message(error: Mapping[str, Any], root: type, where: str, hints: Mapping[str, str]) -> str:
    loc = tuple(error["loc"])
    path = _path(loc, where)
    kind_ = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind_ in ("unexpected_keyword_argument", "extra_forbidden"):
        allowed = allowed_keys(root, loc[:-1])
        return f"unknown key {path}" + (f"; allowed keys: {', '.join(allowed)}" if allowed else "")
    if kind_ in ("missing", "missing_argument"):
        hint = hints.get(".".join(str(p) for p in loc if isinstance(p, str)))
        return f"{path} is missing" + (f"; {hint}" if hint else "")
    if kind_ == "value_error":
        text = str(ctx.get("error", error["msg"]))
        return text.replace(PLACE, path) if PLACE in text else f"{path} {text}"
    if kind_ == "string_too_long":
        return f"{path} is too long ({len(value or ''):,} characters; at most {ctx['max_length']:,})"
    if kind_ == "too_long":
        return f"{path} has too many items ({ctx.get('actual_length')}; at most {ctx['max_length']})"
    if kind_ == "enum":
        return f"{path} must be one of {ctx['expected'].replace(chr(39), '')}; got {shown(value)}"
    simple = {
        "int_type": "must be a whole number",
        "int_from_float": "must be a whole number",
        "int_parsing": "must be a whole number",
        "float_type": "must be a number",
        "string_type": "must be text",
        "bool_type": "must be true or false",
        "dataclass_type": "must be a table of keys",
        "dict_type": "must be a table of keys",
        "tuple_type": "must be a list",
        "list_type": "must be a list",
        "frozen_set_type": "must be a list",
        "set_type": "must be a list",
    }
    if kind_ in simple:
        return f"{path} {simple[kind_]}, {_got(value)}"
    return f"{path}: {error['msg'][:1].lower()}{error['msg'][1:]}"


def one_line(exc: pydantic.ValidationError, root: type, where: str = "", hints: Mapping[str, str] | None = None) -> str:
    """Every problem pydantic found, on one line, each naming its field path."""
    errors = exc.errors(include_url=False)
    parts = [_message(e, root, where, hints or {}) for e in errors[:MAX_ERRORS]]
    if len(errors) > MAX_ERRORS:
        parts.append(f"and {len(errors) - MAX_ERRORS} more")
    return "; ".join(parts).replace("\n", " ")


_ADAPTERS: dict[type, pydantic.TypeAdapter[Any]] = {}


def _adapter(cls: type[T]) -> pydantic.TypeAdapter[T]:
    """One adapter per class: building one costs far more than validating with it."""
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        adapter = _ADAPTERS[cls] = pydantic.TypeAdapter(cls)
    return adapter


def validate(
    cls: type[T], data: Any, error: type[ValidationError], *, where: str = "", hints: Mapping[str, str] | None = None
) -> T:
    """``cls`` from plain keys (by their file names, never by the Python alias), or ``error`` in one line."""
    try:
        return _adapter(cls).validate_python(data, by_alias=True, by_name=False)
    except pydantic.ValidationError as exc:
        raise error(one_line(exc, cls, where, hints)) from None


def validated(error: type[ValidationError]) -> Callable[[type[T]], type[T]]:
    """Class decorator: a pydantic dataclass's constructor raises ``error`` in one line, not pydantic's dump."""

    def decorate(cls: type[T]) -> type[T]:
        init = cls.__init__

        @functools.wraps(init)
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            try:
                init(self, *args, **kwargs)
            except pydantic.ValidationError as exc:
                raise error(one_line(exc, cls)) from None

        cls.__init__ = __init__  # type: ignore[method-assign]
        return cls

    return decorate


def single_as_list(value: Any) -> Any:
    """A lone item where a list is expected (``[medication]`` rather than ``[[medication]]``)."""
    return [value] if isinstance(value, str | dict | dt.time) else value


__all__ = [
    "INPUT_CONFIG",
    "NAME_MAX",
    "PLACE",
    "SHORT_MAX",
    "TEXT_MAX",
    "ClockTime",
    "Count",
    "Date",
    "Flag",
    "Name",
    "Number",
    "Short",
    "Text",
    "allowed_keys",
    "clock_time",
    "kind",
    "number",
    "one_line",
    "one_of",
    "shown",
    "single_as_list",
    "validate",
    "validated",
]
