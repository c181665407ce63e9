"""The safety rule tables as core values: the checker reads these, never the TOML files.

Each row carries its ``source``, because an unsourced safety rule is a defect: a reader must be
able to see why the tool said what it said. ``magtrial.data.safety`` parses the TOML into these.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from magtrial.core.safety.conditions import ConditionVocabulary
from magtrial.core.safety.model import Jurisdiction, Level, Person
from magtrial.errors import SafetyInputError


def normalize_name(text: str) -> str:
    """Lower case, single spaces, no 'magnesium'/'mg' prefix: how salts and drugs are matched."""
    text = re.sub(r"[\s_]+", " ", text.strip().lower()).replace("-", " ")
    return re.sub(r"^(magnesium|mg) ", "", text).strip()


@dataclass(frozen=True)
class SaltForm:
    """One hydrate or stoichiometry of a salt and its elemental magnesium fraction (0-1)."""

    salt: str
    form: str
    fraction: float
    formula: str
    source: str
    note: str = ""

    @property
    def rule_id(self) -> str:
        return f"salt-{self.salt}-{self.form}"

    @property
    def percent(self) -> float:
        return round(self.fraction * 100, 1)


@dataclass(frozen=True)
class Salt:
    key: str
    aliases: tuple[str, ...]
    forms: tuple[SaltForm, ...]

    def form(self, hydrate: str | None) -> SaltForm | None:
        """The named form, the only form, or None when the salt has several and none was named."""
        if hydrate is None or not hydrate.strip():
            return self.forms[0] if len(self.forms) == 1 else None
        wanted = normalize_name(hydrate)
        for f in self.forms:
            if normalize_name(f.form) == wanted:
                return f
        raise SafetyInputError(
            f"magnesium {self.key} has no form {hydrate!r}; known forms: "
            f"{', '.join(f.form for f in self.forms)} (or 'unknown')"
        )


@dataclass(frozen=True)
class UpperLimit:
    """A tolerable upper intake for supplemental magnesium; ``mg`` None means not determinable."""

    rule_id: str
    jurisdiction: Jurisdiction
    min_age: float
    below_age: float
    mg: float | None
    source: str
    life_stage: str = "any"  # any | pregnancy | lactation


@dataclass(frozen=True)
class Rda:
    """Recommended intake from all sources (food included): context, not a limit."""

    rule_id: str
    min_age: float
    below_age: float
    sex: str  # any | female | male
    mg: float
    source: str
    life_stage: str = "any"


@dataclass(frozen=True)
class PersonRule:
    """A fact about the person that raises the verdict: a kidney threshold, condition, life stage or age.

    ``kind`` says which field is tested: ``dialysis``, ``egfr-below`` (``threshold``),
    ``pregnant``, ``lactating``, ``age-below`` (``threshold``), or ``condition``: a rule that only
    the condition vocabulary triggers (any rule may also be triggered by a condition concept).
    """

    rule_id: str
    kind: str
    level: Level
    message: str
    source: str
    threshold: float | None = None

    def applies(self, person: Person) -> bool:
        if self.kind == "dialysis":
            return person.dialysis
        if self.kind == "egfr-below":
            return person.egfr is not None and self.threshold is not None and person.egfr < self.threshold
        if self.kind == "pregnant":
            return person.pregnant
        if self.kind == "lactating":
            return person.lactating
        if self.kind == "age-below":
            return self.threshold is not None and person.age < self.threshold
        if self.kind == "condition":
            return False  # conditions reach their rules through the vocabulary (checker.condition_findings)
        raise SafetyInputError(f"unknown person rule kind {self.kind!r} in rule {self.rule_id}")


@dataclass(frozen=True)
class Interaction:
    """A drug or class that interacts with magnesium, with the spacing its sources ask for.

    ``drug_after_mg_min``: least minutes from a magnesium dose to a later dose of the drug.
    ``drug_before_mg_min``: least minutes from a dose of the drug to a later magnesium dose.
    Equal values mean the sources give no direction; 0 and 0 mean no spacing (monitoring only).
    """

    rule_id: str
    name: str
    aliases: tuple[str, ...]
    level: Level
    effect: str
    action: str
    source: str
    drug_before_mg_min: int = 0
    drug_after_mg_min: int = 0

    @property
    def spaced(self) -> bool:
        return self.drug_before_mg_min > 0 or self.drug_after_mg_min > 0

    def match_length(self, drug: str) -> int:
        """Length of the longest name or alias the drug matches (0: none), also when a strength
        follows ('gabapentin 300 mg'); the longest wins so 'calcium channel blocker' is not 'calcium'."""
        wanted = normalize_name(drug)
        best = 0
        for alias in (self.name, *self.aliases):
            a = normalize_name(alias)
            if wanted == a or wanted.startswith(a + " "):
                best = max(best, len(a))
        return best


@dataclass(frozen=True)
class Symptom:
    """A stop-and-seek-care sign of hypermagnesaemia, as a diary item and/or free-text words."""

    rule_id: str
    name: str
    diary_items: tuple[str, ...]
    keywords: tuple[str, ...]
    source: str

    def found_in(self, text: str) -> bool:
        words = " " + re.sub(r"[^a-z0-9]+", " ", text.lower()) + " "
        return any(" " + re.sub(r"[^a-z0-9]+", " ", k.lower()).strip() + " " in words for k in self.keywords)


@dataclass(frozen=True)
class Policy:
    """A checker rule that is not a table lookup (over the UL, unlisted drug, ...), with its source.

    ``message`` may hold ``{placeholders}`` the checker fills in; ``value`` is the rule's number
    (e.g. the default spacing in minutes) where it has one.
    """

    rule_id: str
    level: Level
    message: str
    source: str
    value: float | None = None


@dataclass(frozen=True)
class SafetyRules:
    salts: tuple[Salt, ...]
    upper_limits: tuple[UpperLimit, ...]
    rdas: tuple[Rda, ...]
    person_rules: tuple[PersonRule, ...]
    interactions: tuple[Interaction, ...]
    symptoms: tuple[Symptom, ...]
    policies: tuple[Policy, ...]
    conditions: ConditionVocabulary = field(default_factory=lambda: ConditionVocabulary(()))

    def person_rule(self, rule_id: str) -> PersonRule:
        for r in self.person_rules:
            if r.rule_id == rule_id:
                return r
        raise KeyError(f"the safety tables have no person rule {rule_id!r}")

    def salt(self, name: str) -> Salt:
        """The salt for a name or alias; an unknown salt is an error listing the known ones, never a guess.

        A salt named with its form ('chloride hexahydrate') is refused with the split spelled out,
        since the form belongs in ``hydrate``.
        """
        wanted = normalize_name(name)
        for s in self.salts:
            if wanted in {normalize_name(a) for a in (s.key, *s.aliases)}:
                return s
        for s in self.salts:
            for f in s.forms:
                for alias in (s.key, *s.aliases):
                    a, form = normalize_name(alias), normalize_name(f.form)
                    if wanted in (f"{a} {form}", f"{form} {a}"):
                        raise SafetyInputError(
                            f"magnesium salt {name!r} names the salt and its form: give salt {s.key!r} and "
                            f"hydrate {f.form!r} (--salt {s.key} --hydrate {f.form}; in a file "
                            f'salt = "{s.key}" and hydrate = "{f.form}")'
                        )
        raise SafetyInputError(
            f"unknown magnesium salt {name!r}; known salts: "
            f"{', '.join(s.key for s in self.salts)}. If the label gives elemental "
            "magnesium, the salt still has to be one of these"
        )

    def upper_limit(self, person: Person, jurisdiction: Jurisdiction) -> UpperLimit:
        stage = "pregnancy" if person.pregnant else "lactation" if person.lactating else "any"
        rows = [
            u for u in self.upper_limits if u.jurisdiction is jurisdiction and u.min_age <= person.age < u.below_age
        ]
        for wanted in (stage, "any"):
            for u in rows:
                if u.life_stage == wanted:
                    return u
        raise SafetyInputError(f"no {jurisdiction.value} upper limit covers age {person.age}")

    def rda(self, person: Person) -> Rda | None:
        stage = "pregnancy" if person.pregnant else "lactation" if person.lactating else "any"
        rows = [r for r in self.rdas if r.min_age <= person.age < r.below_age]
        for r in rows:
            if r.life_stage == stage and (stage != "any" or r.sex in ("any", person.sex.value)):
                return r
        return None  # e.g. sex unspecified where the RDA differs by sex

    def interaction(self, drug: str) -> Interaction | None:
        best = max(self.interactions, key=lambda i: i.match_length(drug), default=None)
        return best if best is not None and best.match_length(drug) > 0 else None

    def policy(self, rule_id: str) -> Policy:
        for p in self.policies:
            if p.rule_id == rule_id:
                return p
        raise KeyError(f"the safety tables have no policy {rule_id!r}")

    def rows(self) -> Iterator[tuple[str, str]]:
        """Every rule as (rule id, source), for the test that no rule is unsourced."""
        for s in self.salts:
            for f in s.forms:
                yield f.rule_id, f.source
        for table in (self.upper_limits, self.rdas, self.person_rules, self.interactions, self.symptoms, self.policies):
            for row in table:
                yield row.rule_id, row.source
        for c in self.conditions.concepts:  # a concept's source is the rule it triggers
            yield f"condition-concept-{c.id}", self.person_rule(c.rule_id).source
