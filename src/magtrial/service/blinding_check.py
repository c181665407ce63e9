"""The blinding check: the participant's guess after each period, append-only, audited; scored after unblinding.

Before unblinding everyone sees only the raw answers by pack number (nothing depends on the
allocation); once the trial is unblinded ``check`` adds Bang's blinding index per arm.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from magtrial.core import blinding_check as core
from magtrial.core.allocation import Arm
from magtrial.core.protocol import Blinding
from magtrial.core.schedule import build_schedule
from magtrial.errors import Conflict, ValidationError
from magtrial.service.access import Role, require, trial_for
from magtrial.service.context import Context, aware
from magtrial.service.diary import stored_protocol
from magtrial.service.trials import UNBLINDED, record
from magtrial.store.models import TrialRow
from magtrial.store.stopping_models import BlindingGuessRow


@dataclass(frozen=True)
class Answer:
    period: int  # the pack number
    guess: core.Guess
    recorded_at: dt.datetime


@dataclass(frozen=True)
class BlindingCheck:
    trial_id: str
    blinded_design: bool  # an open trial has no blinding check
    answers: tuple[Answer, ...]
    indices: tuple[core.BangIndex, core.BangIndex] | None  # only once unblinded

    @property
    def text(self) -> str:
        if not self.blinded_design:
            return "Open design: no blinding check."
        raw = ", ".join(f"pack {a.period}: {a.guess.label.lower()}" for a in self.answers) or "no answers yet"
        lines = [f"Blinding check ('{core.QUESTION}'): {raw}."]
        if self.indices:
            lines += [i.text for i in self.indices]
        return "\n".join(lines)


def pending_period(ctx: Context, trial_id: str) -> int | None:
    """The earliest period that has ended (its last day has come) without the participant's answer."""
    with ctx.db.reader() as s:
        row = trial_for(s, ctx.actor, trial_id)
        if ctx.actor.role is not Role.PATIENT or row.status == UNBLINDED:
            return None
        due = _due_periods(ctx, row)
        if not due:
            return None
        answered = set(
            s.execute(select(BlindingGuessRow.period).where(BlindingGuessRow.trial_id == trial_id)).scalars()
        )
    return next((p for p in due if p not in answered), None)


def record_guess(ctx: Context, trial_id: str, period: int, guess: core.Guess | str) -> Answer:
    """Store the participant's answer for one ended period; one answer per period, never changed."""
    require(ctx.actor, Role.PATIENT, to="answer the blinding check")
    now = ctx.clock()
    with ctx.db.transaction() as s:
        row = trial_for(s, ctx.actor, trial_id, lock=True)  # another person's trial: "not found" before anything
        guess = core.parse_guess(guess) if not isinstance(guess, core.Guess) else guess
        if row.status == UNBLINDED:
            raise Conflict(f"trial {trial_id} is unblinded; a guess now would not test the blinding")
        protocol = stored_protocol(row.protocol)
        if protocol.blinding is not Blinding.BLINDED:
            raise ValidationError(f"trial {trial_id} is open (not blinded); it has no blinding check")
        if not isinstance(period, int) or not 1 <= period <= protocol.n_periods:
            raise ValidationError(f"pack must be a number from 1 to {protocol.n_periods}, got {period!r}")
        if period not in _due_periods(ctx, row):
            raise ValidationError(f"pack {period}'s period has not ended yet; answer on its last day or after")
        taken = select(BlindingGuessRow.id).where(
            BlindingGuessRow.trial_id == trial_id, BlindingGuessRow.period == period
        )
        if s.execute(taken).first() is not None:  # the trial row is locked: no answer can slip in between
            raise Conflict(f"pack {period} already has an answer; answers are kept as given")
        s.add(
            BlindingGuessRow(
                trial_id=trial_id, period=period, guess=guess.value, recorded_at=now, recorded_by=ctx.actor.name
            )
        )
        ctx.audit(
            s,
            "blinding.guess",
            "blinding_guess",
            f"{trial_id}#p{period}",
            trial_id,
            new={"period": period, "guess": guess.value},
        )
    return Answer(period, guess, now)


def check(ctx: Context, trial_id: str) -> BlindingCheck:
    """The answers by pack; Bang's index per arm only when the record carries the revealed allocation."""
    rec = record(ctx, trial_id)
    with ctx.db.reader() as s:
        answers = tuple(_answers(s, trial_id))
    blinded_design = rec.protocol.blinding is Blinding.BLINDED
    indices = None
    if rec.allocation is not None and blinded_design:
        on_mag = {p.number: rec.allocation.arm_of_period(p.number) is Arm.MAGNESIUM for p in rec.schedule.periods}
        indices = core.score({a.period: a.guess for a in answers}, on_mag)
    return BlindingCheck(trial_id, blinded_design, answers, indices)


def _answers(s: Session, trial_id: str) -> list[Answer]:
    rows = s.execute(
        select(BlindingGuessRow).where(BlindingGuessRow.trial_id == trial_id).order_by(BlindingGuessRow.period)
    ).scalars()
    return [Answer(r.period, core.Guess(r.guess), aware(r.recorded_at)) for r in rows]


def _due_periods(ctx: Context, row: TrialRow) -> list[int]:
    """Periods whose last day has come (in the trial's time zone), for a blinded design."""
    protocol = stored_protocol(row.protocol)
    if protocol.blinding is not Blinding.BLINDED:
        return []
    today = protocol.local_date(ctx.clock())
    return [p.number for p in build_schedule(protocol, row.start_date).periods if p.end <= today]
