"""Trial service: create (safety-checked), read as the actor may see, unblind, verify; each audited."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from magtrial.core import allocation as alloc
from magtrial.core.protocol import Design, Protocol
from magtrial.core.record import TrialRecord
from magtrial.core.schedule import DayPlan, build_schedule
from magtrial.errors import Conflict, ValidationError
from magtrial.service.access import Role, may_see_allocation, require
from magtrial.service.base import zone_of
from magtrial.service.diary import DiaryService
from magtrial.service.safety import check_for_trial
from magtrial.store import audit, summaries
from magtrial.store.models import SealedAllocationRow, TrialRow


@dataclass(frozen=True)
class CommitmentCheck:
    trial_id: str
    commitment: str
    revealed: bool
    ok: bool | None  # None while sealed
    sequence: str = ""
    salt: str = ""


class TrialService(DiaryService):
    """Trials: creation with the safety check, reading as the actor may see, unblinding, verification."""

    # -- creation and reading -------------------------------------------------------------
    def create_trial(
        self,
        protocol: Protocol,
        participant: str,
        safety_profile: dict[str, Any] | None,
        start_date: dt.date | None = None,
        clinician_ack: bool = False,
    ) -> TrialRecord:
        """Safety-check the regimen, draw and seal the allocation, publish its commitment, audit it all.

        A blocked regimen raises ``SafetyBlocked``; "needs clinician" findings need ``clinician_ack``
        from the clinician creating the trial, recorded as its own audit event.
        """
        require(self.actor, Role.CLINICIAN, to="create a trial")
        if not participant.strip() or len(participant) > 100:
            raise ValidationError("participant pseudonym must be 1-100 characters")
        checked = check_for_trial(protocol, safety_profile, acknowledged=clinician_ack)
        safety, flags = checked.stored, checked.flags
        start = start_date or protocol.start_date or self.clock().astimezone(zone_of(protocol)).date()
        protocol = protocol.with_changes(start_date=start)
        trial_id = f"mt-{secrets.token_hex(4)}"
        allocation = alloc.draw_allocation(protocol.design, protocol.cycles)
        commitment = alloc.commitment(trial_id, allocation)
        now = self.clock()
        protocol_json = json.dumps(protocol.to_dict(), sort_keys=True)
        with self.db.transaction() as s:
            s.add(
                TrialRow(
                    id=trial_id,
                    participant=participant.strip(),
                    protocol=protocol_json,
                    start_date=start,
                    status="active",
                    commitment=commitment,
                    created_at=now,
                    created_by=self.actor.name,
                    flags=json.dumps(list(flags)),
                    safety=json.dumps(safety),
                )
            )
            s.flush()
            s.add(
                SealedAllocationRow(
                    trial_id=trial_id,
                    design=allocation.design.value,
                    sequence=",".join(a.value for a in allocation.sequence),
                    salt=allocation.salt,
                )
            )
            self._audit(
                s,
                "trial.create",
                "trial",
                trial_id,
                trial_id,
                new={
                    "participant": participant.strip(),
                    "protocol": protocol.to_dict(),
                    "commitment": commitment,
                    "safety": safety,
                },
            )
            if checked.acknowledged:
                needing = [f for f in safety["findings"] if f["level"] == "needs-clinician"]
                self._audit(
                    s,
                    "safety.acknowledge",
                    "trial",
                    trial_id,
                    trial_id,
                    new={"findings": needing},
                    reason="clinician reviewed the safety findings and agreed the trial may start",
                )
        return self.record(trial_id)

    def record(self, trial_id: str) -> TrialRecord:
        """The trial as this actor may see it: arms only once unblinded (or for the pharmacist)."""
        with self.db.reader() as s:
            row = self._trial(s, trial_id)
            sealed = s.get(SealedAllocationRow, trial_id)
            versions = self._versions(s, trial_id)
        sequence = alloc.parse_sequence(sealed.sequence.split(","))
        allocation = None
        if may_see_allocation(self.actor, row.status):
            allocation = alloc.Allocation(Design(sealed.design), sequence, sealed.salt)
        return TrialRecord(
            trial_id=row.id,
            participant=row.participant,
            protocol=Protocol.from_dict(json.loads(row.protocol)),
            start_date=row.start_date,
            commitment=row.commitment,
            created_at=row.created_at,
            status=row.status,
            versions=tuple(versions),
            allocation=allocation,
            pack_sets=alloc.pack_sets(sequence),
            unblinded_at=row.unblinded_at,
            flags=tuple(json.loads(row.flags)),
            extra={"safety": json.loads(row.safety) if row.safety else None},
        )

    def list_trials(self) -> list[dict[str, Any]]:
        with self.db.reader() as s:
            rows = s.execute(select(TrialRow).order_by(TrialRow.created_at)).scalars().all()
            return [
                {
                    "id": r.id,
                    "participant": r.participant,
                    "status": r.status,
                    "start": r.start_date,
                    "flags": len(json.loads(r.flags)),
                }
                for r in rows
            ]

    def today(self, trial_id: str, date: dt.date | None = None) -> DayPlan:
        rec = self.record(trial_id)
        date = date or self.clock().astimezone(zone_of(rec.protocol)).date()
        return rec.schedule.day(date)

    # -- unblinding and verification --------------------------------------------------------
    def unblind(self, trial_id: str, reason: str = "") -> alloc.Allocation:
        """Reveal sequence and salt (audited); early unblinding needs a reason and is recorded as such."""
        require(self.actor, Role.CLINICIAN, Role.PHARMACIST, to="unblind a trial")
        now = self.clock()
        with self.db.transaction() as s:
            row = self._trial(s, trial_id)
            if row.status == "unblinded":
                raise Conflict(f"trial {trial_id} is already unblinded")
            protocol = Protocol.from_dict(json.loads(row.protocol))
            end = build_schedule(protocol, row.start_date).end
            early = now.astimezone(zone_of(protocol)).date() <= end
            if early and not reason.strip():
                raise ValidationError(f"the trial runs until {end.isoformat()}; unblinding early needs a reason")
            sealed = s.get(SealedAllocationRow, trial_id)
            row.status, row.unblinded_at = "unblinded", now
            self._audit(
                s,
                "trial.unblind",
                "trial",
                trial_id,
                trial_id,
                old={"status": "active"},
                new={
                    "status": "unblinded",
                    "early": early,
                    "sequence": sealed.sequence.split(","),
                    "salt": sealed.salt,
                },
                reason=reason.strip(),
                reveals_allocation=True,
            )
        self.summarize(trial_id)  # cache the effect likelihood so pooling never re-reads the diary
        return alloc.Allocation(Design(sealed.design), alloc.parse_sequence(sealed.sequence.split(",")), sealed.salt)

    def summarize(self, trial_id: str, outcome: str = "average_pain") -> bool:
        """Cache the trial's effect likelihood for pooling (unblinded trials only); False if too little data."""
        from magtrial.core.analysis import analyze
        from magtrial.data.safety import elemental_dose

        rec = self.record(trial_id)
        if rec.status != "unblinded":
            raise Conflict(f"trial {trial_id} is still blinded; it cannot be summarized for pooling")
        try:
            result = analyze(rec, outcome)
        except ValidationError:
            return False
        product = rec.protocol.product
        with self.db.transaction() as s:
            summaries.save_summary(
                s,
                trial_id=trial_id,
                outcome=outcome,
                method=result.model["name"],
                likelihood=result.effect_likelihood(),
                n_days=int(result.effect.n_days),
                condition=rec.protocol.condition.value,
                route=product.route.value,
                salt=product.salt,
                elemental_mg_per_day=elemental_dose(product)[0],
                at=self.clock(),
            )
        return True

    def amend_protocol(self, trial_id: str, changes: dict[str, Any], reason: str) -> Protocol:
        """Change a protocol with a reason, old and new values audited.

        Design and cycles never change (the sealed allocation depends on them). Once the trial has
        started only settings that leave the calendar alone may change.
        """
        require(self.actor, Role.CLINICIAN, to="amend a protocol")
        if not reason.strip():
            raise ValidationError("a protocol amendment needs a reason")
        frozen = {"design", "cycles", "product", "comparator", "blinding", "condition"} & set(changes)
        if frozen:
            raise ValidationError(f"{', '.join(sorted(frozen))} cannot change once a trial exists; create a new trial")
        with self.db.transaction() as s:
            row = self._trial(s, trial_id)
            if row.status != "active":
                raise Conflict(f"trial {trial_id} is {row.status}; its protocol is locked")
            old = Protocol.from_dict(json.loads(row.protocol))
            started = self.clock().astimezone(zone_of(old)).date() >= row.start_date
            calendar = {"run_in_days", "period_days", "washout_days", "start_date"} & set(changes)
            if started and calendar:
                raise ValidationError(f"{', '.join(sorted(calendar))} cannot change after the trial has started")
            new = Protocol.from_dict({**old.to_dict(), **changes})
            row.protocol = json.dumps(new.to_dict(), sort_keys=True)
            if new.start_date and new.start_date != row.start_date:
                row.start_date = new.start_date
            before, after = old.to_dict(), new.to_dict()
            diff_keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
            self._audit(
                s,
                "protocol.amend",
                "protocol",
                trial_id,
                trial_id,
                old={k: before.get(k) for k in diff_keys},
                new={k: after.get(k) for k in diff_keys},
                reason=reason.strip(),
            )
        return new

    def verify_commitment(self, trial_id: str) -> CommitmentCheck:
        """Recompute the hash from the stored sequence and salt; sealed trials show only the commitment."""
        with self.db.reader() as s:
            row = self._trial(s, trial_id)
            sealed = s.get(SealedAllocationRow, trial_id)
        if not may_see_allocation(self.actor, row.status):
            return CommitmentCheck(trial_id, row.commitment, revealed=False, ok=None)
        sequence = sealed.sequence.split(",")
        ok = alloc.verify_commitment(row.commitment, trial_id, sealed.design, sequence, sealed.salt)
        letters = alloc.Allocation(Design(sealed.design), alloc.parse_sequence(sequence), sealed.salt).letters
        return CommitmentCheck(trial_id, row.commitment, True, ok, letters, sealed.salt)

    def packs(self, trial_id: str) -> list[tuple[int, str]]:
        """The pharmacist's pack list: pack number to arm, to prepare identical-looking packs."""
        require(self.actor, Role.PHARMACIST, to="see the pack-to-arm list")
        rec = self.record(trial_id)
        assert rec.allocation is not None
        with self.db.transaction() as s:
            self._audit(s, "allocation.view", "trial", trial_id, trial_id, new={"purpose": "prepare packs"})
        return [(p.number, rec.allocation.arm_of_period(p.number).value) for p in rec.schedule.periods]

    def verify_audit(self) -> audit.ChainCheck:
        with self.db.reader() as s:
            return audit.verify_chain(s)

    def audit_trail(self, trial_id: str) -> list[audit.AuditView]:
        with self.db.reader() as s:
            row = self._trial(s, trial_id)
            return audit.view_events(s, trial_id, may_see_allocation(self.actor, row.status))

    def add_flag(self, trial_id: str, flag: str) -> None:
        """Raise a flag for the clinician (e.g. a stop-and-seek-care symptom); kept until reviewed."""
        with self.db.transaction() as s:
            row = self._trial(s, trial_id)
            flags = json.loads(row.flags)
            if flag in flags:
                return
            row.flags = json.dumps([*flags, flag])
            self._audit(s, "trial.flag", "trial", trial_id, trial_id, old=flags, new=[*flags, flag])
