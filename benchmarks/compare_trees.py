"""Issue 13's before/after table: the same commands from two source trees, alternately, wall and CPU time.

Run: ``.venv/bin/python -m benchmarks.compare_trees OLD_SRC [-- ARGS...]``

``OLD_SRC`` is the ``src`` folder of a checkout of the earlier commit (``git worktree add /tmp/old
COMMIT``); the new tree is this checkout's ``src``. Each round runs ``magtrial --help``, the
optional ``magtrial ARGS`` (for example ``--db URL --user NAME report TRIAL -F pdf -o r.pdf``) and
``python -c pass`` as new processes, in ABBA order between the trees, recording wall time and the
child's user + system CPU seconds (the fairer figure when other jobs load the machine). Then, in a
process per tree, ``fit_effect`` and ``analyze()`` on ``bench_analysis``'s 16-week diary are
timed in CPU seconds.
"""

from __future__ import annotations

import os
import pathlib
import resource
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
CLI = "from magtrial.cli.main import main; main()"
FIT = f"""
import statistics, sys, time
sys.path.insert(0, {str(ROOT)!r})
from benchmarks.bench_analysis import simulated_record
from magtrial.core.analysis import analyze, build_data, fit_effect
r = simulated_record(); d = build_data(r); analyze(r)
def cpu(fn, k):
    out = []
    for _ in range(k):
        t = time.process_time(); fn(); out.append(time.process_time() - t)
    return statistics.median(out) * 1e3
print(f"fit_effect {{cpu(lambda: fit_effect(d.y, d.day, d.first, d.period), 30):.2f}} ms CPU, "
      f"analyze {{cpu(lambda: analyze(r), 15):.2f}} ms CPU")
"""


def _run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def main() -> None:
    old_src, extra = sys.argv[1], sys.argv[3:] if len(sys.argv) > 2 and sys.argv[2] == "--" else []
    env = {k: v for k, v in os.environ.items() if k != "MAGTRIAL_DATABASE_URL"}
    trees = {"before": {**env, "PYTHONPATH": old_src}, "after": {**env, "PYTHONPATH": str(ROOT / "src")}}
    commands = {"--help": ["--help"], **({" ".join(extra[-6:]): extra} if extra else {})}
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for i in range(int(os.environ.get("ROUNDS", "5"))):
        for name, args in commands.items():
            for who in ("before", "after", "pass") if i % 2 == 0 else ("pass", "after", "before"):
                cmd = [sys.executable, "-c", "pass"] if who == "pass" else [sys.executable, "-c", CLI, *args]
                results.setdefault((name, who), []).append(_run(cmd, trees.get(who, env)))
    print(f"command: {' '.join([os.path.relpath(sys.executable), *sys.orig_argv[1:]])}")
    for (name, who), runs in results.items():
        wall, cpu = [w for w, _ in runs], [c for _, c in runs]
        print(
            f"{name:<28} {who:<7} wall {statistics.median(wall):7.3f} s ({min(wall):.3f}-{max(wall):.3f})"
            f"  CPU {statistics.median(cpu):6.3f} s ({min(cpu):.3f}-{max(cpu):.3f})"
        )
    for i in range(3):
        for who in ("before", "after") if i % 2 == 0 else ("after", "before"):
            out = subprocess.run([sys.executable, "-c", FIT], env=trees[who], capture_output=True, text=True)
            print(f"{who:<7} {out.stdout.strip() or out.stderr.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
