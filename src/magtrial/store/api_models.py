"""Personal access tokens for API clients: only a SHA-256 of each secret is kept.

The secret (``mt_`` + 43 url-safe characters, 32 random bytes) is shown once, when it is made;
the table holds its digest, so a copy of the database cannot be used to call the API. A token
acts as its account (same role, same trials); it stops working when it expires, is revoked, or
its account is deactivated.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from magtrial.store.models import Base


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)  # public, e.g. "tok-1a2b3c4d5e6f"
    account: Mapped[str] = mapped_column(ForeignKey("accounts.name"), index=True)
    name: Mapped[str] = mapped_column(String(100))  # what the owner calls it ("phone app")
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)  # hex digest of the secret
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
