"""Diary versions: add, correct, void; each a new row and an audit event, never an update."""

from __future__ import annotations

import datetime as dt
import json

from magtrial.core.diary import DiaryValues, DiaryVersion, VersionKind, check_day, is_late, next_version
from magtrial.core.protocol import Protocol
from magtrial.core.schedule import build_schedule
from magtrial.errors import Conflict
from magtrial.service.access import Role, require
from magtrial.service.base import ServiceBase
from magtrial.store.models import DiaryVersionRow


class DiaryService(ServiceBase):
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
