"""The published evidence on magnesium for neuropathic pain, as plain values.

Each ``Study`` is one sourced row (read from ``magtrial/data/evidence.toml`` by
``magtrial.data.evidence.load_evidence``). A between-group effect is given only when the source
reports it or it follows arithmetically from reported numbers; otherwise it is ``None`` and the
reason is stated. Nothing here is estimated, imputed or guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from magtrial.errors import ValidationError

EXTRACTABLE = ("reported", "derived")


@dataclass(frozen=True)
class PublishedEffect:
    """Between-group effect on pain, magnesium minus control, in points of the study's pain scale.

    ``status``: "reported" (stated by the source), "derived" (computed by us from reported numbers;
    ``derivation`` says how) or "missing" (not extractable; ``note`` says why). ``se``/``lower``/
    ``upper`` are ``None`` when the source does not allow them.
    """

    status: str
    value: float | None = None
    se: float | None = None
    lower: float | None = None
    upper: float | None = None
    scale: str = ""
    timepoint: str = ""
    derivation: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if self.status not in (*EXTRACTABLE, "missing"):
            raise ValidationError(f"effect status must be reported, derived or missing, got {self.status!r}")
        if self.status == "missing" and self.value is not None:
            raise ValidationError("a missing effect cannot carry a value")
        if self.status != "missing" and self.value is None:
            raise ValidationError(f"a {self.status} effect needs a value")
        if self.status == "derived" and not self.derivation:
            raise ValidationError("a derived effect must say how it was derived")

    @property
    def extractable(self) -> bool:
        return self.status in EXTRACTABLE

    @property
    def has_interval(self) -> bool:
        return self.lower is not None and self.upper is not None


@dataclass(frozen=True)
class Arm:
    label: str
    n: int | None
    pain_before: float | None = None
    pain_before_sd: float | None = None
    pain_after: float | None = None
    pain_after_sd: float | None = None


@dataclass(frozen=True)
class Study:
    key: str
    citation: str
    year: int
    kind: str  # "trial" or "systematic review"
    design: str
    controlled: bool  # False for an uncontrolled before/after comparison
    condition: str
    n: int | None
    route: str  # "iv", "iv-then-oral", "oral", "mixed"
    intervention: str
    dose: str
    comparator: str
    outcome: str
    result: str
    headline: str  # one line, as reported
    effect: PublishedEffect
    source: str  # what the values were taken from, in words a clinician can check ("Abstract", ...)
    doi: str | None = None
    link: str | None = None  # https://doi.org/... or a PubMed search for the title
    arms: tuple[Arm, ...] = ()
    numbers: dict[str, Any] = field(default_factory=dict)  # other reported numbers, named
    missing: tuple[str, ...] = ()  # facts the sources read do not give

    @property
    def reference(self) -> str:
        """The full citation with its link, as a clinician would look it up."""
        where = self.link or (f"https://doi.org/{self.doi}" if self.doi else "")
        return f"{self.citation}." + (f" {where}" if where else "") + f" (Values from: {self.source}.)"

    @property
    def label(self) -> str:
        first = self.citation.split(",")[0].split()[0]
        return f"{first} {self.year}" + ("" if self.controlled else " (uncontrolled)")


@dataclass(frozen=True)
class EvidenceTable:
    studies: tuple[Study, ...]
    source_note: str = ""

    def __getitem__(self, key: str) -> Study:
        for s in self.studies:
            if s.key == key:
                return s
        raise KeyError(key)

    @property
    def extractable(self) -> tuple[Study, ...]:
        return tuple(s for s in self.studies if s.effect.extractable)

    @property
    def summary(self) -> list[dict[str, object]]:
        return [
            {
                "study": s.label,
                "design": s.design,
                "n": s.n,
                "condition": s.condition,
                "route": s.route,
                "dose": s.dose,
                "outcome": s.outcome,
                "result": s.result,
                "effect": s.effect.value,
                "effect_se": s.effect.se,
                "effect_status": s.effect.status,
                "controlled": s.controlled,
            }
            for s in self.studies
        ]

    @property
    def text(self) -> str:
        n_trials = sum(1 for s in self.studies if s.kind == "trial")
        lines = [
            f"{n_trials} trials and {len(self.studies) - n_trials} systematic review on magnesium for neuropathic pain."
        ]
        for s in self.studies:
            eff = s.effect
            if eff.extractable:
                se = f", SE {eff.se:.2f}" if eff.se is not None else ", SE not extractable"
                what = f"between-group effect {eff.value:+.1f} points ({eff.status}{se})"
            else:
                what = "no between-group effect can be extracted"
            lines.append(
                f"- {s.label}: {s.design}, n = {s.n if s.n is not None else 'not stated'}. {s.headline} ({what})."
            )
        if any(not s.controlled for s in self.studies):
            lines.append(
                "An uncontrolled before/after study cannot separate magnesium from time, co-treatment "
                "or placebo response."
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class ForestRow:
    label: str
    value: float | None
    lower: float | None
    upper: float | None
    kind: str  # "published", "uncontrolled", "pooled"
    note: str


def forest_rows(table: EvidenceTable, pooled: Any | None = None) -> list[ForestRow]:
    """Rows for a forest plot: every study (value ``None`` when not extractable) and the pooled N-of-1 mu.

    ``pooled`` is a ``PoolResult`` (anything with ``mu`` and ``n_trials``); its interval is the 95 %
    posterior interval of the population mean effect.
    """
    rows = []
    for s in table.studies:
        e = s.effect
        kind = "uncontrolled" if not s.controlled else "published"
        if e.extractable:
            note = f"{e.status}, {e.timepoint}; " + (
                "SE not extractable" if e.se is None and not e.has_interval else "95 % CI"
            )
        else:
            note = "no extractable effect: " + e.note
        rows.append(ForestRow(f"{s.label}, n = {s.n}", e.value, e.lower, e.upper, kind, note))
    if pooled is not None:
        mu = pooled.mu
        rows.append(
            ForestRow(
                f"Pooled N-of-1 trials, n = {pooled.n_trials}",
                mu.mean,
                mu.lower,
                mu.upper,
                "pooled",
                "population mean effect, 95 % posterior interval",
            )
        )
    return rows
