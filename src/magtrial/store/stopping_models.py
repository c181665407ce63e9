"""Tables for blinding-check answers and adaptive-stopping decisions (migration 0007)."""

from __future__ import annotations

from magtrial.store.models import Base  # noqa: F401
