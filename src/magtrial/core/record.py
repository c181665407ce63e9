"""A read model of one trial, as adapters (reports, exports, analysis) consume it.

The store builds a ``TrialRecord``; nothing downstream touches the database. ``allocation`` is
``None`` unless the trial has been unblinded *and* the viewer may see arms (or the unblinded
pharmacist opened it, audited), so a blinded report or export cannot leak arm identity by accident:
the data simply are not there. Nothing else in a blinded record depends on the allocation either,
not even which packs match, so every blinded output is the same whichever of the design's orders
was drawn (only the commitment, a salted hash, differs).

``audit_head`` is the audit chain head ("SEQ:HASH") when the record was read, for receipts and
reports (``magtrial audit verify --expect-head SEQ:HASH`` checks it later); ``simulated`` marks a
demo trial, never a real participant.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import KW_ONLY, dataclass, field
from enum import StrEnum
from typing import Any

from magtrial.core.allocation import Allocation
from magtrial.core.diary import DiaryVersion, current_entries
from magtrial.core.protocol import Protocol
from magtrial.core.schedule import Schedule, build_schedule


class TrialStatus(StrEnum):
    """Where a trial is in its life; the values are the strings the database stores."""

    ACTIVE = "active"  # diary open, allocation sealed
    UNBLINDED = "unblinded"  # allocation revealed and verified: analysed, and pooled unless simulated
    STOPPED = "stopped"  # ended by the adaptive stopping rule
    WITHDRAWN = "withdrawn"  # the participant withdrew before unblinding


@dataclass(frozen=True)
class TrialRecord:
    trial_id: str
    participant: str  # pseudonym, never a real name
    protocol: Protocol
    start_date: dt.date
    commitment: str
    created_at: dt.datetime
    status: TrialStatus  # a plain string with a status's value is taken too
    versions: tuple[DiaryVersion, ...] = ()
    allocation: Allocation | None = None
    _: KW_ONLY  # everything below by name only
    unblinded_at: dt.datetime | None = None
    flags: tuple[str, ...] = ()  # e.g. safety flags raised for the clinician
    extra: dict[str, object] = field(default_factory=dict, compare=False)
    audit_head: str = ""  # "SEQ:HASH" of the audit chain when this record was read ("" outside a database)
    simulated: bool = False  # demo data: never pooled, and marked in every report and export

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", TrialStatus(self.status))

    @property
    def schedule(self) -> Schedule:
        return build_schedule(self.protocol, self.start_date)

    @property
    def stored_safety(self) -> dict[str, Any]:
        """The safety check stored at creation (verdict, findings, timetable...), {} if none was stored."""
        stored = self.extra.get("safety")
        return stored if isinstance(stored, dict) else {}

    @property
    def blinded(self) -> bool:
        return self.allocation is None

    def current(self) -> dict[dt.date, DiaryVersion]:
        return current_entries(self.versions)
