"""Realistic ``TrialRecord``s for tests and benchmarks, built from the simulator.

Tests of reports, exports and analysis need a record that looks like a real diary (missing days,
partial doses, corrections, a void) without a database. ``make_record`` simulates one with a fixed
seed, so the same arguments always give the same record, and the allocation only reaches the
record when ``blinded=False``: a blinded record carries pack sets, never arms.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from magtrial.core.allocation import Allocation, Arm, commitment, pack_sets, parse_sequence
from magtrial.core.diary import DiaryValues, DiaryVersion, VersionKind
from magtrial.core.protocol import Condition, Design, Product, Protocol
from magtrial.core.record import TrialRecord
from magtrial.core.schedule import build_schedule
from magtrial.core.sim import Participant, simulate_diary

START = dt.date(2026, 1, 5)
CREATED = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)


def make_protocol(
    *,
    cycles: int = 4,
    period_days: int = 14,
    run_in_days: int = 7,
    washout_days: int = 0,
    design: Design = Design.PAIRED,
    timezone: str = "Europe/London",
    product: Product | None = None,
) -> Protocol:
    product = product or Product(
        name="Magnesium glycinate 100 mg",
        salt="glycinate",
        units_per_day=2,
        elemental_mg_per_unit=100,
        doses_per_day=2,
    )
    return Protocol(
        condition=Condition.DIABETIC_NEUROPATHY,
        product=product,
        design=design,
        cycles=cycles,
        period_days=period_days,
        run_in_days=run_in_days,
        washout_days=washout_days,
        timezone=timezone,
        start_date=START,
    )


def seeded_sequence(design: Design, cycles: int, rng: np.random.Generator) -> tuple[Arm, ...]:
    """A reproducible draw from the design's randomization set (tests only; production uses secrets)."""
    ab, ba = (Arm.MAGNESIUM, Arm.COMPARATOR), (Arm.COMPARATOR, Arm.MAGNESIUM)
    if design is Design.PAIRED:
        return tuple(arm for _ in range(cycles) for arm in (ab if rng.random() < 0.5 else ba))
    first, second = (ab, ba) if rng.random() < 0.5 else (ba, ab)
    return tuple(arm for i in range(cycles) for arm in (first if i % 2 == 0 else second))


def mirror(sequence: tuple[Arm, ...] | str) -> tuple[Arm, ...]:
    """The same pack sets with the arms swapped: what a blinded view must not be able to tell apart."""
    seq = parse_sequence(sequence) if isinstance(sequence, str) else sequence
    return tuple(Arm.COMPARATOR if a is Arm.MAGNESIUM else Arm.MAGNESIUM for a in seq)


def make_record(
    blinded: bool = True,
    seed: int = 0,
    *,
    cycles: int = 4,
    period_days: int = 14,
    run_in_days: int = 7,
    washout_days: int = 0,
    design: Design = Design.PAIRED,
    sequence: tuple[Arm, ...] | str | None = None,
    diary_sequence: tuple[Arm, ...] | str | None = None,
    effect: float = -1.0,
    corrections: bool = True,
    timezone: str = "Europe/London",
    trial_id: str = "T-0001",
    participant: str = "P-7F3K",
    product: Product | None = None,
    commitment_override: str | None = None,
) -> TrialRecord:
    """One simulated trial record.

    ``sequence`` is the allocation (drawn from ``seed`` when omitted); ``diary_sequence`` lets a
    test keep the diary simulated under one allocation while the record claims another (to show a
    blinded view does not depend on the allocation). ``corrections`` adds a correction with a reason
    and a void, so exports must carry the version history.
    """
    protocol = make_protocol(
        cycles=cycles,
        period_days=period_days,
        run_in_days=run_in_days,
        washout_days=washout_days,
        design=design,
        timezone=timezone,
        product=product,
    )
    rng = np.random.default_rng(seed)
    if sequence is None:
        seq = seeded_sequence(design, cycles, rng)
    else:
        seq = parse_sequence(sequence) if isinstance(sequence, str) else tuple(sequence)
    diary_seq = (
        seq
        if diary_sequence is None
        else (parse_sequence(diary_sequence) if isinstance(diary_sequence, str) else tuple(diary_sequence))
    )
    allocation = Allocation(design=design, sequence=seq, salt=f"{seed:064x}")
    diary_alloc = Allocation(design=design, sequence=diary_seq, salt=allocation.salt)
    schedule = build_schedule(protocol, START)
    days = simulate_diary(schedule, diary_alloc, Participant(effect=effect), np.random.default_rng(seed + 1))
    versions = list(_versions(days, timezone))
    if corrections:
        versions.extend(_corrections(versions))
    unblinded_at = (
        None
        if blinded
        else dt.datetime.combine(schedule.end + dt.timedelta(days=2), dt.time(10), tzinfo=dt.UTC)
    )
    return TrialRecord(
        trial_id=trial_id,
        participant=participant,
        protocol=protocol,
        start_date=START,
        commitment=commitment_override or commitment(trial_id, allocation),
        created_at=CREATED,
        status="active" if blinded else "unblinded",
        versions=tuple(versions),
        allocation=None if blinded else allocation,
        pack_sets=pack_sets(seq),
        unblinded_at=unblinded_at,
    )


def _versions(days, timezone: str):
    for i, day in enumerate(days):
        if day.values is None:
            continue
        recorded = dt.datetime.combine(day.date, dt.time(20, 30), tzinfo=dt.UTC) + dt.timedelta(
            minutes=i % 50
        )
        yield DiaryVersion(
            day=day.date,
            version=1,
            kind=VersionKind.ORIGINAL,
            values=day.values,
            recorded_at=recorded,
            recorded_by="participant",
        )


def _corrections(originals: list[DiaryVersion]) -> list[DiaryVersion]:
    """A correction on the 10th entry and a void of the 20th: the history exports must keep."""
    extra: list[DiaryVersion] = []
    if len(originals) > 10:
        v = originals[10]
        assert v.values is not None
        fixed = DiaryValues.from_dict(
            {
                **v.values.as_dict(),
                "average_pain": max(0, v.values.average_pain - 1),
                "note": "typed the wrong number",
            }
        )
        extra.append(
            DiaryVersion(
                day=v.day,
                version=2,
                kind=VersionKind.CORRECTION,
                values=fixed,
                recorded_at=v.recorded_at + dt.timedelta(hours=20),
                recorded_by="participant",
                reason="typo: meant one lower",
            )
        )
    if len(originals) > 20:
        v = originals[20]
        extra.append(
            DiaryVersion(
                day=v.day,
                version=2,
                kind=VersionKind.VOID,
                values=None,
                recorded_at=v.recorded_at + dt.timedelta(hours=3),
                recorded_by="participant",
                reason="entered for the wrong day",
            )
        )
    return extra


__all__ = ["make_record", "make_protocol", "mirror", "seeded_sequence", "START"]
