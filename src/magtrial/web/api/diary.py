"""``/trials/{id}/diary``: list, add, correct, void. Each write returns its receipt and safety findings.

A write is one ``service.diary`` call: row lock, append-only version, audit event and the
post-entry safety review in one transaction. The answer's ``urgent`` is true when a
stop-and-seek-care symptom was reported; those findings come first and say what to do.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Query
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from magtrial.core.diary import DiaryValues, DoseTaken
from magtrial.core.inputs import Count, Name, Text
from magtrial.service import diary, trials
from magtrial.service.diary import EntryResult
from magtrial.web.api.auth import Ctx
from magtrial.web.api.errors import ERRORS
from magtrial.web.api.router import api_router
from magtrial.web.api.schemas import DiaryValuesOut, DiaryVersionOut, FindingOut, In, Out
from magtrial.web.api.writer import write

router = api_router(tags=["diary"])

Reason = Annotated[str, Field(min_length=1, max_length=2000, description="Why (kept in the audit trail)")]


class DiaryListOut(Out):
    trial_id: str
    history: bool  # every version (true) or the current entry per day (false)
    entries: list[DiaryVersionOut]
    audit_head: str


class EntryOut(Out):
    trial_id: str
    day: dt.date
    version: int
    kind: str
    values: DiaryValuesOut | None
    late: bool
    recorded_at: dt.datetime
    receipt: str = Field(description="SEQ:HASH of the audit head after this write; keep it")
    urgent: bool = Field(description="A stop-and-seek-care symptom: show the urgent findings at once")
    findings: list[FindingOut] = Field(description="Safety findings of this entry, most serious first")

    @classmethod
    def of(cls, trial_id: str, r: EntryResult) -> EntryOut:
        v = r.version
        return cls(
            trial_id=trial_id,
            day=v.day,
            version=v.version,
            kind=v.kind.value,
            values=DiaryValuesOut.of(v.values),
            late=v.late,
            recorded_at=v.recorded_at,
            receipt=r.receipt,
            urgent=bool(r.urgent),
            findings=[FindingOut.of(f) for f in r.findings],
        )


class EntryIn(In):
    day: dt.date | None = Field(None, description="Default: today in the participant's time zone")
    values: DiaryValues


class Changes(In):
    """Only the fields that change; the rest of the entry is kept."""

    average_pain: Count | None = None
    worst_pain: Count | None = None
    sleep_interference: Count | None = None
    dose_taken: DoseTaken | None = None
    side_effects: list[Name] | None = Field(None, max_length=6)
    side_effect_other: Text | None = None
    rescue_medication: Text | None = None
    note: Text | None = None


class CorrectionIn(In):
    changes: Changes
    reason: Reason


class VoidIn(In):
    reason: Reason


@router.get("/trials/{trial_id}/diary", response_model=DiaryListOut, responses=ERRORS)
def list_entries(
    ctx: Ctx, trial_id: str, history: bool = Query(False, description="Every version, not only the current entry")
) -> DiaryListOut:
    """The diary: the current entry per day, or every version (nothing is overwritten)."""
    rec = trials.record(ctx, trial_id)
    versions = rec.versions if history else tuple(rec.current().values())
    return DiaryListOut(
        trial_id=trial_id, history=history, entries=[DiaryVersionOut.of(v) for v in versions], audit_head=rec.audit_head
    )


@router.post("/trials/{trial_id}/diary", status_code=201, response_model=EntryOut, responses=ERRORS)
async def add_entry(ctx: Ctx, trial_id: str, body: EntryIn) -> EntryOut:
    """Record a day (participant or clinician); a second entry for a day is a 409: correct it instead."""
    day: dt.date = body.day if body.day is not None else await run_in_threadpool(diary.today, ctx, trial_id)
    return EntryOut.of(trial_id, await write(ctx.db, diary.add_entry, ctx, trial_id, day, body.values))


@router.post("/trials/{trial_id}/diary/{day}/corrections", status_code=201, response_model=EntryOut, responses=ERRORS)
async def correct_entry(ctx: Ctx, trial_id: str, day: dt.date, body: CorrectionIn) -> EntryOut:
    """Correct a day's entry with a reason: a new version; the earlier one stays in the history."""
    changes = body.changes.model_dump(exclude_unset=True)
    return EntryOut.of(trial_id, await write(ctx.db, diary.correct_entry, ctx, trial_id, day, changes, body.reason))


@router.post("/trials/{trial_id}/diary/{day}/void", status_code=201, response_model=EntryOut, responses=ERRORS)
async def void_entry(ctx: Ctx, trial_id: str, day: dt.date, body: VoidIn) -> EntryOut:
    """Mark a day's entry as entered in error, with a reason (kept in the history)."""
    return EntryOut.of(trial_id, await write(ctx.db, diary.void_entry, ctx, trial_id, day, body.reason))
