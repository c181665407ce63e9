"""Kill the API server mid-load and check every acknowledged diary write survived, exactly once.

Shared by ``tests/test_crash.py`` (a few rounds) and ``scripts/crash_consistency.py`` (many). The
server is ``benchmarks/bench_web.py --serve magtrial`` (uvicorn, one worker, ``create_api_app``) in
a process of its own; writer threads post diary entries for (trial, day) pairs never written
before, each with its participant's token, and keep the receipt of every 201. After a random
moment the server gets SIGKILL (no shutdown, no flush: whatever the database made durable is what
there is), is started again on the same database, and then:

- every acknowledged write is present exactly once (one version of that day, the values sent);
- no day has more than one original version (nothing half-written, nothing doubled);
- every receipt (``SEQ:HASH``) is still a link of the chain, and ``audit.verify`` (chain walk and
  replay against the tables) passes;
- the restarted server takes writes again, and a write that was in flight when the server died
  is either stored (409 when sent again) or not (201): never twice.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from benchmarks.bench_web import HOST, VALUES, Job, build_database, magtrial_jobs, start_server


@dataclass
class CrashRound:
    acked: list[tuple[Job, str]] = field(default_factory=list)  # (job, receipt)
    in_flight: list[Job] = field(default_factory=list)  # sent, no answer before the kill
    refused: int = 0
    problems: list[str] = field(default_factory=list)


def prepare(url: str, keys_dir: Path, participants: int) -> Iterator[Job]:
    """A database with ``participants`` running trials and tokens; the (trial, day) jobs to write, in order."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    return magtrial_jobs(build_database(url, keys_dir, participants))


def _writer(port: int, jobs: Iterator[Job], lock: threading.Lock, result: CrashRound, stop: threading.Event) -> None:
    with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=10) as client:
        while not stop.is_set():
            with lock:
                job = next(jobs, None)
            if job is None:
                return
            try:
                r = client.post(
                    f"/api/v1/trials/{job.trial}/diary",
                    headers={"Authorization": f"Bearer {job.token}"},
                    json={"day": job.day.isoformat(), "values": VALUES},
                )
            except httpx.HTTPError:
                with lock:
                    result.in_flight.append(job)
                return
            with lock:
                if r.status_code == 201:
                    result.acked.append((job, r.json()["receipt"]))
                else:
                    result.refused += 1
                    result.problems.append(f"{job.trial} {job.day}: {r.status_code} {r.text[:120]}")


def crash_round(
    url: str, jobs: Iterator[Job], *, threads: int = 8, kill_after: float = 1.0, rng: random.Random | None = None
) -> CrashRound:
    """One round: load, SIGKILL after about ``kill_after`` seconds of writes, restart, check; the server is left
    stopped."""
    rng = rng or random.Random()
    result, lock, stop = CrashRound(), threading.Lock(), threading.Event()
    proc, port = start_server("magtrial", url)
    try:
        workers = [
            threading.Thread(target=_writer, args=(port, jobs, lock, result, stop), daemon=True) for _ in range(threads)
        ]
        for w in workers:
            w.start()
        deadline = time.monotonic() + 30
        while len(result.acked) < 5 and time.monotonic() < deadline:  # the load is on before the kill
            time.sleep(0.02)
        time.sleep(kill_after * rng.uniform(0.2, 1.0))
        proc.kill()  # SIGKILL
        proc.wait()
        stop.set()
        for w in workers:
            w.join(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    result.problems += check(url, result)
    return result


def check(url: str, result: CrashRound) -> list[str]:
    """Restart the server on the database and check the acknowledged writes, the receipts and the chain."""
    from sqlalchemy import select

    from magtrial.service import Actor, Context, Role, audit
    from magtrial.store import audit as chain
    from magtrial.store.db import Database
    from magtrial.store.models import DiaryVersionRow

    problems: list[str] = []
    proc, port = start_server("magtrial", url)  # the restart (its start-up must cope with the killed state)
    try:
        with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=10) as client:
            for job in result.in_flight[:3]:  # sent again: stored once at most
                r = client.post(
                    f"/api/v1/trials/{job.trial}/diary",
                    headers={"Authorization": f"Bearer {job.token}"},
                    json={"day": job.day.isoformat(), "values": VALUES},
                )
                if r.status_code not in (201, 409):
                    problems.append(f"in-flight write sent again: {r.status_code} {r.text[:120]}")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    db = Database(url)
    try:
        with db.reader() as s:
            stored: dict[tuple[str, dt.date], list[str | None]] = {}
            for t, d, values in s.execute(
                select(DiaryVersionRow.trial_id, DiaryVersionRow.day, DiaryVersionRow.values)
            ):
                day = d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d))
                stored.setdefault((t, day), []).append(values)
            per_day = {key: len(versions) for key, versions in stored.items()}
            for job, receipt in result.acked:
                n = per_day.get((job.trial, job.day), 0)
                if n != 1:
                    problems.append(f"acknowledged write {job.trial} {job.day} stored {n} times")
                elif json.loads(stored[(job.trial, job.day)][0] or "{}").get("note") != VALUES["note"]:
                    problems.append(f"acknowledged write {job.trial} {job.day} holds other values")
                head = chain.Head.parse(receipt)
                row = chain.event_at(s, head.seq)
                if row is None or row.hash != head.hash:
                    problems.append(f"receipt {receipt[:20]}... is no longer in the audit chain")
            problems += [f"{t} {d} has {n} versions" for (t, d), n in per_day.items() if n > 1]
        report = audit.verify(Context(db, Actor("crash-check", Role.CLINICIAN)))
        if not report.ok:
            problems.append(f"audit verify: {report.problem}")
    finally:
        db.dispose()
    return problems
