"""``magtrial serve``: the web app under uvicorn; ``--demo`` first makes (or reuses) a demo database.

The demo database (``web-demo.sqlite3`` in the data folder) holds a demo clinician, pharmacist and
participant with passwords, a pharmacist key and a clinic emergency key (files and passphrases in
the data folder), and a running blinded trial (marked simulated) with some weeks of diary written
through the services with the clock moved to each day's evening, as ``magtrial demo`` does.
Yesterday and today are left empty for the participant to fill in.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import typer

DEMO_PARTICIPANT = "DEMO-001"
DEMO_DAYS_IN = 38  # the demo trial started this many days ago: 7 run-in days, 2 periods, day 4 of pack 3


@dataclass(frozen=True)
class WebDemo:
    url: str
    trial_id: str
    logins: dict[str, str]  # account -> password
    keys: dict[str, dict[str, str]]  # purpose -> {"path", "passphrase"}


def build_demo(data_dir: Path) -> WebDemo:
    """Create the web demo database in ``data_dir``, or reuse the one made earlier."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path, saved = data_dir / "web-demo.sqlite3", data_dir / "web-demo-logins.json"
    url = f"sqlite:///{path}"
    if path.exists() and saved.exists():
        info = json.loads(saved.read_text(encoding="utf-8"))
        return WebDemo(url, info["trial_id"], info["logins"], info["keys"])
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    demo = _make_demo(url, data_dir)
    saved.write_text(
        json.dumps({"trial_id": demo.trial_id, "logins": demo.logins, "keys": demo.keys}, indent=2), encoding="utf-8"
    )
    os.chmod(saved, 0o600)
    return demo


def _make_demo(url: str, data_dir: Path) -> WebDemo:
    from zoneinfo import ZoneInfo

    import numpy as np

    from magtrial.cli.demo import DEMO_SAFETY, SimClock, demo_protocol
    from magtrial.core.schedule import build_schedule
    from magtrial.core.sim import Participant, simulate_diary
    from magtrial.service import Actor, Context, Role, accounts, diary, keys, trials, unblinding
    from magtrial.store.db import Database

    db = Database(url)
    db.migrate()
    tz = ZoneInfo("Europe/London")
    today = dt.datetime.now(tz).date()
    start = today - dt.timedelta(days=DEMO_DAYS_IN)
    clock = SimClock(dt.datetime.combine(start - dt.timedelta(days=3), dt.time(10), tz))
    logins = {name: secrets.token_urlsafe(9) for name in ("demo-clinician", "demo-pharmacist", DEMO_PARTICIPANT)}
    clinician = Context(db, accounts.bootstrap(db, "demo-clinician", logins["demo-clinician"], clock=clock), clock)
    accounts.add_account(clinician, "demo-pharmacist", Role.PHARMACIST, logins["demo-pharmacist"])
    pharmacist = Context(db, Actor("demo-pharmacist", Role.PHARMACIST), clock)
    key_dir, key_info = data_dir / "web-demo-keys", {}
    key_dir.mkdir(exist_ok=True)
    unlocked = {}
    for ctx, purpose in ((pharmacist, "pharmacist"), (clinician, "emergency")):
        key_path, passphrase = key_dir / f"{purpose}.key", secrets.token_urlsafe(12)
        key_path.unlink(missing_ok=True)
        keys.create_key(ctx, purpose, key_path, passphrase)
        key_path.with_suffix(".passphrase").write_text(passphrase + "\n", encoding="utf-8")
        key_info[purpose] = {"path": str(key_path), "passphrase": passphrase}
        from magtrial import crypto

        unlocked[purpose] = crypto.unlock(key_path, passphrase)
    protocol = demo_protocol(start)
    rec = trials.create_trial(clinician, protocol, DEMO_PARTICIPANT, DEMO_SAFETY, start, simulated=True)
    accounts.set_password(clinician, DEMO_PARTICIPANT, logins[DEMO_PARTICIPANT])
    unblinding.packs(pharmacist, rec.trial_id, unlocked["pharmacist"])
    allocation = unblinding.pharmacist_record(
        pharmacist, rec.trial_id, unlocked["pharmacist"], "demo: simulate the diary"
    ).allocation
    assert allocation is not None
    patient = Context(db, Actor(DEMO_PARTICIPANT, Role.PATIENT), clock)
    rng = np.random.default_rng()
    for day in simulate_diary(build_schedule(protocol, start), allocation, Participant(effect=-1.2), rng):
        if day.date >= today - dt.timedelta(days=1) or day.values is None:
            continue
        clock.now = dt.datetime.combine(day.date, dt.time(20, 30), tz)
        values = day.values
        if values.side_effects & {"muscle-weakness", "drowsiness", "flushing"}:  # keep the demo free of alarms
            values = type(values).from_dict({**values.as_dict(), "side_effects": []})
        diary.add_entry(patient, rec.trial_id, day.date, values)
    db.dispose()
    return WebDemo(url, rec.trial_id, logins, key_info)


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8000, help="Port to listen on."),
    demo: bool = typer.Option(False, "--demo", help="Serve a demo database with demo logins (made on first use)."),
) -> None:
    """Run the web app (participant diary, clinician and pharmacist pages, JSON API) with uvicorn."""
    import uvicorn

    from magtrial.cli.common import console, state
    from magtrial.web.app import create_app

    settings = state(ctx).settings()
    if demo:
        made = build_demo(settings.resolved_data_dir)
        settings = settings.model_copy(update={"database_url": made.url})
        console.print(f"Demo database: {made.url} (trial {made.trial_id}, marked simulated)")
        for name, password in made.logins.items():
            console.print(f"  log in as [bold]{name}[/] with password [bold]{password}[/]")
        for purpose, key in made.keys.items():
            console.print(f"  {purpose} key: {key['path']} (passphrase {key['passphrase']})")
    app = create_app(settings)
    shown = f"[{host}]" if ":" in host else host
    console.print(f"magtrial is serving at [bold]http://{shown}:{port}/[/] (Ctrl+C stops it)")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
