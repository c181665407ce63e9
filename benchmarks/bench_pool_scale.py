"""Pooling at scale (issue 13): ``magtrial pool`` end to end on 100,000 trials, old and new side by side.

Run: ``.venv/bin/python -m benchmarks.bench_pool_scale [n_trials] [--rounds R] [--postgres]`` (default 100,000
trials from SQLite, 3 interleaved rounds). Each round runs, as separate processes, the real CLI
``magtrial --db URL --user bench-clinician pool --json`` (with the default subgroups) and the peer: the
implementation before issue 13, kept verbatim in ``benchmarks/pool_reference`` and run by
``python -m benchmarks.pool_reference.run``. Wall time and peak RSS (``wait4``) are taken per process, and
the two JSON answers are compared. ``--postgres`` builds the store on a real PostgreSQL started as in
``tests/conftest.py`` and times the new CLI alone (the peer holds every row as an object). ``magtrial pool`` runs
with one BLAS thread (it sets ``OPENBLAS_NUM_THREADS=1`` unless the variable is set); the peer keeps OpenBLAS's
default, as it ran before issue 13.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import harness
from benchmarks.pool_store import USER, build, simulate

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")


def timed_process(cmd: list[str]) -> tuple[float, float, dict]:
    """Wall seconds, the child's own peak RSS in MB (``os.wait4``) and its JSON answer.

    The child's CPU seconds (user + system) go to ``CPU``: on a shared, overloaded machine they vary
    far less than wall time.
    """
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        CPU.append(usage.ru_utime + usage.ru_stime)
        out.seek(0), err.seek(0)
        if proc.returncode:
            raise RuntimeError(f"{' '.join(cmd[:6])} failed: {err.read().decode()[-2000:]}")
        return wall, usage.ru_maxrss / 1024, json.loads(out.read())


CPU: list[float] = []


def ours_cmd(url: str) -> list[str]:
    return [str(ROOT / ".venv" / "bin" / "magtrial"), "--db", url, "--user", USER, "pool", "--json"]


def peer_cmd(url: str) -> list[str]:
    return [PY, "-m", "benchmarks.pool_reference.run", url, USER]


def differences(a: dict, b: dict) -> dict[str, float]:
    """Largest absolute difference of every number in the two answers, by top-level key."""

    def numbers(x, prefix=""):  # type: ignore[no-untyped-def]
        if isinstance(x, dict):
            for k, v in x.items():
                yield from numbers(v, f"{prefix}.{k}" if prefix else k)
        elif isinstance(x, list):
            for i, v in enumerate(x):
                yield from numbers(v, f"{prefix}[{i}]")
        elif isinstance(x, int | float) and not isinstance(x, bool):
            yield prefix, float(x)

    na, nb = dict(numbers(a)), dict(numbers(b))
    if na.keys() != nb.keys():
        raise AssertionError(f"answers differ in shape: {sorted(na.keys() ^ nb.keys())[:10]}")
    out: dict[str, float] = {}
    for k, v in na.items():
        top = k.split(".")[0].split("[")[0]
        out[top] = max(out.get(top, 0.0), abs(v - nb[k]))
    return out


def interleaved(url: str, rounds: int) -> None:
    ours: list[tuple[float, float]] = []
    peer: list[tuple[float, float]] = []
    answers: list[dict] = []
    ours_cpu: list[float] = []
    peer_cpu: list[float] = []
    for i in range(rounds):
        order = [("ours", ours_cmd(url)), ("peer", peer_cmd(url))]
        for name, cmd in order if i % 2 == 0 else order[::-1]:
            wall, mb, answer = timed_process(cmd)
            (ours if name == "ours" else peer).append((wall, mb))
            (ours_cpu if name == "ours" else peer_cpu).append(CPU[-1])
            answers.append(answer) if name == "ours" else None
            print(f"  round {i + 1} {name}: {wall:6.2f} s wall, {CPU[-1]:6.2f} s CPU, peak {mb:5.0f} MB", flush=True)
            if name == "peer":
                ref = answer
    diff = differences(answers[-1], ref)
    print("  largest |new - old| by field:", ", ".join(f"{k} {v:.2g}" for k, v in sorted(diff.items())))
    peak = max(m for _, m in ours), max(m for _, m in peer)
    harness.report(
        harness.Row(
            f"magtrial pool --json, {N:,} trials, SQLite",
            [w for w, _ in ours],
            "pool before issue 13",
            [w for w, _ in peer],
            target="<= 5 s",
            note=f"peak RSS {peak[0]:.0f} MB (old {peak[1]:.0f} MB); with subgroups",
        )
    )
    harness.report(
        harness.Row(
            "  the same, CPU seconds (user + system)",
            ours_cpu,
            "pool before issue 13",
            peer_cpu,
            target="",
            note="less sensitive than wall time to other load",
        )
    )


def postgres(n: int) -> None:
    from tests.conftest import PostgresServer

    server = PostgresServer()
    try:
        url = server.fresh_database()
        t0 = time.perf_counter()
        build(url, simulate(n))
        print(f"store: {n:,} trials written to PostgreSQL in {time.perf_counter() - t0:.0f} s", flush=True)
        walls, peaks = [], []
        for i in range(ROUNDS):
            wall, mb, answer = timed_process(ours_cmd(url))
            walls.append(wall), peaks.append(mb)
            print(
                f"  round {i + 1}: {wall:6.2f} s wall, {CPU[-1]:6.2f} s CPU, peak {mb:5.0f} MB "
                f"(n pooled {answer['n_trials']})",
                flush=True,
            )
        harness.report(
            harness.Row(
                f"magtrial pool --json, {n:,} trials, PostgreSQL",
                walls,
                target="<= 60 s",
                note=f"peak RSS {max(peaks):.0f} MB (target <= 1 GB); with subgroups",
            )
        )
    finally:
        server.stop()


args = [a for a in sys.argv[1:]]
N = int(args[0]) if args and args[0].isdigit() else 100_000
ROUNDS = int(args[args.index("--rounds") + 1]) if "--rounds" in args else 3

if __name__ == "__main__":
    print(f"command: {' '.join(sys.orig_argv)}   (cores: {os.cpu_count()})")
    if "--postgres" in args:
        postgres(N)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.environ.get("BENCH_POOL_STORE") or f"{tmp}/pool.sqlite3"  # reuse a store built before
            url = f"sqlite:///{path}"
            if not os.path.exists(path):
                t0 = time.perf_counter()
                build(url, simulate(N))
                print(f"store: {N:,} trials written in {time.perf_counter() - t0:.1f} s", flush=True)
            print(f"store: {path} ({os.path.getsize(path) / 1e6:.0f} MB)", flush=True)
            interleaved(url, ROUNDS)
    print(harness.table())
