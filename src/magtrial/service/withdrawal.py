"""Withdrawal at any time, keeping the data for analysis or erasing it (``store.erasure``).

One transaction locks the trial, records the withdrawal and its audit event and, for an erasure,
deletes and tombstones the participant's content and appends the erasure event that lists every
tombstoned audit row. After it commits, SQLite's WAL is checkpointed and the file vacuumed, so no
erased byte stays in the file. A participant who chose "keep" may later ask for erasure; an erasure
cannot be undone.
"""

from __future__ import annotations

from dataclasses import dataclass

from magtrial.core.consent import WithdrawalChoice, check_choice, check_reason
from magtrial.errors import Conflict
from magtrial.service.access import Role, require, trial_for
from magtrial.service.context import Context
from magtrial.store import audit
from magtrial.store.consent_models import WithdrawalRow
from magtrial.store.erasure import ERASED_TEXT, erase_trial_content, scrub_files

WITHDRAWN = "withdrawn"
ACTIVE = "active"


@dataclass(frozen=True)
class WithdrawalResult:
    trial_id: str
    choice: WithdrawalChoice
    status: str
    erased_events: int
    deleted_rows: dict[str, int]
    receipt: str
    scrubbed: bool = True  # False: SQLite was busy, erased bytes may stay in free pages until the next VACUUM


def withdraw(ctx: Context, trial_id: str, choice: str, reason: str = "") -> WithdrawalResult:
    """Withdraw the participant. "keep": the diary closes, what was entered stays for analysis (and pooling
    once unblinded). "erase": the diary closes and the participant's content is erased for good."""
    require(ctx.actor, Role.PATIENT, Role.CLINICIAN, to="withdraw a participant")
    chosen, reason = check_choice(choice), check_reason(reason)
    now = ctx.clock()
    erased_events, deleted = 0, {}
    with ctx.db.transaction() as s:
        row = trial_for(s, ctx.actor, trial_id, lock=True)
        earlier = s.get(WithdrawalRow, trial_id)
        if earlier is not None and (earlier.choice == WithdrawalChoice.ERASE or chosen is WithdrawalChoice.KEEP):
            raise Conflict(f"trial {trial_id} is already withdrawn ({earlier.choice})")
        before = row.status
        # A finished trial (unblinded, or stopped by its rule) whose data is kept keeps its status: still poolable.
        row.status = WITHDRAWN if (chosen is WithdrawalChoice.ERASE or before == ACTIVE) else before
        if earlier is None:
            earlier = WithdrawalRow(trial_id=trial_id, withdrawn_at=now, withdrawn_by=ctx.actor.name)
            s.add(earlier)
        earlier.choice, earlier.reason = chosen.value, reason
        s.flush()
        ctx.audit(
            s,
            "trial.withdraw",
            "trial",
            trial_id,
            trial_id,
            old={"status": before},
            new={"status": row.status, "choice": chosen.value},
            reason=reason,
        )
        if chosen is WithdrawalChoice.ERASE:
            earlier.reason = ERASED_TEXT if reason else ""
            erased = erase_trial_content(s, trial_id)
            erased_events, deleted = len(erased["events"]), erased["deleted_rows"]
            head = ctx.audit(
                s,
                audit.ERASE_ACTION,
                "trial",
                trial_id,
                trial_id,
                new={**erased, "by": ctx.actor.name, "at": now.isoformat()},
                reason="the participant chose to erase their data",
            )
            earlier.erased_at, earlier.erasure_seq = now, head.seq
        receipt = str(audit.current_head(s))
    scrubbed = scrub_files(ctx.db) if chosen is WithdrawalChoice.ERASE else True
    return WithdrawalResult(trial_id, chosen, row.status, erased_events, deleted, receipt, scrubbed)
