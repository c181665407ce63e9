"""The report's pooled estimate kept on disk between command-line runs (issue 13).

``evidence_cache`` keeps the pooled estimate in memory, which serves the web server; each
``magtrial report`` is a new process, so without a file it would pool every unblinded trial again
(seconds on a large database) and the report's time would grow with the database. The file holds
the same fingerprint the memory cache uses, plus a stamp of the pooling code, and is used only when
both still match, so a changed pooled set or a changed pooling method is simply recomputed.

The file is JSON decoded only into ``PoolResult`` and its field types, never a pickle: someone who
can write the data folder (a participant owning the laptop) could change the database, but must not
be able to run code in the clinician's process, which may hold a key passphrase.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import tempfile
import types
import typing
from importlib import resources
from pathlib import Path
from typing import Any

from magtrial.core.pooling.results import PoolResult

MISS = object()


@functools.cache
def code_stamp() -> str:
    """SHA-256 of the pooling package's sources: a new pooling method never reads an old answer."""
    digest = hashlib.sha256()
    for path in sorted((resources.files("magtrial.core") / "pooling").iterdir(), key=lambda p: p.name):
        if path.name.endswith(".py"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _path(folder: Path, key: tuple[str, str]) -> Path:
    return folder / f"pooled-{hashlib.sha256(repr(key).encode()).hexdigest()[:24]}.json"


def load(folder: Path, key: tuple[str, str], stamp: tuple[Any, ...]) -> Any:
    """The kept result for ``key`` if its fingerprint and code stamp still match, else ``MISS``."""
    try:
        kept = json.loads(_path(folder, key).read_text(encoding="utf-8"))
        if (kept["code"], kept["key"], kept["stamp"]) != (code_stamp(), list(key), list(stamp)):
            return MISS
        return None if kept["result"] is None else _decode(PoolResult, kept["result"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return MISS


def _decode(kind: Any, value: Any) -> Any:
    """``value`` (from JSON) as ``kind``: dataclasses, optionals, tuples and dicts of the pooled result."""
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return kind(**{f.name: _decode(hints[f.name], value[f.name]) for f in dataclasses.fields(kind)})
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        return None if value is None else _decode(next(a for a in args if a is not type(None)), value)
    if origin is tuple:
        items = args[:1] * len(value) if len(args) == 2 and args[1] is Ellipsis else args
        if len(items) != len(value):
            raise ValueError("a kept tuple has the wrong length")
        return tuple(_decode(a, v) for a, v in zip(items, value, strict=True))
    if origin is dict:
        return {str(k): _decode(args[1], v) for k, v in value.items()}
    if kind in (int, float, str) and isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return kind(value)
    raise TypeError(f"unexpected {type(value).__name__} for {kind}")


def save(folder: Path, key: tuple[str, str], stamp: tuple[Any, ...], result: Any) -> None:
    """Write atomically (a temporary file renamed into place); a failure only means no cache next time."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        kept = {
            "code": code_stamp(),
            "key": list(key),
            "stamp": list(stamp),
            "result": None if result is None else dataclasses.asdict(result),
        }
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(kept, out)
        os.replace(tmp, _path(folder, key))
    except OSError:
        return
