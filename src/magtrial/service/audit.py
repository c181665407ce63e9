"""The audit trail as people use it: its head (a receipt), a full verification, a trial's events.

``verify`` does three things, in order, and names the first problem it meets:
1. walks the hash chain (every row links to the one before and hashes to itself);
2. if a head someone kept is given (``SEQ:HASH`` from a receipt, report or export), checks that
   the chain still holds that exact link, so a rewrite of the whole chain with recomputed hashes
   is caught;
3. replays the events and compares them with the tables (``store.replay``).
"""

from __future__ import annotations

from dataclasses import dataclass

from magtrial.service.access import trial_for
from magtrial.service.context import Context
from magtrial.store import audit, replay
from magtrial.store.models import SealedAllocationRow


@dataclass(frozen=True)
class AuditReport:
    ok: bool
    events: int
    head: audit.Head
    problem: str = ""
    bad_seq: int | None = None
    legacy_clear_allocations: int = 0  # trials created before encryption, still blinded


def head(ctx: Context) -> audit.Head:
    with ctx.db.reader() as s:
        return audit.current_head(s)


def verify(ctx: Context, expect_head: str | None = None) -> AuditReport:
    expected = audit.Head.parse(expect_head) if expect_head else None
    with ctx.db.reader() as s:
        chain = audit.verify_chain(s)
        current = audit.current_head(s)
        if not chain.ok:
            return AuditReport(False, chain.events, current, chain.problem, chain.bad_seq)
        if expected is not None:
            problem = _anchor_problem(s, expected, current)
            if problem:
                return AuditReport(False, chain.events, current, problem, expected.seq)
        for difference in replay.differences(s):
            return AuditReport(False, chain.events, current, difference)
        legacy = s.query(SealedAllocationRow).filter(SealedAllocationRow.legacy_sequence.is_not(None)).count()
    return AuditReport(True, chain.events, current, legacy_clear_allocations=legacy)


def _anchor_problem(s, expected: audit.Head, current: audit.Head) -> str:
    if expected.seq > current.seq:
        return (
            f"the kept head {expected.seq}:{expected.hash[:12]}... is beyond the chain's end ({current.seq}): "
            "events after it were removed"
        )
    row = audit.event_at(s, expected.seq)
    if row is None or row.hash != expected.hash:
        return (
            f"the chain no longer holds the kept head {expected.seq}:{expected.hash[:12]}... "
            "(the audit trail was rewritten after that receipt was issued)"
        )
    return ""


def trail(ctx: Context, trial_id: str) -> list[audit.AuditView]:
    """A trial's events for someone who may see the trial; allocation details sealed until unblinding."""
    with ctx.db.reader() as s:
        row = trial_for(s, ctx.actor, trial_id)
        return audit.view_events(s, trial_id, row.status == "unblinded")
