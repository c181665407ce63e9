"""Protocol versions: which version of the protocol each period, and so each diary day, ran under.

An amendment never rewrites the past. The protocol a trial holds is its newest version; the
versions before it travel inside it (``Protocol.earlier_versions``), each with the last period it
governed, so the calendar of past periods is rebuilt exactly as it ran, and the analysis can say
which version each day belonged to. Nothing here depends on the allocation.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from magtrial.core.protocol import Protocol

if TYPE_CHECKING:
    from magtrial.core.schedule import Schedule


@dataclass(frozen=True)
class ProtocolVersion:
    number: int  # 1 = the protocol the trial was created with
    protocol: Protocol  # as it stood in this version (without the earlier versions)
    first_period: int  # first period it governs
    last_period: int  # last period it governs; last < first when it governed none (amended again first)

    @property
    def periods(self) -> str:
        if self.last_period < self.first_period:
            return "no periods (amended again before its first period)"
        if self.first_period == self.last_period:
            return f"period {self.first_period}"
        return f"periods {self.first_period}-{self.last_period}"


def versions(protocol: Protocol) -> list[ProtocolVersion]:
    """Every version, oldest first; a never-amended protocol is its own version 1 for all its periods."""
    out, first = [], 1
    for entry in protocol.earlier_versions:
        old = Protocol.from_dict(entry["protocol"])
        out.append(ProtocolVersion(entry["version"], old, first, entry["until_period"]))
        first = max(first, entry["until_period"] + 1)
    current = protocol.with_changes(earlier_versions=())
    out.append(ProtocolVersion(len(out) + 1, current, first, protocol.n_periods))
    return out


def version_of_period(protocol: Protocol, period: int) -> ProtocolVersion:
    """The version that governs ``period`` (1-based): its length, carry-over window, washout after it, product."""
    for version in versions(protocol):
        if version.first_period <= period <= version.last_period:
            return version
    return versions(protocol)[-1]


def governing(protocol: Protocol) -> list[Protocol]:
    """The protocol in force for each period (index 0 is period 1); the versions are parsed once."""
    if not protocol.earlier_versions:
        return [protocol] * protocol.n_periods
    every = versions(protocol)
    out = []
    for period in range(1, protocol.n_periods + 1):
        out.append(next((v for v in every if v.first_period <= period <= v.last_period), every[-1]).protocol)
    return out


def version_on(protocol: Protocol, schedule: Schedule, date: dt.date) -> int | None:
    """The protocol version a calendar day ran under: its period's; a washout its preceding period's.

    Run-in days belong to the version of period 1; days before the start or after the end to none.
    """
    if date < schedule.start or date > schedule.end:
        return None
    number = 1
    for period in schedule.periods:
        if period.start > date:
            break
        number = period.number
    return version_of_period(protocol, number).number


def describe(protocol: Protocol) -> list[str]:
    """One line per version, for the analysis output and the report."""
    lines = []
    for v in versions(protocol):
        p = v.protocol
        lines.append(
            f"version {v.number}: {v.periods}; periods of {p.period_days} days, washout {p.washout_days}, "
            f"carry-over {p.carryover_days}; {p.product.name} x {p.product.units_per_day:g}/day"
        )
    return lines


def analysed_days_by_version(protocol: Protocol, periods: Sequence[int]) -> list[dict[str, object]]:
    """How many analysed days (given by their period numbers) each protocol version contributed."""
    every = versions(protocol)
    counts = Counter(int(n) for n in periods)
    return [
        {
            "version": v.number,
            "periods": v.periods,
            "analysed_days": sum(c for n, c in counts.items() if v.first_period <= n <= v.last_period),
        }
        for v in every
    ]
