"""The sealed orders of cycles added by amendments: sealing, opening, revealing, combining.

The original draw lives in ``sealed_allocations`` and never changes; each amendment that adds
cycles has its own draw, salt and commitment (``amendments`` table), sealed to the same keys as
the original. Opening or revealing a trial's allocation opens every part, checks each against its
own commitment and joins them in period order. Imports no other service, so ``trials`` and
``unblinding`` can use it.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from magtrial import crypto
from magtrial.core import allocation as alloc
from magtrial.core.protocol import Design
from magtrial.errors import IntegrityError
from magtrial.store.amendment_models import AmendmentRow
from magtrial.store.models import SealedAllocationRow, UnblindingKeyRow


def part_key(trial_id: str, number: int) -> str:
    """The id an added part's canonical bytes and commitment are bound to."""
    return f"{trial_id}/amendment-{number}"


def sealed_rows(s: Session, trial_id: str) -> list[AmendmentRow]:
    rows = s.execute(
        select(AmendmentRow)
        .where(AmendmentRow.trial_id == trial_id, AmendmentRow.sealed.is_not(None))
        .order_by(AmendmentRow.number)
    ).scalars()
    return list(rows)


def recipients(s: Session, trial_id: str) -> list[crypto.PublicKeyInfo]:
    """The keys the original allocation was sealed to, so every part opens with the same key files."""
    sealed = s.get(SealedAllocationRow, trial_id)
    if sealed is None or sealed.sealed is None:
        raise IntegrityError(f"trial {trial_id} has no sealed allocation to add cycles to")
    out = []
    for fp in crypto.recipients_of(sealed.sealed):
        row = s.get(UnblindingKeyRow, fp)
        if row is None:
            raise IntegrityError(f"trial {trial_id} is sealed to key {crypto.short(fp)}, which is not registered")
        out.append(crypto.PublicKeyInfo(row.purpose, row.owner, row.public_key, row.fingerprint))
    return out


def seal_part(
    s: Session, trial_id: str, number: int, design: Design, cycles: int, first_period: int
) -> tuple[str, str]:
    """Draw the added cycles' order with ``secrets``, seal it; return (sealed JSON, commitment)."""
    drawn = alloc.draw_allocation(design, cycles)
    key = part_key(trial_id, number)
    commitment = alloc.commitment(key, drawn)
    sealed = crypto.seal(alloc.canonical_bytes(key, design, drawn.sequence, drawn.salt), recipients(s, trial_id))
    del drawn  # only the boxes leave this function
    return sealed, commitment


def open_parts(s: Session, trial_id: str, design: str, key: crypto.UnlockedKey | None) -> list[alloc.AddedAllocation]:
    """Decrypt every added part with ``key`` and check each against its own commitment."""
    out = []
    for row in sealed_rows(s, trial_id):
        if row.revealed_sequence and row.revealed_salt:
            sequence, salt = row.revealed_sequence.split(","), row.revealed_salt
        else:
            if key is None:
                raise IntegrityError(f"amendment {row.number} of {trial_id} is sealed; opening it needs a key")
            payload = json.loads(crypto.open_sealed(row.sealed or "", key, f"amendment {row.number} of {trial_id}"))
            sequence, salt = payload["sequence"], payload["salt"]
            if payload.get("trial") != part_key(trial_id, row.number):
                raise IntegrityError(f"the sealed order of amendment {row.number} of {trial_id} belongs elsewhere")
        out.append(_checked(row, trial_id, design, sequence, salt))
    return out


def revealed_parts(s: Session, trial_id: str) -> list[alloc.AddedAllocation] | None:
    """The parts as revealed at unblinding; None when any part is still sealed."""
    rows = sealed_rows(s, trial_id)
    if any(not (r.revealed_sequence and r.revealed_salt) for r in rows):
        return None
    return [
        alloc.AddedAllocation(
            part_key(trial_id, r.number),
            r.first_added_period or 0,
            alloc.parse_sequence((r.revealed_sequence or "").split(",")),
            r.revealed_salt or "",
            r.commitment or "",
        )
        for r in rows
    ]


def reveal(s: Session, trial_id: str, parts: tuple[alloc.AddedAllocation, ...]) -> list[dict[str, object]]:
    """Write each verified part in clear (at unblinding); returns what the audit event records."""
    rows = {part_key(trial_id, r.number): r for r in sealed_rows(s, trial_id)}
    out = []
    for part in parts:
        row = rows[part.key]
        row.revealed_sequence, row.revealed_salt = ",".join(a.value for a in part.sequence), part.salt
        out.append({"amendment": row.number, "sequence": [a.value for a in part.sequence], "salt": part.salt})
    return out


def _checked(row: AmendmentRow, trial_id: str, design: str, sequence: list[str], salt: str) -> alloc.AddedAllocation:
    key = part_key(trial_id, row.number)
    if not alloc.verify_commitment(row.commitment or "", key, design, sequence, salt):
        raise IntegrityError(f"the order of amendment {row.number} of {trial_id} does not match its commitment")
    return alloc.AddedAllocation(
        key, row.first_added_period or 0, alloc.parse_sequence(sequence), salt, row.commitment or ""
    )
