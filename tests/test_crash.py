"""Crash consistency of the API server: SIGKILL under concurrent diary writes, on SQLite and a real PostgreSQL.

A few rounds here (``tests/crash_support.py`` says what is checked); ``scripts/crash_consistency.py``
repeats them many times and prints the figures.
"""

from __future__ import annotations

import random

import pytest

from tests.crash_support import crash_round, prepare


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_every_acknowledged_write_survives_a_sigkill_exactly_once(backend, tmp_path, request, capsys):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'crash.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_server").fresh_database()
    jobs = prepare(url, tmp_path / "keys", participants=6)
    rng = random.Random(15)
    count = 2 if backend == "sqlite" else 1
    rounds = [crash_round(url, jobs, threads=6, kill_after=0.4, rng=rng) for _ in range(count)]
    acked = sum(len(r.acked) for r in rounds)
    with capsys.disabled():
        print(
            f"\ncrash ({backend}): {len(rounds)} SIGKILL rounds, {acked} acknowledged writes, "
            f"{sum(len(r.in_flight) for r in rounds)} in flight at the kill, problems: "
            f"{sum(len(r.problems) for r in rounds)}"
        )
    assert [p for r in rounds for p in r.problems] == []
    assert all(r.acked for r in rounds) and acked >= 5
