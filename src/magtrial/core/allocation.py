"""Randomized period order, sealed by a published hash commitment.

At creation the sequence is drawn from the operating system's CSPRNG (``secrets``) and stored with
a 256-bit random salt; only ``SHA-256(canonical JSON of trial id, design, sequence, salt)`` is
shown. At unblinding the sequence and salt are revealed and anyone can recompute the hash, so the
allocation cannot have been changed after the data came in. No production path takes a seed.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from magtrial.core.protocol import Design
from magtrial.errors import ValidationError

COMMITMENT_VERSION = 1


class Arm(StrEnum):
    MAGNESIUM = "magnesium"
    COMPARATOR = "comparator"

    @property
    def letter(self) -> str:
        return "A" if self is Arm.MAGNESIUM else "B"


AB = (Arm.MAGNESIUM, Arm.COMPARATOR)
BA = (Arm.COMPARATOR, Arm.MAGNESIUM)


@dataclass(frozen=True)
class AddedAllocation:
    """The order drawn for cycles an amendment added: its own salt and commitment, bound to ``key``."""

    key: str  # "TRIAL/amendment-N": the id its canonical bytes carry
    first_period: int
    sequence: tuple[Arm, ...]
    salt: str
    commitment: str


@dataclass(frozen=True)
class Allocation:
    """The unblinded truth: which arm each period (pack) holds.

    ``sequence`` covers every period; when amendments added cycles, ``added`` holds their parts (the
    tail of ``sequence``) and ``salt`` is the original draw's, which covers ``base_sequence`` only.
    """

    design: Design
    sequence: tuple[Arm, ...]
    salt: str
    added: tuple[AddedAllocation, ...] = ()

    @property
    def base_sequence(self) -> tuple[Arm, ...]:
        return self.sequence[: len(self.sequence) - sum(len(a.sequence) for a in self.added)]

    def arm_of_period(self, period: int) -> Arm:
        """Arm for 1-based period (= pack) number."""
        return self.sequence[period - 1]

    @property
    def letters(self) -> str:
        return "".join(arm.letter for arm in self.sequence)


def possible_sequences(design: Design, cycles: int) -> Iterator[tuple[Arm, ...]]:
    """Every sequence the design could have produced, each equally likely (the randomization set)."""
    if design is Design.PAIRED:
        for pairs in itertools.product((AB, BA), repeat=cycles):
            yield tuple(arm for pair in pairs for arm in pair)
    else:
        for first, second in ((AB, BA), (BA, AB)):
            yield tuple(arm for i in range(cycles) for arm in (first if i % 2 == 0 else second))


def draw_allocation(design: Design, cycles: int) -> Allocation:
    """Draw a sequence uniformly from the design's randomization set with the OS CSPRNG."""
    if design is Design.PAIRED:
        sequence = tuple(arm for _ in range(cycles) for arm in secrets.choice((AB, BA)))
    else:
        first, second = secrets.choice(((AB, BA), (BA, AB)))
        sequence = tuple(arm for i in range(cycles) for arm in (first if i % 2 == 0 else second))
    return Allocation(design=design, sequence=sequence, salt=secrets.token_hex(32))


def canonical_bytes(trial_id: str, design: Design | str, sequence: tuple[Arm, ...] | list[str], salt: str) -> bytes:
    """The exact bytes hashed: sorted-key compact JSON, so any tool can recompute it."""
    payload = {
        "v": COMMITMENT_VERSION,
        "trial": trial_id,
        "design": str(design),
        "sequence": [str(arm) for arm in sequence],
        "salt": salt,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def commitment(trial_id: str, allocation: Allocation) -> str:
    return hashlib.sha256(
        canonical_bytes(trial_id, allocation.design, allocation.sequence, allocation.salt)
    ).hexdigest()


def verify_commitment(
    published: str, trial_id: str, design: Design | str, sequence: tuple[Arm, ...] | list[str], salt: str
) -> bool:
    """True when the revealed sequence and salt hash to the commitment published at creation."""
    expected = hashlib.sha256(canonical_bytes(trial_id, design, sequence, salt)).hexdigest()
    return hmac.compare_digest(expected, published.lower())


def parse_sequence(values: list[str] | str) -> tuple[Arm, ...]:
    """Accept 'ABBA' letters or a list of arm names, as revealed in a report or export."""
    try:
        if isinstance(values, str):
            return tuple(Arm.MAGNESIUM if c == "A" else Arm.COMPARATOR if c == "B" else Arm(c) for c in values)
        return tuple(Arm(v) for v in values)
    except ValueError:
        raise ValidationError(f"not an allocation sequence: {values!r}") from None


def verify_all(published: str, trial_id: str, allocation: Allocation) -> bool:
    """The original draw against the trial's commitment and every added part against its own."""
    ok = verify_commitment(published, trial_id, allocation.design, allocation.base_sequence, allocation.salt)
    return ok and all(
        verify_commitment(a.commitment, a.key, allocation.design, a.sequence, a.salt) for a in allocation.added
    )


def combine(base: Allocation, added: list[AddedAllocation] | tuple[AddedAllocation, ...]) -> Allocation:
    """The original draw followed by the parts amendments added, in period order."""
    parts = tuple(sorted(added, key=lambda a: a.first_period))
    sequence = base.sequence + tuple(arm for a in parts for arm in a.sequence)
    return Allocation(base.design, sequence, base.salt, parts)
