"""Tables for sealed allocations for periods added by an amendment (migration 0008)."""

from __future__ import annotations

from magtrial.store.models import Base  # noqa: F401
