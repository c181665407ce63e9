"""Tables for consent versions, signatures and withdrawals (migration 0005).

Consent text belongs to the clinician and the trial, so it survives an erasure; a signature holds the
participant's typed name and the frozen page they agreed to, so an erasure deletes it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from magtrial.store.models import Base


class ConsentVersionRow(Base):
    """One version of a trial's consent text; a new version needs a new signature before more diary entries."""

    __tablename__ = "consent_versions"

    trial_id: Mapped[str] = mapped_column(ForeignKey("trials.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    text: Mapped[str] = mapped_column(Text)
    set_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    set_by: Mapped[str] = mapped_column(String(100))


class ConsentSignatureRow(Base):
    """The participant's signature of one version, with a byte-for-byte frozen copy of the page they signed."""

    __tablename__ = "consent_signatures"

    trial_id: Mapped[str] = mapped_column(ForeignKey("trials.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    typed_name: Mapped[str] = mapped_column(String(200))
    meaning: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    signed_by: Mapped[str] = mapped_column(String(100))
    html: Mapped[str] = mapped_column(Text)
    html_sha256: Mapped[str] = mapped_column(String(64))


class WithdrawalRow(Base):
    """A participant's withdrawal and their choice: keep the data for analysis, or erase it."""

    __tablename__ = "withdrawals"

    trial_id: Mapped[str] = mapped_column(ForeignKey("trials.id"), primary_key=True)
    choice: Mapped[str] = mapped_column(String(10))  # "keep" or "erase"
    withdrawn_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text, default="")
    erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    erasure_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the audit event of the erasure
