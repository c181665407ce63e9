"""Realistic ``TrialRecord``s for tests and benchmarks, built from the simulator.

Tests of reports, exports and analysis need a record that looks like a real diary (missing days,
partial doses, corrections, a void) without a database. ``make_record`` simulates one with a fixed
seed, so the same arguments always give the same record, and the allocation only reaches the
record when ``blinded=False``: a blinded record carries nothing that depends on it but the
commitment. ``allocate`` attaches any sequence to an existing record's diary, so a test can run the
same diary through every sequence ``possible_sequences(design, cycles)`` allows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np

from magtrial.core.allocation import Allocation, Arm, commitment, parse_sequence
from magtrial.core.diary import DiaryValues, DiaryVersion, VersionKind
from magtrial.core.protocol import Condition, Design, Product, Protocol
from magtrial.core.record import TrialRecord
from magtrial.core.schedule import build_schedule
from magtrial.core.sim import Participant, simulate_diary

START = dt.date(2026, 1, 5)
CREATED = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)
DEFAULT_SALT = "5a" * 32
AUDIT_HEAD = "1234:" + "ab" * 32  # a well-formed "SEQ:HASH" for tests that render the audit head


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


def _sequence(sequence: tuple[Arm, ...] | str) -> tuple[Arm, ...]:
    return parse_sequence(sequence) if isinstance(sequence, str) else tuple(sequence)


def allocate(
    record: TrialRecord,
    sequence: tuple[Arm, ...] | str,
    *,
    blinded: bool = True,
    salt: str = DEFAULT_SALT,
    commitment_override: str | None = None,
) -> TrialRecord:
    """The same diary under the given allocation: its commitment, and the arms only when unblinded.

    Blinded, the record is what a blinded viewer gets (status "active", no allocation); unblinded,
    it carries the allocation and is stamped unblinded two days after the last period.
    """
    p = record.protocol
    allocation = Allocation(design=p.design, sequence=_sequence(sequence), salt=salt)
    end = record.schedule.end
    return dataclasses.replace(
        record,
        commitment=commitment_override or commitment(record.trial_id, allocation),
        status="active" if blinded else "unblinded",
        allocation=None if blinded else allocation,
        unblinded_at=None if blinded else dt.datetime.combine(end + dt.timedelta(days=2), dt.time(10), tzinfo=dt.UTC),
    )


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
    effect: float = -1.0,
    corrections: bool = True,
    timezone: str = "Europe/London",
    trial_id: str = "T-0001",
    participant: str = "P-7F3K",
    product: Product | None = None,
    commitment_override: str | None = None,
    audit_head: str = "",
    simulated: bool = False,
) -> TrialRecord:
    """One simulated trial record.

    ``sequence`` is the allocation the diary is simulated under (drawn from ``seed`` when omitted);
    to put the same diary under another allocation use ``allocate``. ``corrections`` adds a
    correction with a reason and a void, so exports must carry the version history.
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
    seq = seeded_sequence(design, cycles, rng) if sequence is None else _sequence(sequence)
    salt = f"{seed:064x}"
    schedule = build_schedule(protocol, START)
    diary_alloc = Allocation(design=design, sequence=seq, salt=salt)
    days = simulate_diary(schedule, diary_alloc, Participant(effect=effect), np.random.default_rng(seed + 1))
    versions = list(_versions(days, timezone))
    if corrections:
        versions.extend(_corrections(versions))
    diary_only = TrialRecord(
        trial_id=trial_id,
        participant=participant,
        protocol=protocol,
        start_date=START,
        commitment="",
        created_at=CREATED,
        status="active",
        versions=tuple(versions),
        audit_head=audit_head,
        simulated=simulated,
    )
    return allocate(diary_only, seq, blinded=blinded, salt=salt, commitment_override=commitment_override)


def _versions(days, timezone: str):
    for i, day in enumerate(days):
        if day.values is None:
            continue
        recorded = dt.datetime.combine(day.date, dt.time(20, 30), tzinfo=dt.UTC) + dt.timedelta(minutes=i % 50)
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


__all__ = ["AUDIT_HEAD", "START", "allocate", "make_protocol", "make_record", "seeded_sequence"]
