"""Tables for amendments of a running trial and the sealed allocation of the cycles they add (migration 0008).

One row per amendment. The original ``sealed_allocations`` row never changes: cycles an amendment
adds get their own draw, salt, commitment and sealed boxes here, to the same keys; sequence and salt
are written in clear only at unblinding, after they hash to this row's commitment.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from magtrial.store.models import Base


class AmendmentRow(Base):
    __tablename__ = "amendments"
    __table_args__ = (UniqueConstraint("trial_id", "number", name="uq_amendment_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trial_id: Mapped[str] = mapped_column(ForeignKey("trials.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per trial
    version: Mapped[int] = mapped_column(Integer)  # the protocol version it created
    from_period: Mapped[int] = mapped_column(Integer)  # first period the new version governs
    changes: Mapped[str] = mapped_column(Text)  # JSON {key: [old, new]}
    reason: Mapped[str] = mapped_column(Text)
    approved_by: Mapped[str] = mapped_column(String(100))  # the clinician
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    cycles_added: Mapped[int] = mapped_column(Integer, default=0)
    first_added_period: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sealed: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON: one sealed box per key fingerprint
    commitment: Mapped[str | None] = mapped_column(String(64), nullable=True)
    revealed_sequence: Mapped[str | None] = mapped_column(Text, nullable=True)  # comma-separated, at unblinding
    revealed_salt: Mapped[str | None] = mapped_column(String(64), nullable=True)
