"""What every use case is given: the database, the acting account, and a clock.

Services are plain functions ``f(ctx, ...)``, one module per feature, composed rather than
inherited: the CLI, the web pages and the API build one ``Context`` per command or request and
call exactly these functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from magtrial.service.access import Actor
from magtrial.store import audit
from magtrial.store.db import Database

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Context:
    db: Database
    actor: Actor
    clock: Clock = utcnow

    def audit(
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
    ) -> audit.Head:
        """Append one audit event inside the caller's transaction, as this actor, at this clock's time."""
        return audit.append_event(
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


def aware(value: dt.datetime) -> dt.datetime:
    """SQLite returns naive datetimes; they were stored as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
