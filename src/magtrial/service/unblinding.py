"""Opening the sealed allocation: the pharmacist's pack list and interim view, and unblinding.

Each needs a private unblinding key (``crypto.unlock``) and writes an audit event in the same
transaction that opens the box. Unblinding is the only time sequence and salt are written to the
database in clear, and only after they hash to the commitment published at creation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.orm import Session

from magtrial import crypto
from magtrial.core import allocation as alloc
from magtrial.core.protocol import Design
from magtrial.core.record import TrialRecord
from magtrial.errors import Conflict, IntegrityError, ValidationError
from magtrial.service import allocation_parts
from magtrial.service.access import Role, require, trial_for
from magtrial.service.context import Context
from magtrial.service.diary import stored_protocol
from magtrial.service.trials import UNBLINDED, build_record, revealed_allocation, schedule_end
from magtrial.store import summaries
from magtrial.store.models import SealedAllocationRow, TrialRow


@dataclass(frozen=True)
class CommitmentCheck:
    trial_id: str
    commitment: str
    revealed: bool
    ok: bool | None  # None while sealed
    sequence: str = ""
    salt: str = ""


def open_allocation(s: Session, row: TrialRow, key: crypto.UnlockedKey | None) -> alloc.Allocation:
    """Decrypt the trial's allocation with ``key`` and check it against the published commitment."""
    sealed = s.get(SealedAllocationRow, row.id)
    if sealed is None:
        raise IntegrityError(f"trial {row.id} has no sealed allocation")
    if sealed.sealed is None:  # created before encryption (schema 0001): kept in clear
        sequence, salt = (sealed.legacy_sequence or "").split(","), sealed.legacy_salt or ""
    else:
        if key is None:
            raise ValidationError(f"opening the allocation of {row.id} needs an unblinding key (--key FILE)")
        payload = json.loads(crypto.open_sealed(sealed.sealed, key, row.id))
        if payload.get("trial") != row.id:
            raise IntegrityError(f"the sealed allocation stored for {row.id} belongs to {payload.get('trial')!r}")
        sequence, salt = payload["sequence"], payload["salt"]
    if not alloc.verify_commitment(row.commitment, row.id, sealed.design, sequence, salt):
        raise IntegrityError(f"the allocation of {row.id} does not match its published commitment (altered?)")
    base = alloc.Allocation(Design(sealed.design), alloc.parse_sequence(sequence), salt)
    return alloc.combine(base, allocation_parts.open_parts(s, row.id, sealed.design, key))  # cycles amendments added


def pharmacist_record(ctx: Context, trial_id: str, key: crypto.UnlockedKey, purpose: str) -> TrialRecord:
    """The unblinded pharmacist's view of a running trial (arms included), audited with its purpose."""
    require(ctx.actor, Role.PHARMACIST, to="open the allocation before unblinding")
    with ctx.db.transaction() as s:
        row = trial_for(s, ctx.actor, trial_id)
        allocation = revealed_allocation(row, s.get(SealedAllocationRow, trial_id)) or open_allocation(s, row, key)
        ctx.audit(
            s,
            "allocation.view",
            "trial",
            trial_id,
            trial_id,
            new={"purpose": purpose, "key": key.fingerprint},
            reveals_allocation=False,
        )
        return build_record(s, row, allocation)


def packs(ctx: Context, trial_id: str, key: crypto.UnlockedKey) -> list[tuple[int, str]]:
    """The pharmacist's pack list: pack number to contents, to prepare identical-looking packs."""
    rec = pharmacist_record(ctx, trial_id, key, "prepare packs")
    assert rec.allocation is not None
    return [(p.number, rec.allocation.arm_of_period(p.number).value) for p in rec.schedule.periods]


def unblind(ctx: Context, trial_id: str, key: crypto.UnlockedKey | None, reason: str = "") -> alloc.Allocation:
    """Open the allocation with an unblinding key, verify it, reveal it (audited); early needs a reason.

    The effect summary for pooling is computed in the same transaction, so a trial is never
    unblinded without it (or with a summary of another state of the diary).
    """
    require(ctx.actor, Role.CLINICIAN, Role.PHARMACIST, to="unblind a trial")
    now = ctx.clock()
    with ctx.db.transaction() as s:
        row = trial_for(s, ctx.actor, trial_id, lock=True)  # diary writes wait, or are refused after us
        if row.status == UNBLINDED:
            raise Conflict(f"trial {trial_id} is already unblinded")
        end = schedule_end(row)
        early = stored_protocol(row.protocol).local_date(now) <= end
        if early and not reason.strip():
            raise ValidationError(f"the trial runs until {end.isoformat()}; unblinding early needs a reason")
        allocation = open_allocation(s, row, key)
        sealed = s.get_one(SealedAllocationRow, trial_id)  # there is one: open_allocation read it
        names = [a.value for a in allocation.base_sequence]
        sealed.revealed_sequence, sealed.revealed_salt = ",".join(names), allocation.salt
        added = allocation_parts.reveal(s, trial_id, allocation.added)
        sealed.legacy_sequence = sealed.legacy_salt = None
        row.status, row.unblinded_at = UNBLINDED, now
        ctx.audit(
            s,
            "trial.unblind",
            "trial",
            trial_id,
            trial_id,
            old={"status": "active"},
            new={
                "status": UNBLINDED,
                "early": early,
                "sequence": names,
                "salt": allocation.salt,
                "key": key.fingerprint if key else None,
                **({"added": added} if added else {}),
            },
            reason=reason.strip(),
            reveals_allocation=True,
        )
        s.flush()
        _summarize(ctx, build_record(s, row, allocation), s)
    return allocation


def _summarize(ctx: Context, rec: TrialRecord, s: Session, outcome: str = "average_pain") -> bool:
    """Cache the trial's effect likelihood for pooling; False when the diary is too short to analyse."""
    from magtrial.core.analysis import analyze
    from magtrial.data.safety import elemental_dose

    try:
        result = analyze(rec, outcome)
    except ValidationError:
        return False
    product = rec.protocol.product
    summaries.save_summary(
        s,
        trial_id=rec.trial_id,
        outcome=outcome,
        method=result.model["name"],
        likelihood=result.effect_likelihood(),
        n_days=int(result.effect.n_days),
        condition=rec.protocol.condition.value,
        route=product.route.value,
        salt=product.salt,
        elemental_mg_per_day=elemental_dose(product)[0],
        at=ctx.clock(),
    )
    return True


def verify_commitment(ctx: Context, trial_id: str) -> CommitmentCheck:
    """Recompute the hash from the revealed sequence and salt; a blinded trial shows only its commitment."""
    with ctx.db.reader() as s:
        row = trial_for(s, ctx.actor, trial_id)
        allocation = revealed_allocation(row, s.get(SealedAllocationRow, trial_id))
        if allocation is not None:
            allocation = alloc.combine(allocation, allocation_parts.revealed_parts(s, trial_id) or [])
    if allocation is None:
        return CommitmentCheck(trial_id, row.commitment, revealed=False, ok=None)
    ok = alloc.verify_all(row.commitment, trial_id, allocation)  # the original draw and every added part
    return CommitmentCheck(trial_id, row.commitment, True, ok, allocation.letters, allocation.salt)
