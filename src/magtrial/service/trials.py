"""Trial service: create, read, diary versions, unblinding and verification, each audited."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from magtrial.core import allocation as alloc
from magtrial.core.diary import DiaryValues, DiaryVersion, VersionKind, check_day, is_late, next_version
from magtrial.core.protocol import Design, Protocol
from magtrial.core.record import TrialRecord
from magtrial.core.schedule import DayPlan, build_schedule
from magtrial.errors import Conflict, NotFound, ValidationError
from magtrial.service.access import Actor, Role, may_see_allocation, require
from magtrial.service.safety import check_for_trial
from magtrial.store import audit, summaries
from magtrial.store.db import Database
from magtrial.store.models import DiaryVersionRow, SealedAllocationRow, TrialRow

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class CommitmentCheck:
    trial_id: str
    commitment: str
    revealed: bool
    ok: bool | None  # None while sealed
    sequence: str = ""
    salt: str = ""


class TrialService:
    def __init__(self, db: Database, actor: Actor, clock: Clock = utcnow) -> None:
        self.db = db
        self.actor = actor
        self.clock = clock

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
        start = start_date or protocol.start_date or self.clock().astimezone(_zone(protocol)).date()
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
        date = date or self.clock().astimezone(_zone(rec.protocol)).date()
        return rec.schedule.day(date)

    # -- diary ------------------------------------------------------------------------------
    def add_entry(self, trial_id: str, day: dt.date, values: DiaryValues) -> DiaryVersion:
        return self._write_version(trial_id, day, VersionKind.ORIGINAL, values, "")

    def correct_entry(self, trial_id: str, day: dt.date, values: DiaryValues, reason: str) -> DiaryVersion:
        return self._write_version(trial_id, day, VersionKind.CORRECTION, values, reason)

    def void_entry(self, trial_id: str, day: dt.date, reason: str) -> DiaryVersion:
        return self._write_version(trial_id, day, VersionKind.VOID, None, reason)

    def _write_version(
        self, trial_id: str, day: dt.date, kind: VersionKind, values: DiaryValues | None, reason: str
    ) -> DiaryVersion:
        require(self.actor, Role.PATIENT, Role.CLINICIAN, to="write diary entries")
        now = self.clock()
        with self.db.transaction() as s:
            row = self._trial(s, trial_id)
            if row.status != "active":
                raise Conflict(f"trial {trial_id} is {row.status}; its diary is locked")
            protocol = Protocol.from_dict(json.loads(row.protocol))
            schedule = build_schedule(protocol, row.start_date)
            check_day(day, now, protocol.timezone, schedule.start, schedule.end)
            existing = self._versions(s, trial_id, day)
            number = next_version(existing, day, kind, reason)
            late = is_late(day, now, protocol.timezone, protocol.late_after_hours)
            version = DiaryVersion(
                day=day,
                version=number,
                kind=kind,
                values=values,
                recorded_at=now,
                recorded_by=self.actor.name,
                late=late,
                reason=reason.strip(),
            )
            s.add(
                DiaryVersionRow(
                    trial_id=trial_id,
                    day=day,
                    version=number,
                    kind=kind.value,
                    values=json.dumps(values.as_dict()) if values else None,
                    recorded_at=now,
                    recorded_by=self.actor.name,
                    role=self.actor.role.value,
                    late=late,
                    reason=reason.strip(),
                )
            )
            previous = existing[-1].values.as_dict() if existing and existing[-1].values else None
            self._audit(
                s,
                f"diary.{kind.value}",
                "diary",
                f"{day.isoformat()}#v{number}",
                trial_id,
                old=previous,
                new={"values": values.as_dict() if values else None, "late": late},
                reason=reason.strip(),
            )
        return version

    def versions(self, trial_id: str) -> list[DiaryVersion]:
        with self.db.reader() as s:
            self._trial(s, trial_id)
            return self._versions(s, trial_id)

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
            early = now.astimezone(_zone(protocol)).date() <= end
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
        from magtrial.service.safety import elemental_mg_per_day

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
                elemental_mg_per_day=elemental_mg_per_day(product),
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
            started = self.clock().astimezone(_zone(old)).date() >= row.start_date
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

    # -- helpers ------------------------------------------------------------------------------
    def _audit(
        self,
        s: Session,
        action: str,
        entity: str,
        entity_id: str,
        trial_id: str | None,
        *,
        old: Any = None,
        new: Any = None,
        reason: str = "",
        reveals_allocation: bool = False,
    ) -> None:
        audit.append_event(
            s,
            at=self.clock(),
            actor=self.actor.name,
            role=self.actor.role.value,
            action=action,
            entity=entity,
            entity_id=entity_id,
            trial_id=trial_id,
            old=old,
            new=new,
            reason=reason,
            reveals_allocation=reveals_allocation,
        )

    @staticmethod
    def _trial(s: Session, trial_id: str) -> TrialRow:
        row = s.get(TrialRow, trial_id)
        if row is None:
            raise NotFound(f"no trial {trial_id!r}; `magtrial trial list` shows the trials in this database")
        return row

    @staticmethod
    def _versions(s: Session, trial_id: str, day: dt.date | None = None) -> list[DiaryVersion]:
        query = select(DiaryVersionRow).where(DiaryVersionRow.trial_id == trial_id)
        if day is not None:
            query = query.where(DiaryVersionRow.day == day)
        rows = s.execute(query.order_by(DiaryVersionRow.day, DiaryVersionRow.version)).scalars()
        return [
            DiaryVersion(
                day=r.day,
                version=r.version,
                kind=VersionKind(r.kind),
                values=DiaryValues.from_dict(json.loads(r.values)) if r.values else None,
                recorded_at=_aware(r.recorded_at),
                recorded_by=r.recorded_by,
                late=r.late,
                reason=r.reason,
            )
            for r in rows
        ]


def _zone(protocol: Protocol) -> ZoneInfo:
    return ZoneInfo(protocol.timezone)


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite returns naive datetimes; they were stored as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
