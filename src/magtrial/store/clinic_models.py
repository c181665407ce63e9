"""Tables for co-interventions, clinic measurements and late-entry approvals (migration 0006)."""

from __future__ import annotations

from magtrial.store.models import Base  # noqa: F401
