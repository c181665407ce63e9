"""Tables for co-interventions, clinic measurements and late-entry approvals (migration 0006).

All three are insert-only and every row has its audit event; none holds anything that depends on
the allocation, so blinded viewers may see them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from magtrial.store.models import Base


class CoInterventionRow(Base):
    """A medication change, rescue medicine or clinic-given treatment (e.g. IV magnesium), CENT 4a."""

    __tablename__ = "co_interventions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trial_id: Mapped[str] = mapped_column(ForeignKey("trials.id"), index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    last_day: Mapped[dt.date] = mapped_column(Date)  # the same day for a one-off treatment
    kind: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text)
    dose: Mapped[str] = mapped_column(String(200), default="")
    elemental_mg: Mapped[float | None] = mapped_column(Float, nullable=True)  # magnesium given, per day
    given_by: Mapped[str] = mapped_column(String(100), default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(100))


class MeasurementRow(Base):
    """One clinic measurement at a visit: degrees for range of motion, cm2 and present/absent for an exam."""

    __tablename__ = "clinic_measurements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trial_id: Mapped[str] = mapped_column(ForeignKey("trials.id"), index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    item: Mapped[str] = mapped_column(String(40))
    value: Mapped[float] = mapped_column(Float)
    present: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(100))


class LateEntryApprovalRow(Base):
    """A clinician's permission to enter a diary day older than the protocol's late window."""

    __tablename__ = "late_entry_approvals"
    __table_args__ = (UniqueConstraint("trial_id", "day", name="uq_late_approval_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trial_id: Mapped[str] = mapped_column(ForeignKey("trials.id"), index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    approved_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str] = mapped_column(String(100))
