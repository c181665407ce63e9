"""Load the evidence table (``evidence.toml``) into ``magtrial.core.evidence`` values."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from magtrial.core.evidence import Arm, EvidenceTable, PublishedEffect, Study


def _study(raw: dict[str, Any]) -> Study:
    raw = dict(raw)
    effect = PublishedEffect(**raw.pop("effect"))
    arms = tuple(Arm(**a) for a in raw.pop("arms", ()))
    return Study(
        effect=effect, arms=arms, missing=tuple(raw.pop("missing", ())), numbers=dict(raw.pop("numbers", {})), **raw
    )


def load_evidence(path: str | Path | None = None) -> EvidenceTable:
    """Read the packaged table, or ``path``; unknown keys raise ``TypeError`` naming them."""
    if path is None:
        text = resources.files("magtrial.data").joinpath("evidence.toml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    data = tomllib.loads(text)
    return EvidenceTable(tuple(_study(s) for s in data["study"]), data.get("source_note", ""))
