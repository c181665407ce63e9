"""Many SIGKILL rounds of the API server under concurrent diary writes, on SQLite and PostgreSQL; prints the figures.

Run: ``.venv/bin/python scripts/crash_consistency.py [--rounds 25] [--threads 8] [--backend sqlite|postgres|both]``
(``tests/test_crash.py`` runs 2 + 1 rounds; ``tests/crash_support.py`` says what each round checks).
Exit status 1 if any acknowledged write was lost or doubled, a receipt left the chain, or audit verify failed.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--participants", type=int, default=20)
    parser.add_argument("--kill-after", type=float, default=1.5, help="at most this many seconds of load per round")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)

    from tests.crash_support import crash_round, prepare

    failed = False
    for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
        tmp = Path(tempfile.mkdtemp(prefix="magtrial-crash-"))
        server = None
        if backend == "postgres":
            from tests.conftest import PostgresServer

            server = PostgresServer()
            url = server.fresh_database()
        else:
            url = f"sqlite:///{tmp / 'crash.sqlite3'}"
        try:
            jobs = prepare(url, tmp / "keys", args.participants)
            acked = in_flight = 0
            problems: list[str] = []
            for k in range(args.rounds):
                r = crash_round(url, jobs, threads=args.threads, kill_after=args.kill_after, rng=rng)
                acked, in_flight, problems = acked + len(r.acked), in_flight + len(r.in_flight), problems + r.problems
                print(
                    f"  {backend} round {k + 1}: {len(r.acked)} acknowledged, {len(r.in_flight)} in flight, "
                    f"{len(r.problems)} problems",
                    flush=True,
                )
        finally:
            if server is not None:
                server.stop()
        print(
            f"{backend}: {args.rounds} SIGKILL rounds (seed {seed}), {acked} acknowledged writes, {in_flight} in "
            f"flight at the kill; acknowledged writes lost or doubled and other problems: {len(problems)}"
        )
        for p in problems[:20]:
            print("  PROBLEM", p)
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
