"""Rendered charts kept in the data folder between command-line runs (issue 13).

Importing matplotlib and drawing the report's three charts costs about a second in every
``magtrial report`` process, though the charts change only when their data do. So each chart is
kept as a file named for its slot (trial and chart) and holding the SHA-256 of exactly the data it
was drawn from, the plotting code and the matplotlib version; a file whose digest differs is drawn
again and replaced, so changed data, code or library never reuse an old picture.

The participant may own the data folder. A blinded chart is drawn from blinded data only, so the
file (its name from the trial id, its digest, its SVG) is the same whichever order was drawn. The
SVG is inlined into the report unescaped, so a kept file is used only if it holds nothing but the
elements and attributes matplotlib writes, with every reference local (``#id``): a planted file
cannot make the report fetch or embed anything.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from importlib import metadata, resources
from pathlib import Path
from typing import Any

_WRITTEN = (
    "svg g path defs clipPath use text tspan rect line polyline polygon circle ellipse pattern style metadata title"
)
ELEMENTS = frozenset(f"{_WRITTEN} rdf:RDF cc:Work dc:format dc:type dc:title dc:date dc:creator cc:Agent".split(" "))
_TAG = re.compile(r"<\s*/?\s*([A-Za-z][\w:.-]*)")
_REFERENCE = re.compile(r"(?:href|src)\s*=\s*[\"']?([^\"'\s>]*)|url\(\s*[\"']?([^\"')\s]*)", re.IGNORECASE)
_ENTITY = re.compile(r"&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)")


@functools.cache
def code_stamp() -> str:
    """SHA-256 of the matplotlib version, the plotting package and the report modules that call it."""
    digest = hashlib.sha256(metadata.version("matplotlib").encode())
    report = resources.files("magtrial.report")
    sources = [*resources.files("magtrial.plots").iterdir(), report / "charts.py", report / "evidence_panel.py"]
    for path in sorted(sources, key=lambda p: p.name):
        if path.name.endswith(".py"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def digest_of(chart: str, data: Any) -> str:
    """SHA-256 of the chart's name, its input data (as canonical JSON) and the code stamp."""
    text = json.dumps([chart, data], sort_keys=True, default=_plain, separators=(",", ":"))
    return hashlib.sha256((code_stamp() + "\0" + text).encode()).hexdigest()


def _plain(value: Any) -> Any:
    """JSON for what charts take besides plain values: dates, numpy arrays and numbers, dataclasses."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "tobytes"):  # a numpy array: its exact bytes, dtype and shape
        return [str(value.dtype), list(value.shape), hashlib.sha256(value.tobytes()).hexdigest()]
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "__dataclass_fields__"):
        return [type(value).__name__, {name: getattr(value, name) for name in value.__dataclass_fields__}]
    raise TypeError(f"cannot key a chart on {type(value).__name__}")


def is_plain_svg(svg: str) -> bool:
    """True when ``svg`` is one ``<svg>`` element of chart elements with only local references."""
    if not svg.startswith("<svg") or "<!" in svg or "<?" in svg or "@import" in svg or _ENTITY.search(svg):
        return False
    if any(tag not in ELEMENTS for tag in _TAG.findall(svg)):
        return False
    return all((m.group(1) or m.group(2) or "").startswith("#") for m in _REFERENCE.finditer(svg))


def chart_folder(cache: Path, database_url: str) -> Path:
    """The folder for one database's charts (named by a digest of its URL, which may hold a password)."""
    return cache / "charts" / hashlib.sha256(database_url.encode()).hexdigest()[:16]


def cached_chart(folder: Path | None, slot: str, chart: str, data: Any, draw: Callable[[], str]) -> str:
    """The SVG ``draw()`` returns, kept in ``folder`` under ``slot`` and reused while ``data`` are unchanged.

    ``data`` must be everything the drawing depends on (the digest is taken over it); ``folder``
    None draws every time. Reading or writing failures only mean drawing again.
    """
    if folder is None:
        return draw()
    digest = digest_of(chart, data)
    path = folder / f"chart-{hashlib.sha256(f'{slot}/{chart}'.encode()).hexdigest()[:24]}.svg"
    head = f"<!--{digest}-->\n"
    try:
        kept = path.read_text(encoding="utf-8")
        if kept.startswith(head) and is_plain_svg(kept[len(head) :]):
            return kept[len(head) :]
    except (OSError, ValueError):
        pass
    svg = draw()
    _write(path, head + svg)
    return svg


def _write(path: Path, text: str) -> None:
    """Atomically (a temporary file renamed into place); a failure only means no cache next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except OSError:
        return
