"""Command-line start-up and the PDF report end to end, each a fresh process as a user starts it.

Run: ``.venv/bin/python benchmarks/bench_cli.py`` (or ``python -m benchmarks cli``).

Rows (``harness.interleave``: magtrial and its peer alternate, ABBA, so load hits both alike):

- ``magtrial --help`` against ``python -c pass``, the interpreter's own start-up: the floor no
  Python command can go below. Target 0.3 s.
- ``magtrial diary add --help``: a command's own help, which loads that command's module but no
  settings, database or input models. Target 0.3 s.
- ``magtrial diary add`` (a participant's entry: settings, database, the service's transaction
  with its audit event and receipt) against ``python -c pass``. Each call writes today's entry of
  another participant, so every call is a real first write. Target 0.3 s.
- ``magtrial report TRIAL -F pdf`` for the 16-week trial ``magtrial demo`` makes (unblinded: the
  analysis, all charts, the evidence panel), end to end: start-up, database, analysis, charts, PDF
  layout. No peer; target 1 s.

Bytecode: each child caches compiled modules in a folder of the run (``PYTHONPYCACHEPREFIX``), as an
installed tool does (pip compiles on install; an editable install writes ``__pycache__`` on first
use), even when the caller sets ``PYTHONDONTWRITEBYTECODE``. ``BENCH_NO_BYTECODE_CACHE=1`` keeps
the caller's setting instead: with ``PYTHONDONTWRITEBYTECODE=1`` every run compiles magtrial's own
modules again (site-packages ship compiled), which adds ~0.1-0.3 s to each command on this machine.
"""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import re
import resource
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # `benchmarks.harness` as a script

from benchmarks.harness import Row, interleave, report, timed  # noqa: E402

PYTHON = sys.executable
MAGTRIAL = [PYTHON, "-c", "from magtrial.cli.main import main; main()"]  # what the `magtrial` script runs
ROUNDS = 7


def _run(args: list[str], env: dict[str, str], cpu: list[float] | None = None) -> None:
    """Run a command to completion; ``cpu`` collects its user + system CPU seconds (fairer under load)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)


def _participants_database(folder: pathlib.Path, count: int) -> str:
    """A SQLite database with ``count`` running trials (P-000, P-001, ...) that take today's entry."""
    from magtrial import crypto
    from magtrial.core.protocol import Condition, Product, Protocol
    from magtrial.service import Context, Role, accounts, keys, trials
    from magtrial.store.db import Database

    db = Database(f"sqlite:///{folder / 'cli-bench.sqlite3'}")
    db.migrate()
    clinician = Context(db, accounts.bootstrap(db, "dr-bench"))
    accounts.add_account(clinician, "ph-bench", Role.PHARMACIST)
    for purpose, owner in (("pharmacist", "ph-bench"), ("emergency", "dr-bench")):
        path = folder / f"{purpose}.key"
        crypto.generate_key_file(path, purpose, owner, "bench passphrase")
        keys.register_key(clinician, crypto.unlock(path, "bench passphrase").info)
    product = Product(name="Magnesium citrate 100 mg", salt="citrate", elemental_mg_per_unit=100.0, units_per_day=2)
    protocol = Protocol(condition=Condition.CRPS1, product=product, period_days=7, cycles=3, run_in_days=3)
    person = {"person": {"age": 45, "sex": "female", "egfr": 90}, "jurisdiction": "US"}
    start = dt.date.today() - dt.timedelta(days=10)
    for i in range(count):
        trials.create_trial(clinician, protocol, f"P-{i:03d}", person, start_date=start)
    db.dispose()
    return db.url


def _bytecode(env: dict[str, str], folder: pathlib.Path) -> str:
    """Cache compiled modules for the children (see the module docstring); says which was done."""
    if os.environ.get("BENCH_NO_BYTECODE_CACHE") == "1":
        return (
            f"bytecode as the caller has it (PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')})"
        )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    return "bytecode cached (first run compiles, untimed)"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        env = {**os.environ, "MAGTRIAL_DATA_DIR": str(folder / "data")}
        env.pop("MAGTRIAL_DATABASE_URL", None)
        bytecode = _bytecode(env, folder)
        print(f"command: {' '.join([os.path.relpath(PYTHON), *sys.orig_argv[1:]])}; {ROUNDS} ABBA rounds; {bytecode}")
        bare = [PYTHON, "-c", "pass"]

        cpu_ours: list[float] = []
        cpu_peer: list[float] = []
        ours, peer = interleave(
            lambda: _run([*MAGTRIAL, "--help"], env, cpu_ours), lambda: _run(bare, env, cpu_peer), rounds=ROUNDS
        )
        report(Row("CLI start-up: magtrial --help", ours, "python -c pass", peer, target="<= 0.3 s"))
        report(Row("  the same, CPU seconds (user + system)", cpu_ours[1:], "python -c pass", cpu_peer[1:]))

        cpu_ours, cpu_peer = [], []
        ours, peer = interleave(
            lambda: _run([*MAGTRIAL, "diary", "add", "--help"], env, cpu_ours),
            lambda: _run(bare, env, cpu_peer),
            rounds=ROUNDS,
        )
        report(Row("CLI start-up: magtrial diary add --help", ours, "python -c pass", peer, target="<= 0.3 s"))
        report(Row("  the same, CPU seconds (user + system)", cpu_ours[1:], "python -c pass", cpu_peer[1:]))

        url = _participants_database(folder, ROUNDS + 1)
        next_person = iter(range(ROUNDS + 1))

        def diary_add() -> None:
            user = f"P-{next(next_person):03d}"
            trial = subprocess.run(
                [*MAGTRIAL, "--db", url, "--user", user, "trial", "list"], env=env, capture_output=True, text=True
            )
            trial_id = re.search(r"mt-[0-9a-f]+", trial.stdout).group(0)  # type: ignore[union-attr]
            args = ["--db", url, "--user", user, "diary", "add", trial_id, "--avg", "5", "--worst", "6", "--sleep", "3"]
            ours_times.append(timed(lambda: _run([*MAGTRIAL, *args, "--dose", "full"], env, ours_cpu)))

        ours_times: list[float] = []
        peer_times: list[float] = []
        ours_cpu: list[float] = []
        peer_cpu: list[float] = []
        diary_add()  # warm-up (and the first participant)
        ours_times.clear()
        ours_cpu.clear()
        for i in range(ROUNDS):
            if i % 2:
                peer_times.append(timed(lambda: _run(bare, env, peer_cpu)))
                diary_add()
            else:
                diary_add()
                peer_times.append(timed(lambda: _run(bare, env, peer_cpu)))
        report(Row("CLI diary add (start-up + write)", ours_times, "python -c pass", peer_times, target="<= 0.3 s"))
        report(Row("  the same, CPU seconds (user + system)", ours_cpu, "python -c pass", peer_cpu))

        demo = subprocess.run([*MAGTRIAL, "demo"], env=env, capture_output=True, text=True, check=True)
        trial_id = re.search(r"Trial (mt-[0-9a-f]+)", demo.stdout).group(1)  # type: ignore[union-attr]
        demo_db = f"sqlite:///{folder / 'data' / 'demo.sqlite3'}"
        pdf = folder / "report.pdf"
        args = [*MAGTRIAL, "--db", demo_db, "--user", "demo-clinician", "report", trial_id, "-F", "pdf", "-o", str(pdf)]
        _run(args, env)  # warm-up: the evidence cache, font configuration
        cpu: list[float] = []
        times = [timed(lambda: _run(args, env, cpu)) for _ in range(5)]
        report(
            Row(
                "PDF report end to end (CLI, 16-week trial)",
                times,
                target="<= 1 s",
                note=f"{pdf.stat().st_size:,} bytes",
            )
        )
        report(Row("  the same, CPU seconds (user + system)", cpu))


if __name__ == "__main__":
    main()
