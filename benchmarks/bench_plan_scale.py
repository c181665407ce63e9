"""Planning at scale (issue 13): ``simulate_design`` for 100,000 trials, new and before side by side.

Run: ``.venv/bin/python -m benchmarks.bench_plan_scale [n_trials] [--rounds R]`` (default 100,000 trials,
3 interleaved rounds). The peer is the posterior step before issue 13, kept in ``benchmarks/plan_reference``;
both simulate the same trials from the same seed, so their answers agree to rounding. Wall and CPU seconds.
"""

from __future__ import annotations

import os
import sys
import time

from benchmarks import harness
from benchmarks.plan_reference import simulate_design as before
from magtrial.core.planning import DesignSpec, simulate_design

args = sys.argv[1:]
N = int(args[0]) if args and args[0].isdigit() else 100_000
ROUNDS = int(args[args.index("--rounds") + 1]) if "--rounds" in args else 3


def cpu_timed(fn, sink: list[float]):  # type: ignore[no-untyped-def]
    def run():  # type: ignore[no-untyped-def]
        c = time.process_time()
        out = fn()
        sink.append(time.process_time() - c)
        RESULTS.append(out)
        return out

    return run


RESULTS: list = []

if __name__ == "__main__":
    print(f"command: {' '.join(sys.orig_argv)}   (cores: {os.cpu_count()})")
    spec = DesignSpec()
    cpu_new: list[float] = []
    cpu_old: list[float] = []
    ours, peer = harness.interleave(
        cpu_timed(lambda: simulate_design(spec, N), cpu_new),
        cpu_timed(lambda: before(spec, N), cpu_old),
        rounds=ROUNDS,
        warmup=0,
    )
    a, b = RESULTS[-2].summary, RESULTS[-1].summary
    print("new:", a)
    print("old:", b)
    print("largest |new - old|:", max(abs(a[k] - b[k]) for k in a if isinstance(a[k], float)))
    harness.report(harness.Row(f"planning: simulate_design, {N:,} trials", ours, "before issue 13", peer, "<= 10 s"))
    harness.report(harness.Row("  the same, CPU seconds", cpu_new, "before issue 13", cpu_old, note="process time"))
    print(harness.table())
