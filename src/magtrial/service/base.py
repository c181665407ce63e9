"""What every service shares: the database, the acting user, a clock, and audited writes."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from magtrial.core.diary import DiaryValues, DiaryVersion, VersionKind
from magtrial.core.protocol import Protocol
from magtrial.errors import NotFound
from magtrial.service.access import Actor
from magtrial.store import audit
from magtrial.store.db import Database
from magtrial.store.models import DiaryVersionRow, TrialRow

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ServiceBase:
    def __init__(self, db: Database, actor: Actor, clock: Clock = utcnow) -> None:
        self.db = db
        self.actor = actor
        self.clock = clock

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


def zone_of(protocol: Protocol) -> ZoneInfo:
    """The participant's time zone, in which days begin and end."""
    return ZoneInfo(protocol.timezone)


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite returns naive datetimes; they were stored as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
