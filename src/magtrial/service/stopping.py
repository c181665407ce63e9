"""Adaptive stopping: the pharmacist's key evaluates the protocol's rule after each completed cycle.

The server holds no private key, so the rule runs when the (unblinded) pharmacist unlocks the
allocation with theirs (``magtrial stopping check --key``, or the pharmacy page). Each completed cycle
not yet evaluated gets one decision, in order, until one says "complete". What is stored and audited
in clear is only the cycle and "continue" or "complete"; the reason (benefit or futility) and the
probabilities are sealed to the trial's unblinding keys in a fixed-width box. A "complete" decision
also sets the trial's status to ``stopped`` (its diary closes), in the same transaction and event.
Blinded people read ``status``: the same words, whichever way the rule stopped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from magtrial import crypto
from magtrial.core import stopping as core
from magtrial.core.analysis import analyze
from magtrial.core.schedule import build_schedule
from magtrial.errors import Conflict, IntegrityError, ValidationError
from magtrial.service.access import Role, require, trial_for
from magtrial.service.context import Context
from magtrial.service.diary import stored_protocol
from magtrial.service.trials import build_record
from magtrial.service.unblinding import open_allocation
from magtrial.store import audit
from magtrial.store.models import SealedAllocationRow, TrialRow, UnblindingKeyRow
from magtrial.store.stopping_models import StoppingDecisionRow

STOPPED = "stopped"


@dataclass(frozen=True)
class StoppingStatus:
    """What anyone on the trial may see: nothing here depends on why the rule stopped."""

    trial_id: str
    adaptive: bool
    cycles_evaluated: int
    status: core.Status | None  # None: no rule, or no cycle evaluated yet

    @property
    def message(self) -> str:
        if not self.adaptive:
            return "Fixed design: no stopping rule."
        return core.MESSAGES[self.status or core.Status.CONTINUE]

    def to_dict(self) -> dict[str, object]:
        return {
            "trial": self.trial_id,
            "adaptive": self.adaptive,
            "cycles_evaluated": self.cycles_evaluated,
            "status": (self.status or core.Status.CONTINUE).value if self.adaptive else None,
            "message": self.message,
        }


def status(ctx: Context, trial_id: str) -> StoppingStatus:
    with ctx.db.reader() as s:
        row = trial_for(s, ctx.actor, trial_id)
        return _status(s, row)


def evaluate(ctx: Context, trial_id: str, key: crypto.UnlockedKey) -> StoppingStatus:
    """Evaluate the rule for every completed cycle not yet evaluated; the pharmacist's key opens the allocation."""
    require(ctx.actor, Role.PHARMACIST, to="evaluate the stopping rule (it opens the allocation)")
    now = ctx.clock()
    with ctx.db.transaction() as s:
        row = trial_for(s, ctx.actor, trial_id, lock=True)
        protocol = stored_protocol(row.protocol)
        rule = protocol.stopping
        if rule is None:
            raise ValidationError(f"trial {trial_id} has a fixed design: its protocol has no stopping rule")
        current = _status(s, row)
        if current.status is core.Status.COMPLETE:
            return current
        if row.status != "active":
            raise Conflict(f"trial {trial_id} is {row.status}; the stopping rule is no longer evaluated")
        today = protocol.local_date(now)
        ends = _cycle_ends(row)
        todo = [c for c in range(current.cycles_evaluated + 1, protocol.cycles) if ends[c] < today]
        if not todo:
            return current
        allocation = open_allocation(s, row, key)
        ctx.audit(
            s,
            "allocation.view",
            "trial",
            trial_id,
            trial_id,
            new={"purpose": "evaluate the stopping rule", "key": key.fingerprint},
        )
        recipients = _recipients(s, row)
        full = build_record(s, row, allocation)
        for cycle in todo:
            rec = dataclasses.replace(full, versions=tuple(v for v in full.versions if v.day <= ends[cycle]))
            decision = _decide(rule, rec, cycle)
            sealed = crypto.seal(core.sealed_payload(trial_id, decision), recipients)
            s.add(
                StoppingDecisionRow(
                    trial_id=trial_id,
                    cycle=cycle,
                    status=decision.status.value,
                    sealed=sealed,
                    decided_at=now,
                    decided_by=ctx.actor.name,
                )
            )
            new = {"cycle": cycle, "status": decision.status.value, "sealed_sha256": audit.sha256_text(sealed)}
            if decision.status is core.Status.COMPLETE:
                row.status = STOPPED
                new["trial_status"] = STOPPED
            ctx.audit(s, "stopping.decision", "stopping", f"{trial_id}#c{cycle}", trial_id, new=new)
            if decision.status is core.Status.COMPLETE:
                break
        s.flush()
        return _status(s, row)


def _decide(rule: core.StoppingRule, rec, cycle: int) -> core.Decision:
    """The rule on the diary up to the end of ``cycle``; too little diary to analyse means continue."""
    try:
        result = analyze(rec)
    except ValidationError:
        return core.Decision(cycle, core.Outcome.CONTINUE, 0.0, 0.0)
    return core.evaluate(rule, result.posterior.cdf, cycle)


def _status(s: Session, row: TrialRow) -> StoppingStatus:
    protocol = stored_protocol(row.protocol)
    rows = s.execute(
        select(StoppingDecisionRow.cycle, StoppingDecisionRow.status)
        .where(StoppingDecisionRow.trial_id == row.id)
        .order_by(StoppingDecisionRow.cycle)
    ).all()
    last = core.Status(rows[-1].status) if rows else None
    return StoppingStatus(row.id, protocol.stopping is not None, rows[-1].cycle if rows else 0, last)


def _cycle_ends(row: TrialRow) -> dict[int, dt.date]:
    schedule = build_schedule(stored_protocol(row.protocol), row.start_date)
    ends: dict[int, dt.date] = {}
    for p in schedule.periods:
        ends[p.cycle] = max(p.end, ends.get(p.cycle, p.end))
    return ends


def _recipients(s: Session, row: TrialRow) -> list[crypto.PublicKeyInfo]:
    """The keys the allocation is sealed to: the reason is sealed to exactly those."""
    sealed = s.get(SealedAllocationRow, row.id)
    if sealed is None or sealed.sealed is None:
        raise IntegrityError(f"trial {row.id} has no sealed allocation to seal the stopping reason to")
    out = []
    for fp in crypto.recipients_of(sealed.sealed):
        key = s.get(UnblindingKeyRow, fp)
        if key is None:
            raise IntegrityError(f"the key {crypto.short(fp)} that {row.id} is sealed to is not registered")
        out.append(crypto.PublicKeyInfo(key.purpose, key.owner, key.public_key, key.fingerprint))
    return out


def open_reasons(ctx: Context, trial_id: str, key: crypto.UnlockedKey) -> list[dict[str, object]]:
    """The sealed reasons, opened with an unblinding key: for the pharmacist, or anyone once unblinded (audited)."""
    with ctx.db.transaction() as s:
        row = trial_for(s, ctx.actor, trial_id)
        if ctx.actor.role is not Role.PHARMACIST and row.status != "unblinded":
            raise Conflict(f"trial {trial_id} is not unblinded; the stopping reasons stay sealed until then")
        rows = s.execute(
            select(StoppingDecisionRow)
            .where(StoppingDecisionRow.trial_id == trial_id)
            .order_by(StoppingDecisionRow.cycle)
        ).scalars()
        out = [json.loads(crypto.open_sealed(r.sealed, key, f"the stopping decision of {trial_id}")) for r in rows]
        ctx.audit(
            s,
            "stopping.open",
            "trial",
            trial_id,
            trial_id,
            new={"key": key.fingerprint, "decisions": len(out)},
        )
    return [
        {
            "cycle": int(d["cycle"]),
            "reason": str(d["reason"]).strip(),
            "p_benefit": float(d["p_benefit"]),
            "p_futility": float(d["p_futility"]),
        }
        for d in out
    ]
