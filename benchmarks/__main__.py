"""Run every benchmark in turn and print one table: ``python -m benchmarks [name ...]`` (or ``make bench``)."""

import pathlib
import runpy
import sys

from benchmarks import harness

here = pathlib.Path(__file__).parent
only = sys.argv[1:]
for script in sorted(here.glob("bench_*.py")):
    if only and not any(name in script.stem for name in only):
        continue
    print(f"\n=== {script.stem} ===", flush=True)
    runpy.run_path(str(script), run_name="__main__")
print(f"\n=== all benchmarks (median of interleaved rounds; command: python -m benchmarks {' '.join(only)}) ===")
print(harness.table())
