"""Conditions as a coded vocabulary: what a person typed, read as a concept the rules know.

People write illness freely ("haemodialysis", "CKD stage IV", "1st degree AV block", "N18.4"), so a
condition is matched through a key that ignores case, accents, punctuation, spacing, British or
American spelling (ae/oe), ordinals ("1st", "first") and Roman stage numbers, then by its set of
words (any order), then by a SNOMED CT or ICD-10 code. A concept carries the codes that identify it
and the id of the person rule it triggers (``safety_person.toml``).

What is not recognised is never silent: the checker makes it a *needs clinician* finding. When an
unrecognised text still contains a known term ("suspected myasthenia gravis"), the concepts it
mentions are reported as well, so a qualifier can never hide a blocking condition.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
SYSTEM_NAMES = {SNOMED: "SNOMED CT", ICD10: "ICD-10", ICD10_CM: "ICD-10-CM"}

_SEMANTIC_TAG = re.compile(r"\((disorder|finding|procedure|situation|morphologic abnormality)\)\s*$")
_ORDINALS = {"first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5"}
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "iiia": "3 a", "iiib": "3 b"}
_ROMAN_AFTER = {"stage", "type", "grade", "mobitz", "crps", "ckd", "g"}  # 'a v block' keeps its v
_ORDINAL_SUFFIXES = {"st", "nd", "rd", "th"}
_FILLER = {"of", "the", "and", "with", "a", "an", "in", "on"}
_ICD10_CODE = re.compile(r"^[A-Z]\d{2}(\.[0-9A-Z]{1,4})?$")
_SNOMED_CODE = re.compile(r"^\d{6,18}$")
_CODE_PREFIX = re.compile(r"^(snomed\s*ct|snomed|sct|icd\s*-?\s*10(\s*-?\s*cm)?)\s*[:#]?\s*", re.IGNORECASE)


def condition_key(text: str) -> str:
    """The matching key of a condition name: lower case, plain letters, digits and single spaces.

    "First-degree A-V block" and "1st degree AV block" give "1 degree a v block"; "CKD stage IV"
    and "ckd4" give "ckd stage 4" and "ckd 4"; "Haemodialysis" gives "hemodialysis".
    """
    text = _SEMANTIC_TAG.sub("", unicodedata.normalize("NFKD", text).strip())
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = text.replace("°", " degree ").replace("æ", "e").replace("œ", "e").replace("ae", "e").replace("oe", "e")
    text = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", text)  # ckd4 -> ckd 4, 1st -> 1 st
    words: list[str] = []
    for word in re.sub(r"[^a-z0-9]+", " ", text).split():
        if word in _ORDINAL_SUFFIXES and words and words[-1].isdigit():
            continue  # 1 st -> 1
        if word in _ROMAN and words and words[-1] in _ROMAN_AFTER:
            words.append(_ROMAN[word])
        else:
            words.append(_ORDINALS.get(word, word))
    return " ".join(words)


def compact_key(key: str) -> str:
    """The key without spaces, so 'hemo dialysis', 'a v block' and 'ckd 4' meet 'hemodialysis', 'av block', 'ckd4'."""
    return key.replace(" ", "")


def words_key(key: str) -> frozenset[str]:
    """The key's words without fillers, in no order: 'block, heart' is 'heart block'."""
    return frozenset(w for w in key.split() if w not in _FILLER)


@dataclass(frozen=True)
class Code:
    """A code for a concept in a standard code system.

    ``verified`` is False where the code was not checked against a published code list; such a
    code is shown for a reader to check but is never used to recognise what a person typed.
    """

    system: str
    code: str
    display: str
    verified: bool
    source: str

    @property
    def system_name(self) -> str:
        return SYSTEM_NAMES.get(self.system, self.system)

    def as_dict(self) -> dict[str, object]:
        return {
            "system": self.system,
            "system_name": self.system_name,
            "code": self.code,
            "display": self.display,
            "verified": self.verified,
        }


@dataclass(frozen=True)
class ConditionConcept:
    """One condition the checker knows: its name, the words people use for it, its codes and rule."""

    id: str
    name: str
    rule_id: str
    terms: tuple[str, ...]
    codes: tuple[Code, ...]
    note: str = ""

    def term_keys(self) -> set[str]:
        return {condition_key(t) for t in (self.name, *self.terms)}


@dataclass(frozen=True)
class ConditionMatch:
    """How one condition as typed was read.

    ``concept`` is the recognised concept (None: not recognised); ``via`` says how ("term",
    "words", "code"). ``mentions`` are concepts named inside an unrecognised text.
    """

    text: str
    concept: ConditionConcept | None
    via: str = ""
    mentions: tuple[ConditionConcept, ...] = ()

    @property
    def recognised(self) -> bool:
        return self.concept is not None

    def as_dict(self) -> dict[str, object]:
        c = self.concept
        return {
            "text": self.text,
            "recognised": c is not None,
            "via": self.via or None,
            "concept": c.id if c else None,
            "name": c.name if c else None,
            "rule_id": c.rule_id if c else None,
            "codes": [k.as_dict() for k in c.codes] if c else [],
            "mentions": [m.id for m in self.mentions],
        }


class ConditionVocabulary:
    """Every known concept, indexed by term key, word set and verified code."""

    def __init__(self, concepts: tuple[ConditionConcept, ...]) -> None:
        self.concepts = concepts
        self._by_key: dict[str, ConditionConcept] = {}  # spaced keys, for finding terms inside a text
        self._by_compact: dict[str, ConditionConcept] = {}
        self._by_words: dict[frozenset[str], ConditionConcept] = {}
        self._by_code: dict[tuple[str, str], ConditionConcept] = {}
        for concept in concepts:
            for key in concept.term_keys():
                held = self._by_compact.setdefault(compact_key(key), concept)
                if held is not concept:
                    raise ValueError(f"condition term {key!r} belongs to both {held.id} and {concept.id}")
                self._by_key[key] = concept
                self._by_words.setdefault(words_key(key), concept)
            for code in concept.codes:
                if code.verified:
                    held = self._by_code.setdefault((code.system, code.code.upper()), concept)
                    if held is not concept:
                        raise ValueError(f"code {code.code} belongs to both {held.id} and {concept.id}")

    def get(self, concept_id: str) -> ConditionConcept:
        for c in self.concepts:
            if c.id == concept_id:
                return c
        raise KeyError(concept_id)

    def match(self, text: str) -> ConditionMatch:
        found = self._match(text)
        if found.concept is None:
            # "End-stage renal disease (ESRD)": a name and its abbreviation, both naming one concept
            named = re.fullmatch(r"\s*([^()]+?)\s*\(([^()]+)\)\s*", text)
            if named:
                outside, inside = (self._match(part).concept for part in named.groups())
                if outside is not None and outside == inside:
                    return ConditionMatch(text, outside, "term")
        return found

    def _match(self, text: str) -> ConditionMatch:
        key = condition_key(text)
        if compact_key(key) in self._by_compact:
            return ConditionMatch(text, self._by_compact[compact_key(key)], "term")
        if words_key(key) in self._by_words:
            return ConditionMatch(text, self._by_words[words_key(key)], "words")
        by_code = self._match_code(text)
        if by_code is not None:
            return ConditionMatch(text, by_code, "code")
        return ConditionMatch(text, None, mentions=self._mentions(key))

    def _match_code(self, text: str) -> ConditionConcept | None:
        raw = _CODE_PREFIX.sub("", text.strip()).strip().upper()
        if _SNOMED_CODE.match(raw):
            return self._by_code.get((SNOMED, raw))
        if _ICD10_CODE.match(raw):
            # ICD-10 is a hierarchy: N18.40 or G70.01 (ICD-10-CM) fall under N18.4 and G70.0.
            for length in range(len(raw), 2, -1):
                prefix = raw[:length].rstrip(".")
                for system in (ICD10, ICD10_CM):
                    if (system, prefix) in self._by_code:
                        return self._by_code[(system, prefix)]
        return None

    def _mentions(self, key: str) -> tuple[ConditionConcept, ...]:
        """Concepts whose term appears as whole words inside ``key``, longest term first, each once."""
        padded, compact = f" {key} ", compact_key(key)
        found: dict[str, ConditionConcept] = {}
        for term_key, concept in sorted(self._by_key.items(), key=lambda kv: -len(kv[0])):
            # whole words, or inside run-together text ("ocularmyastheniagravis") for terms of 8+ letters
            term_compact = compact_key(term_key)
            if f" {term_key} " in padded or (len(term_compact) >= 8 and term_compact in compact):
                found.setdefault(concept.id, concept)
        return tuple(found.values())
