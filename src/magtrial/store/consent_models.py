"""Tables for consent versions, signatures, withdrawals and erasure tombstones (migration 0005)."""

from __future__ import annotations

from magtrial.store.models import Base  # noqa: F401
