"""A read model of one trial, as adapters (reports, exports, analysis) consume it.

The store builds a ``TrialRecord``; nothing downstream touches the database. ``allocation`` is
``None`` unless the trial has been unblinded *and* the viewer may see arms, so a blinded report
or export cannot leak arm identity by accident: the data simply are not there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from magtrial.core.allocation import Allocation
from magtrial.core.diary import DiaryVersion, current_entries
from magtrial.core.protocol import Protocol
from magtrial.core.schedule import Schedule, build_schedule


@dataclass(frozen=True)
class TrialRecord:
    trial_id: str
    participant: str  # pseudonym, never a real name
    protocol: Protocol
    start_date: dt.date
    commitment: str
    created_at: dt.datetime
    status: str  # "active", "unblinded", "stopped"
    versions: tuple[DiaryVersion, ...] = ()
    allocation: Allocation | None = None
    pack_sets: tuple[str, ...] = ()  # "X"/"Y" per period: which packs match, never which is magnesium
    unblinded_at: dt.datetime | None = None
    flags: tuple[str, ...] = ()  # e.g. safety flags raised for the clinician
    extra: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def schedule(self) -> Schedule:
        return build_schedule(self.protocol, self.start_date)

    @property
    def blinded(self) -> bool:
        return self.allocation is None

    def current(self) -> dict[dt.date, DiaryVersion]:
        return current_entries(self.versions)
