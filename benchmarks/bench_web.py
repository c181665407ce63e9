"""Diary writes through the JSON API (with the audit chain) against a minimal insert-only endpoint.

Run: ``.venv/bin/python benchmarks/bench_web.py [--rounds 3] [--count 4000] [--seconds 8] [--conns 16]``
(or ``python -m benchmarks web``).

Two servers run in processes of their own, each ``uvicorn`` with one worker on a loopback port
and a fresh SQLite file in a temporary folder:

(a) magtrial: ``create_api_app`` on a database with ``PARTICIPANTS`` participants, each with a
    running blinded trial (7-day run-in + 4 cycles x 2 x 14-day periods, started long enough ago
    that every day of it may take an entry) and a personal access token of their own. A write is
    ``POST /api/v1/trials/{id}/diary`` with the participant's bearer token: token lookup, the
    trial's row lock, the period's versions, the append-only version, its hash-chained audit event,
    the post-entry safety review and the receipt, all in one transaction.
(b) minimal: FastAPI + SQLAlchemy, one ``POST /write`` that validates a small body and inserts one
    row, no auth, no audit; same SQLite settings (WAL, synchronous=NORMAL) and, like the API, its
    writes on one writer thread (without it, threads waiting in SQLite's busy handler made its
    p99 swing by hundreds of ms).

The load generator (this process) keeps ``--conns`` keep-alive connections busy with a small
asyncio HTTP/1.1 client (a full client such as httpx costs more CPU per request than the
minimal server does, and the two share this machine's cores). Each write goes to a (trial, day)
never written before. Rounds alternate A B A B ... after one warm-up round each; a round stops at
``--count`` writes or ``--seconds``, whichever comes first. Printed: writes/s, p50 and p99
latency per round, their medians and ranges, the ratio to the minimal endpoint, and the checks
made after the run: every acknowledged write present exactly once (both servers), every receipt
still in the audit chain, and ``audit.verify`` (chain + replay against the tables) passing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Integer, String, Text, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

PARTICIPANTS = 200
TARGET_WRITES_S, TARGET_P99_MS = 1500.0, 50.0
HOST = "127.0.0.1"
HERE = Path(__file__).resolve()


# --- the two servers ----------------------------------------------------------------------------


def magtrial_app(url: str):  # type: ignore[no-untyped-def]
    from magtrial.store.db import Database
    from magtrial.web.api import create_api_app

    return create_api_app(Database(url))


class _Base(DeclarativeBase):
    pass


class MinimalEntry(_Base):
    __tablename__ = "entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trial: Mapped[str] = mapped_column(String(36))
    day: Mapped[str] = mapped_column(String(10))
    values: Mapped[str] = mapped_column(Text)


class MinimalBody(BaseModel):
    trial: str
    day: dt.date
    values: dict[str, Any]


def minimal_app(url: str):  # type: ignore[no-untyped-def]
    """The peer: a validated body, one INSERT in a transaction on one writer thread (as magtrial's API), its id back."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from fastapi import FastAPI

    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    _Base.metadata.create_all(engine)
    app = FastAPI()
    writer = ThreadPoolExecutor(1)

    def insert(body: MinimalBody) -> int:
        with Session(engine) as s, s.begin():
            row = MinimalEntry(trial=body.trial, day=body.day.isoformat(), values=json.dumps(body.values))
            s.add(row)
            s.flush()
            return row.id

    @app.post("/write", status_code=201)
    async def write(body: MinimalBody) -> dict[str, int]:
        return {"id": await asyncio.get_running_loop().run_in_executor(writer, insert, body)}

    return app


def serve(which: str, port: int, url: str) -> None:
    import uvicorn

    app = magtrial_app(url) if which == "magtrial" else minimal_app(url)
    uvicorn.run(app, host=HOST, port=port, workers=1, log_level="warning", access_log=False)


def start_server(which: str, url: str) -> tuple[subprocess.Popen, int]:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, str(HERE), "--serve", which, "--port", str(port), "--db", url])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=0.2).close()
            return proc, port
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"{which} server exited with {proc.returncode}") from None
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{which} server did not start in 30 s")


# --- the data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    trial: str
    day: dt.date
    token: str


def build_database(url: str, keys_dir: Path, participants: int) -> list[tuple[str, str, dt.date, dt.date]]:
    """Accounts, keys, one running trial and one token per participant: (trial, token, first day, last day)."""
    sys.path.insert(0, str(HERE.parent.parent))
    from magtrial import crypto
    from magtrial.core.protocol import Condition, Product, Protocol
    from magtrial.service import Actor, Context, Role, accounts, keys, tokens, trials
    from magtrial.store.db import Database
    from tests.helpers import ADULT

    db = Database(url)
    db.migrate()
    clinic = Context(db, accounts.bootstrap(db, "dr-bench"))
    accounts.add_account(clinic, "ph-bench", Role.PHARMACIST)
    for purpose, owner in (("pharmacist", "ph-bench"), ("emergency", "dr-bench")):
        path = keys_dir / f"{purpose}.key"
        crypto.generate_key_file(path, purpose, owner, "bench passphrase, not secret")
        keys.register_key(clinic, crypto.read_public(path))
    product = Product(name="Magnesium citrate 100 mg", salt="citrate", elemental_mg_per_unit=100.0, units_per_day=2)
    protocol = Protocol(condition=Condition.CRPS1, product=product, period_days=14, cycles=4, run_in_days=7)
    start = dt.date.today() - dt.timedelta(days=protocol.total_days + 5)
    out = []
    for k in range(participants):
        rec = trials.create_trial(clinic, protocol, f"P-{k:04d}", ADULT, start_date=start)
        secret = tokens.create_token(Context(db, Actor(rec.participant, Role.PATIENT)), "bench").secret
        out.append((rec.trial_id, secret, rec.schedule.start, rec.schedule.end))
    db.dispose()
    return out


def magtrial_jobs(trials: list[tuple[str, str, dt.date, dt.date]]) -> Iterator[Job]:
    """Every (trial, day) once, trials interleaved so concurrent writes hit different trials."""
    longest = max((end - start).days for _, _, start, end in trials) + 1
    for offset in range(longest):
        for trial, token, start, end in trials:
            day = start + dt.timedelta(days=offset)
            if day <= end:
                yield Job(trial, day, token)


VALUES = {
    "average_pain": 5,
    "worst_pain": 7,
    "sleep_interference": 3,
    "dose_taken": "full",
    "side_effects": ["nausea"],
    "note": "benchmark",
}


def magtrial_request(job: Job, port: int) -> bytes:
    body = json.dumps({"day": job.day.isoformat(), "values": VALUES}).encode()
    return (
        f"POST /api/v1/trials/{job.trial}/diary HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Authorization: Bearer {job.token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def minimal_request(job: Job, port: int) -> bytes:
    body = json.dumps({"trial": job.trial, "day": job.day.isoformat(), "values": VALUES}).encode()
    return (
        f"POST /write HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


# --- the load generator -------------------------------------------------------------------------


@dataclass
class Round:
    which: str
    writes: int
    errors: int
    seconds: float
    latencies: list[float]
    acked: list[tuple[Job, dict]]
    server_cpu: float = 0.0  # CPU seconds the server process used in this round

    @property
    def rate(self) -> float:
        return self.writes / self.seconds

    def quantile(self, q: float) -> float:
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(q * len(data)))] * 1000


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    return status, await reader.readexactly(length)


async def _load(which: str, port: int, jobs: Iterator[Job], count: int, seconds: float, conns: int) -> Round:
    build = magtrial_request if which == "magtrial" else minimal_request
    latencies: list[float] = []
    acked: list[tuple[Job, dict]] = []
    errors = 0
    issued = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors, issued
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while issued < count and time.perf_counter() < deadline:
                job = next(jobs, None)
                if job is None:
                    return
                issued += 1
                request = build(job, port)
                t0 = time.perf_counter()
                writer.write(request)
                status, body = await _response(reader)
                latencies.append(time.perf_counter() - t0)
                if status == 201:
                    acked.append((job, json.loads(body)))
                else:
                    errors += 1
                    if errors <= 3:
                        print(f"  {which}: HTTP {status}: {body[:200]!r}")
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(conns)))
    elapsed = time.perf_counter() - t0
    return Round(which, len(acked), errors, elapsed, latencies, acked)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def run_round(
    which: str, server: tuple[subprocess.Popen, int], jobs: Iterator[Job], count: int, seconds: float, conns: int
) -> Round:
    before = cpu_seconds(server[0].pid)
    result = asyncio.run(_load(which, server[1], jobs, count, seconds, conns))
    result.server_cpu = cpu_seconds(server[0].pid) - before
    return result


# --- checks after the run -----------------------------------------------------------------------


def check_magtrial(url: str, acked: list[tuple[Job, dict]]) -> list[str]:
    from sqlalchemy import func, select

    from magtrial.service import Actor, Context, Role, audit
    from magtrial.store import audit as chain
    from magtrial.store.db import Database
    from magtrial.store.models import DiaryVersionRow

    db = Database(url)
    problems = []
    with db.reader() as s:
        counts = {
            (t, d): n
            for t, d, n in s.execute(
                select(DiaryVersionRow.trial_id, DiaryVersionRow.day, func.count()).group_by(
                    DiaryVersionRow.trial_id, DiaryVersionRow.day
                )
            )
        }
        for job, answer in acked:
            if counts.get((job.trial, job.day)) != 1:
                problems.append(f"{job.trial} {job.day}: {counts.get((job.trial, job.day), 0)} rows, expected 1")
            seq, _, digest = answer["receipt"].partition(":")
            event = chain.event_at(s, int(seq))
            if event is None or event.hash != digest:
                problems.append(f"receipt {answer['receipt'][:20]} is not in the audit chain")
        extra = sum(counts.values()) - len(acked)
        if extra:
            problems.append(f"{extra} stored entries were never acknowledged")
    last = max((a["receipt"] for _, a in acked), key=lambda r: int(r.split(":")[0]))
    report = audit.verify(Context(db, Actor("dr-bench", Role.CLINICIAN)), expect_head=last)
    if not report.ok:
        problems.append(f"audit verify failed: {report.problem}")
    db.dispose()
    return problems[:10]


def check_minimal(url: str, acked: list[tuple[Job, dict]]) -> list[str]:
    import sqlite3

    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    ids = {row[0] for row in conn.execute("SELECT id FROM entries")}
    conn.close()
    acked_ids = [a["id"] for _, a in acked]
    problems = [f"id {i} acknowledged but missing" for i in acked_ids if i not in ids][:5]
    if len(set(acked_ids)) != len(acked_ids) or len(ids) != len(acked_ids):
        problems.append(f"{len(acked_ids)} acknowledged, {len(ids)} stored")
    return problems


# --- main ---------------------------------------------------------------------------------------


def summary(rounds: list[Round]) -> tuple[float, float, float]:
    rates = [r.rate for r in rounds]
    p50 = [r.quantile(0.5) for r in rounds]
    p99 = [r.quantile(0.99) for r in rounds]
    which = rounds[0].which
    print(
        f"{which:9s} writes/s median {statistics.median(rates):7.0f} (range {min(rates):.0f}-{max(rates):.0f}); "
        f"p50 {statistics.median(p50):5.1f} ms ({min(p50):.1f}-{max(p50):.1f}); "
        f"p99 {statistics.median(p99):5.1f} ms ({min(p99):.1f}-{max(p99):.1f})"
    )
    return statistics.median(rates), statistics.median(p50), statistics.median(p99)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=4000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--conns", type=int, default=16)
    parser.add_argument("--participants", type=int, default=PARTICIPANTS)
    parser.add_argument(
        "--py-spy",
        metavar="FILE",
        help="Sample the magtrial server with py-spy into FILE (collapsed stacks; needs `pip install py-spy`)",
    )
    parser.add_argument("--serve", choices=("magtrial", "minimal"))
    parser.add_argument("--port", type=int)
    parser.add_argument("--db")
    args, _ = parser.parse_known_args()  # `python -m benchmarks web` leaves "web" in argv
    if args.serve:
        serve(args.serve, args.port, args.db)
        return
    print(
        f"command: {' '.join(sys.orig_argv)}   (cores: {os.cpu_count()}; {args.conns} connections, "
        f"{args.rounds} rounds of at most {args.count} writes or {args.seconds:g} s each, A B A B ...)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        url, minimal_url = f"sqlite:///{root / 'magtrial.sqlite3'}", f"sqlite:///{root / 'minimal.sqlite3'}"
        t0 = time.perf_counter()
        trials = build_database(url, root, args.participants)
        jobs = magtrial_jobs(trials)
        days = sum((end - start).days + 1 for *_, start, end in trials)
        print(
            f"setup: {len(trials)} participants, trials and tokens ({days:,} writable days) in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        minimal_jobs = (
            Job(f"mt-{k % 997:08x}", dt.date(2026, 1, 1) + dt.timedelta(days=k % 300), "") for k in range(10**9)
        )
        servers: dict[str, tuple[subprocess.Popen, int]] = {}
        rounds: dict[str, list[Round]] = {"magtrial": [], "minimal": []}
        try:
            for name, u in (("magtrial", url), ("minimal", minimal_url)):
                servers[name] = start_server(name, u)
            spy = None
            if args.py_spy:
                spy = subprocess.Popen(
                    [
                        "py-spy",
                        "record",
                        "--pid",
                        str(servers["magtrial"][0].pid),
                        "--format",
                        "raw",
                        "--rate",
                        "200",
                        "-o",
                        args.py_spy,
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            for which, source in (("magtrial", jobs), ("minimal", minimal_jobs)):
                warm = run_round(which, servers[which], source, 500, args.seconds, args.conns)
                rounds[which + "-warm"] = [warm]
            for _ in range(args.rounds):
                for which, source in (("magtrial", jobs), ("minimal", minimal_jobs)):
                    r = run_round(which, servers[which], source, args.count, args.seconds, args.conns)
                    print(
                        f"  {which:9s} {r.writes:5d} writes in {r.seconds:5.2f} s = {r.rate:6.0f}/s, "
                        f"p50 {r.quantile(0.5):5.1f} ms, p99 {r.quantile(0.99):5.1f} ms, errors {r.errors}; "
                        f"server CPU {r.server_cpu / max(r.writes, 1) * 1000:.2f} ms/write "
                        f"({r.server_cpu / r.seconds:.0%} of a core)"
                    )
                    rounds[which].append(r)
        finally:
            if args.py_spy and spy is not None:
                spy.send_signal(2)  # py-spy writes its file on SIGINT
                spy.wait(timeout=60)
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(timeout=20)
        rate, p50, p99 = summary(rounds["magtrial"])
        peer_rate, peer_p50, peer_p99 = summary(rounds["minimal"])
        paired = [a.rate / b.rate for a, b in zip(rounds["magtrial"], rounds["minimal"], strict=True)]
        print(
            f"ratio magtrial / minimal: writes/s {rate / peer_rate:.2f}x (per A-B pair: "
            f"{', '.join(f'{x:.2f}' for x in paired)}), p50 {p50 / peer_p50:.1f}x, p99 {p99 / peer_p99:.1f}x"
        )
        verdict = "met" if rate >= TARGET_WRITES_S and p99 <= TARGET_P99_MS else "NOT met"
        print(f"target >= {TARGET_WRITES_S:.0f} writes/s and p99 <= {TARGET_P99_MS:.0f} ms on SQLite: {verdict}")
        acked = [a for name in ("magtrial", "magtrial-warm") for r in rounds[name] for a in r.acked]
        peer_acked = [a for name in ("minimal", "minimal-warm") for r in rounds[name] for a in r.acked]
        problems = check_magtrial(url, acked) + check_minimal(minimal_url, peer_acked)
        print(
            f"checks: {len(acked):,} acknowledged magtrial writes each stored exactly once with its receipt in "
            f"the chain, audit verify (chain, kept head, replay) passes; {len(peer_acked):,} minimal writes "
            f"stored: {'ok' if not problems else 'FAILED'}"
        )
        for p in problems:
            print(f"  problem: {p}")
        if problems:
            sys.exit(1)


if __name__ == "__main__":
    main()
