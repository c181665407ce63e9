"""Side-by-side timing: magtrial and its peer run alternately (ABAB…) so machine load hits both alike.

On a shared 2-core machine two separate blocks of timings can differ by 2× from load alone; interleaving
and reporting the median and range of the per-round ratio keeps the comparison honest. Every benchmark
adds its rows with :func:`report`; ``python -m benchmarks`` prints them all as one table at the end.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

ROWS: list[Row] = []


@dataclass(frozen=True)
class Row:
    """One line of the table: our median time, and against the peer the median and range of the ratio."""

    name: str
    ours: list[float]
    peer_name: str = ""
    peer: list[float] = field(default_factory=list)
    target: str = ""
    note: str = ""

    @property
    def ratios(self) -> list[float]:
        return [p / o for o, p in zip(self.ours, self.peer, strict=False) if o > 0]

    def line(self) -> str:
        ours = _fmt(statistics.median(self.ours))
        if not self.peer:
            return f"{self.name:<44} {ours:>10} {'':>10} {'':>24} {self.target:<12} {self.note}"
        r = self.ratios
        ratio = f"{statistics.median(r):.3g}x ({min(r):.3g}-{max(r):.3g})"
        peer = f"{_fmt(statistics.median(self.peer))}"
        return f"{self.name:<44} {ours:>10} {peer:>10} {ratio:>24} {self.target:<12} {self.peer_name}; {self.note}"


def _fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Seconds per call, the best-behaved of ``repeat`` calls averaged (for calls far below a millisecond)."""
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def interleave(
    ours: Callable[[], object],
    peer: Callable[[], object],
    rounds: int = 7,
    warmup: int = 1,
    repeat: int = 1,
) -> tuple[list[float], list[float]]:
    """Time ``ours`` and ``peer`` alternately, ``rounds`` times each, after ``warmup`` untimed rounds."""
    for _ in range(warmup):
        ours()
        peer()
    a: list[float] = []
    b: list[float] = []
    for i in range(rounds):
        if i % 2 == 0:  # ABBA order: neither side always runs second
            a.append(timed(ours, repeat))
            b.append(timed(peer, repeat))
        else:
            b.append(timed(peer, repeat))
            a.append(timed(ours, repeat))
    return a, b


def report(row: Row) -> Row:
    ROWS.append(row)
    print(row.line(), flush=True)
    return row


def table() -> str:
    head = f"{'benchmark':<44} {'magtrial':>10} {'peer':>10} {'peer/magtrial, median (range)':>24} {'target':<12} notes"
    return "\n".join([head, "-" * len(head), *(r.line() for r in ROWS)])
