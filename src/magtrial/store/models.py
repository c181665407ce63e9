"""Tables. Diary rows and audit rows are insert-only; the allocation is stored only as ciphertext.

Nothing here holds a secret before unblinding: ``sealed_allocations.sealed`` is the allocation
encrypted to the trial's unblinding keys (libsodium sealed boxes), and the private keys live in
key files outside the database. Sequence and salt are written in clear only at unblinding.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class AccountRow(Base):
    """A person who acts: the role comes from here, never from a command-line flag."""

    __tablename__ = "accounts"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)  # argon2id; None: no login yet
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(100))


class UnblindingKeyRow(Base):
    """A registered public key; its private half is in a passphrase-protected file, never here."""

    __tablename__ = "unblinding_keys"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))  # "pharmacist" or "emergency"
    owner: Mapped[str] = mapped_column(ForeignKey("accounts.name"))
    public_key: Mapped[str] = mapped_column(String(64))  # hex of the 32-byte Curve25519 key
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class TrialRow(Base):
    __tablename__ = "trials"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    participant: Mapped[str] = mapped_column(String(100), index=True)  # the patient account
    clinician: Mapped[str] = mapped_column(String(100), index=True)  # the owning clinician account
    pharmacist: Mapped[str | None] = mapped_column(String(100), nullable=True)  # holds the pharmacist key
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)  # demo data: never pooled or exported as real
    protocol: Mapped[str] = mapped_column(Text)  # canonical JSON of Protocol.to_dict()
    start_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="active")
    commitment: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(100))
    unblinded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    flags: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of safety flags for the clinician
    safety: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON safety profile and verdict at creation


class SealedAllocationRow(Base):
    """The allocation as ciphertext for each unblinding key; sequence and salt in clear once revealed."""

    __tablename__ = "sealed_allocations"

    trial_id: Mapped[str] = mapped_column(ForeignKey("trials.id"), primary_key=True)
    design: Mapped[str] = mapped_column(String(20))
    sealed: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON: one sealed box per key fingerprint
    revealed_sequence: Mapped[str | None] = mapped_column(Text, nullable=True)  # comma-separated, at unblinding
    revealed_salt: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Trials created before encryption (schema 0001) kept sequence and salt in clear; read only to unblind.
    legacy_sequence: Mapped[str | None] = mapped_column(Text, nullable=True)
    legacy_salt: Mapped[str | None] = mapped_column(String(64), nullable=True)


class DiaryVersionRow(Base):
    __tablename__ = "diary_versions"
    __table_args__ = (UniqueConstraint("trial_id", "day", "version", name="uq_diary_day_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trial_id: Mapped[str] = mapped_column(ForeignKey("trials.id"), index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    values: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON of DiaryValues.as_dict()
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")


class AuditEventRow(Base):
    """One link of the hash chain; every column except ``hash`` is covered by ``hash``."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    trial_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
    at: Mapped[str] = mapped_column(String(40))  # ISO 8601 UTC, stored as hashed
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(100))
    old: Mapped[str] = mapped_column(Text)  # canonical JSON
    new: Mapped[str] = mapped_column(Text)  # canonical JSON
    reason: Mapped[str] = mapped_column(Text, default="")
    reveals_allocation: Mapped[bool] = mapped_column(Boolean, default=False)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # Version 2 (migration 0005 on) hashes a salted digest of old/new/reason, so an erasure can tombstone them.
    hash_version: Mapped[int] = mapped_column(Integer, server_default="1")
    content_salt: Mapped[str | None] = mapped_column(String(32), nullable=True)  # removed by an erasure
    content_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)  # kept by an erasure


class AuditHeadRow(Base):
    """Last link of the chain, so deleting the newest rows is detected too; locked while appending."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class EffectSummaryRow(Base):
    """Per-trial likelihood of the effect, cached at unblinding so pooling never re-reads diaries."""

    __tablename__ = "effect_summaries"

    trial_id: Mapped[str] = mapped_column(ForeignKey("trials.id"), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(40), primary_key=True)
    method: Mapped[str] = mapped_column(String(40))
    grid: Mapped[bytes] = mapped_column(LargeBinary)  # float32 little-endian, ascending beta values
    log_lik: Mapped[bytes] = mapped_column(LargeBinary)  # float32 little-endian, same length
    n_days: Mapped[int] = mapped_column(Integer)
    condition: Mapped[str] = mapped_column(String(60))
    route: Mapped[str] = mapped_column(String(40))
    salt: Mapped[str] = mapped_column(String(60))
    elemental_mg_per_day: Mapped[float | None] = mapped_column(Float, nullable=True)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


# Tables of the web layer live in their own modules; importing them here puts them in Base.metadata.
from magtrial.store import api_models, web_models  # noqa: E402, F401, I001
from magtrial.store import consent_models, clinic_models, stopping_models, amendment_models  # noqa: E402, F401, I001
