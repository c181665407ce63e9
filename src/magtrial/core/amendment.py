"""Amending a running trial: what may change, from which period, and the new protocol version.

Past periods never change: an amendment takes effect from the first period that has not started
(a later start date than today in the participant's calendar), and every earlier period keeps the
version it ran under (``core.versions``). Added cycles come after the last period and get an order
of their own (drawn and sealed by the service), so the original draw and its commitment stay as
they were published. Rules only: no database, no keys.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from magtrial.core.protocol import Design, Protocol
from magtrial.core.schedule import build_schedule
from magtrial.core.versions import versions
from magtrial.errors import ProtocolError, ValidationError

NEXT_PERIOD_KEYS = frozenset({"period_days", "washout_days", "carryover_days", "product"})
"""What an amendment may change, from the next period on (the product includes its dose)."""

REASON_MAX = 2000


@dataclass(frozen=True)
class AmendmentPlan:
    """The checked amendment: the new protocol (with the old version inside) and what it changed."""

    protocol: Protocol
    version: int
    from_period: int
    changes: dict[str, tuple[Any, Any]]  # key -> (old, new)
    cycles_added: int
    first_added_period: int | None


def plan_amendment(
    current: Protocol,
    start: dt.date,
    today: dt.date,
    changes: dict[str, Any],
    add_cycles: int = 0,
) -> AmendmentPlan:
    """Check an amendment against the calendar as of ``today`` and build the new protocol version.

    Raises ``ValidationError`` (with what to do instead) when a key may not change this way, when
    nothing would change, or when the first period it would govern has already started.
    """
    unknown = set(changes) - NEXT_PERIOD_KEYS
    if unknown:
        raise ValidationError(
            f"{', '.join(sorted(unknown))} cannot change from the next period; an amendment changes "
            f"{', '.join(sorted(NEXT_PERIOD_KEYS))}, adds cycles, or sets reminder times "
            "(other settings: magtrial trial amend)"
        )
    if not isinstance(add_cycles, int) or isinstance(add_cycles, bool) or add_cycles < 0:
        raise ValidationError(f"cycles to add must be a whole number 0 or more, got {add_cycles!r}")
    if add_cycles and current.design is Design.COUNTERBALANCED:
        # One ABBA/BAAB order is drawn for the whole trial: a second draw for added cycles would leave the
        # design's randomization set (and its exact test). Paired cycles are drawn one by one, so they extend.
        raise ValidationError(
            "a counterbalanced (ABBA/BAAB) trial cannot add cycles: its order is drawn once for the whole trial; "
            "create a new trial instead"
        )
    schedule = build_schedule(current, start)
    not_started = [p for p in schedule.periods if p.start > today]
    if changes and not not_started:
        raise ValidationError(
            f"every period has started (the last began {schedule.periods[-1].start.isoformat()}); past and "
            "running periods never change: add cycles to change what comes next"
        )
    # The new version governs from the first period not started yet (added cycles alone change nothing before).
    from_period = not_started[0].number if not_started else schedule.periods[-1].number + 1
    before = current.with_changes(earlier_versions=()).to_dict()
    merged = {**before, **changes, "cycles": current.cycles + add_cycles}
    try:
        candidate = Protocol.from_dict(merged)
    except ProtocolError as exc:
        raise ValidationError(f"the amended protocol is not valid: {exc}") from None
    after = candidate.to_dict()
    diff = {k: (before.get(k), after.get(k)) for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)}
    if not diff:
        raise ValidationError("the amendment changes nothing: give new values or cycles to add")
    version = len(versions(current)) + 1
    history = [
        *current.earlier_versions,
        {"version": version - 1, "until_period": from_period - 1, "protocol": before},
    ]
    protocol = candidate.with_changes(earlier_versions=tuple(history))
    if add_cycles:
        first = build_schedule(protocol, start).period(current.n_periods + 1).start
        if first <= today:
            raise ValidationError(
                f"added periods would start {first.isoformat()}, which is not after today ({today.isoformat()}); "
                "days already lived never become trial periods"
            )
    return AmendmentPlan(
        protocol=Protocol.from_dict(protocol.to_dict()),  # validated as stored
        version=version,
        from_period=from_period,
        changes=diff,
        cycles_added=add_cycles,
        first_added_period=current.n_periods + 1 if add_cycles else None,
    )


def check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("an amendment needs a reason")
    if len(reason) > REASON_MAX:
        raise ValidationError(f"the reason is too long ({len(reason):,} characters; at most {REASON_MAX})")
    return reason


def check_reminder_times(times: list[str]) -> list[str]:
    """Reminder (dose) times as HH:MM, sorted and distinct; at most six a day."""
    out = set()
    for text in times:
        try:
            value = dt.time.fromisoformat(text.strip())
        except (ValueError, AttributeError):
            raise ValidationError(f"a reminder time must be HH:MM (24-hour), got {text!r}") from None
        out.add(f"{value:%H:%M}")
    if not 1 <= len(out) <= 6:
        raise ValidationError(f"give 1-6 reminder times, got {len(out)}")
    return sorted(out)
