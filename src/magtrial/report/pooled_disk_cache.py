"""The report's pooled estimate kept on disk between command-line runs (issue 13).

``evidence_cache`` keeps the pooled estimate in memory, which serves the web server; each
``magtrial report`` is a new process, so without a file it would pool every unblinded trial again
(seconds on a large database) and the report's time would grow with the database. The file holds
the same fingerprint the memory cache uses, plus a stamp of the pooling code, and is used only when
both still match, so a changed pooled set or a changed pooling method is simply recomputed.

The file is a pickle in the user's own data folder, beside the SQLite database it summarises: it is
read only from there, which anyone able to write it could already do to the database itself.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

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
    return folder / f"pooled-{hashlib.sha256(repr(key).encode()).hexdigest()[:24]}.pickle"


def load(folder: Path, key: tuple[str, str], stamp: tuple[Any, ...]) -> Any:
    """The kept result for ``key`` if its fingerprint and code stamp still match, else ``MISS``."""
    try:
        kept_code, kept_key, kept_stamp, result = pickle.loads(_path(folder, key).read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError):
        return MISS
    if (kept_code, kept_key, kept_stamp) != (code_stamp(), key, stamp):
        return MISS
    return result


def save(folder: Path, key: tuple[str, str], stamp: tuple[Any, ...], result: Any) -> None:
    """Write atomically (a temporary file renamed into place); a failure only means no cache next time."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            pickle.dump((code_stamp(), key, stamp, result), out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, _path(folder, key))
    except OSError:
        return
