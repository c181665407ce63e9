"""Tables for blinding-check answers and adaptive-stopping decisions (migration 0007).

Both are insert-only. A decision row holds the public status ("continue" or "complete") in clear
and its reason (benefit or futility, with the posterior probabilities) only as a sealed box to the
trial's unblinding keys, of the same length whichever way it went.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from magtrial.store.models import Base


class BlindingGuessRow(Base):
    """The participant's answer after one period: did that period's pack hold magnesium?"""

    __tablename__ = "blinding_guesses"
    __table_args__ = (UniqueConstraint("trial_id", "period", name="uq_blinding_guess_period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trial_id: Mapped[str] = mapped_column(ForeignKey("trials.id"), index=True)
    period: Mapped[int] = mapped_column(Integer)  # the pack number
    guess: Mapped[str] = mapped_column(String(12))  # "this", "other", "dont-know"
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(100))


class StoppingDecisionRow(Base):
    """The stopping rule evaluated after one completed cycle."""

    __tablename__ = "stopping_decisions"

    trial_id: Mapped[str] = mapped_column(ForeignKey("trials.id"), primary_key=True)
    cycle: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(10))  # "continue" or "complete"
    sealed: Mapped[str] = mapped_column(Text)  # crypto.seal of core.stopping.sealed_payload
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str] = mapped_column(String(100))
