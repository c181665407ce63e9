"""Sealed randomization: balanced, unpredictable, and a commitment that catches any change."""

import collections
import inspect
import math

import pytest

from magtrial.core import allocation as alloc
from magtrial.core.allocation import Arm
from magtrial.core.protocol import Design


@pytest.mark.parametrize("cycles", [1, 3, 4, 12])
def test_paired_design_is_balanced_within_every_cycle(cycles):
    for _ in range(50):
        a = alloc.draw_allocation(Design.PAIRED, cycles)
        assert len(a.sequence) == 2 * cycles
        for i in range(cycles):
            assert set(a.sequence[2 * i : 2 * i + 2]) == {Arm.MAGNESIUM, Arm.COMPARATOR}


@pytest.mark.parametrize("cycles", [2, 4, 6])
def test_counterbalanced_design_is_abba_or_baab(cycles):
    seen = set()
    for _ in range(60):
        letters = alloc.draw_allocation(Design.COUNTERBALANCED, cycles).letters
        assert letters in {("ABBA" * cycles)[: 2 * cycles], ("BAAB" * cycles)[: 2 * cycles]}
        seen.add(letters)
    assert len(seen) == 2


def test_every_paired_sequence_is_drawn_about_equally_often():
    """Chi-square over the 16 sequences of a 4-cycle trial: the CSPRNG draw is uniform."""
    n = 4800
    counts = collections.Counter(alloc.draw_allocation(Design.PAIRED, 4).letters for _ in range(n))
    possible = {"".join(a.letter for a in s) for s in alloc.possible_sequences(Design.PAIRED, 4)}
    assert set(counts) == possible
    expected = n / 16
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi2 < 37.7  # 99.9th percentile of chi-square with 15 df


def test_production_draw_takes_no_seed_and_salts_never_repeat():
    assert list(inspect.signature(alloc.draw_allocation).parameters) == ["design", "cycles"]
    assert "secrets" in inspect.getsource(alloc.draw_allocation)
    salts = {alloc.draw_allocation(Design.PAIRED, 4).salt for _ in range(500)}
    assert len(salts) == 500 and all(len(s) == 64 for s in salts)


def test_randomization_set_sizes():
    assert len(list(alloc.possible_sequences(Design.PAIRED, 4))) == 16
    assert len(set(alloc.possible_sequences(Design.PAIRED, 5))) == 32
    assert len(set(alloc.possible_sequences(Design.COUNTERBALANCED, 4))) == 2


def test_commitment_verifies_and_fails_after_any_change():
    a = alloc.draw_allocation(Design.PAIRED, 4)
    c = alloc.commitment("mt-1", a)
    assert alloc.verify_commitment(c, "mt-1", a.design, a.sequence, a.salt)
    flipped = tuple(Arm.COMPARATOR if x is Arm.MAGNESIUM else Arm.MAGNESIUM for x in a.sequence)
    assert not alloc.verify_commitment(c, "mt-1", a.design, flipped, a.salt)
    swapped = a.sequence[2:4] + a.sequence[0:2] + a.sequence[4:]
    if swapped != a.sequence:
        assert not alloc.verify_commitment(c, "mt-1", a.design, swapped, a.salt)
    other_salt = ("0" if a.salt[0] != "0" else "1") + a.salt[1:]
    assert not alloc.verify_commitment(c, "mt-1", a.design, a.sequence, other_salt)
    assert not alloc.verify_commitment(c, "mt-2", a.design, a.sequence, a.salt)


def test_commitment_is_plain_sha256_of_documented_json():
    """Anyone can recompute it with any SHA-256 tool from the revealed values."""
    import hashlib

    a = alloc.Allocation(Design.PAIRED, alloc.parse_sequence("ABBA"), "ab" * 32)
    text = (
        '{"design":"paired","salt":"' + "ab" * 32 + '","sequence":["magnesium","comparator","comparator",'
        '"magnesium"],"trial":"mt-x","v":1}'
    )
    assert alloc.commitment("mt-x", a) == hashlib.sha256(text.encode()).hexdigest()


def test_unpredictable_next_period_given_the_past():
    """Knowing cycles 1-3 tells nothing about cycle 4 in a paired design: ~50/50 over many draws."""
    firsts = [alloc.draw_allocation(Design.PAIRED, 4).sequence[6] is Arm.MAGNESIUM for _ in range(4000)]
    share = sum(firsts) / len(firsts)
    assert abs(share - 0.5) < 4 * math.sqrt(0.25 / 4000)
