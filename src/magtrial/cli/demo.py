"""``magtrial demo``: a whole blinded trial, from keys and creation to unblinding and verification.

It runs on its own database (``demo.sqlite3`` in the data folder, unless ``--db`` names one) and
marks its trial *simulated*, so demo data are never pooled, used as evidence or exported as a real
participant. A simulated participant keeps a diary for 16+ weeks through the same services as real
ones, with the clock set to the evening of each simulated day, so late-entry flags, the audit
chain, the sealed allocation and the commitment behave exactly as in real use.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from magtrial.cli.common import console, open_database, state
from magtrial.cli.trials import print_safety
from magtrial.core.protocol import Blinding, Comparator, Condition, Design, Product, Protocol, Route
from magtrial.core.record import TrialRecord
from magtrial.core.schedule import build_schedule

if TYPE_CHECKING:  # the heavy imports happen inside the functions: `magtrial --help` stays light (issue 13)
    from magtrial import crypto
    from magtrial.service import Context
    from magtrial.store.db import Database

DEMO_SAFETY = {
    "person": {"age": 54, "sex": "female", "egfr": 78},
    "medication": [{"name": "gabapentin", "times": ["08:00", "20:00"]}],
    "jurisdiction": "US",
}


class SimClock:
    """The service's clock during the demo: moves to the evening each simulated day is recorded."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def demo_protocol(start: dt.date) -> Protocol:
    product = Product(
        name="Magnesium citrate 100 mg",
        salt="citrate",
        elemental_mg_per_unit=100.0,
        units_per_day=2,
        doses_per_day=2,
        route=Route.ORAL,
    )
    return Protocol(
        condition=Condition.CRPS1,
        product=product,
        comparator=Comparator.PLACEBO,
        blinding=Blinding.BLINDED,
        design=Design.PAIRED,
        run_in_days=7,
        period_days=14,
        washout_days=0,
        cycles=4,
        carryover_days=3,
        start_date=start,
        timezone="Europe/London",
    )


def demo(
    ctx: typer.Context,
    effect: float = typer.Option(-1.2, help="True effect of the simulated person."),
    participant: str = typer.Option("DEMO-001", help="Pseudonym for the simulated participant."),
) -> None:
    """Run a complete simulated blinded trial (keys, sealed allocation, diary, unblinding) on the demo database."""
    import numpy as np

    from magtrial.core.sim import Participant, simulate_diary
    from magtrial.service import audit, diary, trials, unblinding

    settings = state(ctx).settings()
    db = open_database(ctx, None if state(ctx).database_url else settings.demo_url)
    console.print(f"Database (demo data, marked simulated): {db.engine.url.render_as_string(hide_password=True)}")
    tz = ZoneInfo("Europe/London")
    today = dt.datetime.now(tz).date()
    probe = demo_protocol(today)
    start = today - dt.timedelta(days=probe.total_days + 2)
    protocol = demo_protocol(start)
    clock = SimClock(dt.datetime.combine(start - dt.timedelta(days=3), dt.time(10), tz))
    clinician, pharmacist, patient = _demo_accounts(db, participant, clock)
    key_dir = settings.resolved_data_dir / "demo-keys"
    pharm_key, emergency_key = _demo_keys(clinician, pharmacist, key_dir)

    rec = trials.create_trial(clinician, protocol, participant, DEMO_SAFETY, start, simulated=True)
    print_safety(rec.stored_safety)
    console.print(
        f"Trial [bold]{rec.trial_id}[/]: {protocol.cycles} cycles x 2 periods of {protocol.period_days} days, "
        f"blinded, {start} to {rec.schedule.end}. Commitment {rec.commitment[:16]}... "
        "Allocation sealed to both keys; the database holds only ciphertext."
    )
    packs = unblinding.packs(pharmacist, rec.trial_id, pharm_key)
    console.print(
        "Pharmacist, with the pharmacist key (audited): " + ", ".join(f"pack {n} = {arm}" for n, arm in packs)
    )
    sealed = unblinding.pharmacist_record(pharmacist, rec.trial_id, pharm_key, "demo: simulate the diary").allocation
    assert sealed is not None

    rng = np.random.default_rng()
    days = simulate_diary(build_schedule(protocol, start), sealed, Participant(effect=effect), rng)
    late = corrections = 0
    receipt = ""
    with Progress(
        TextColumn("Diary"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=False
    ) as progress:
        task = progress.add_task("diary", total=len(days))
        for day in days:
            progress.advance(task)
            if day.values is None:
                continue
            delay = dt.timedelta(days=2, hours=2) if rng.random() < 0.03 else dt.timedelta()
            clock.now = dt.datetime.combine(day.date, dt.time(20, 30), tz) + delay
            result = diary.add_entry(patient, rec.trial_id, day.date, day.values)
            late += result.version.late
            receipt = result.receipt
            if rng.random() < 0.02:
                fixed = dataclasses.replace(day.values, note="corrected after checking my notes")
                diary.correct_entry(patient, rec.trial_id, day.date, fixed, "typed the wrong day's note")
                corrections += 1

    clock.now = dt.datetime.combine(rec.schedule.end + dt.timedelta(days=1), dt.time(11), tz)
    allocation = unblinding.unblind(clinician, rec.trial_id, emergency_key, "trial complete")
    check = unblinding.verify_commitment(clinician, rec.trial_id)
    chain = audit.verify(clinician, expect_head=receipt)
    final = trials.record(clinician, rec.trial_id)
    console.print(
        f"Diary: {len(final.current())} of {len(days)} days recorded, {late} flagged late, "
        f"{corrections} corrected. Last diary receipt: {receipt[:24]}..."
    )
    console.print(
        f"Unblinded with the clinic's emergency key: sequence {allocation.letters} (A = magnesium, B = placebo). "
        f"Commitment {'verifies' if check.ok else 'DOES NOT VERIFY'}."
    )
    console.print(
        f"Audit chain {'intact' if chain.ok else 'BROKEN: ' + chain.problem} ({chain.events} events in this "
        "database), still holding the last diary receipt; tables match the audit trail."
    )
    _print_analysis(final)
    console.print(
        f"Next: `magtrial --db {db.url} --user demo-clinician trial show {rec.trial_id}` "
        f"(key files and passphrases of this run: {key_dir})."
    )
    if not (check.ok and chain.ok):
        raise typer.Exit(2)


def _demo_accounts(db: Database, participant: str, clock: SimClock) -> tuple[Context, Context, Context]:
    """The demo's clinician (first account of the demo database), pharmacist and participant."""
    from magtrial.service import Actor, Context, Role, accounts

    if accounts.count_accounts(db) == 0:
        accounts.bootstrap(db, "demo-clinician", clock=clock)
    clinician = Context(db, accounts.actor_for(db, "demo-clinician"), clock)
    existing = {a.name for a in accounts.list_accounts(clinician)}
    for name, role in (("demo-pharmacist", Role.PHARMACIST), (participant, Role.PATIENT)):
        if name not in existing:
            accounts.add_account(clinician, name, role)
    return (
        clinician,
        Context(db, Actor("demo-pharmacist", Role.PHARMACIST), clock),
        Context(db, Actor(participant, Role.PATIENT), clock),
    )


def _demo_keys(clinician: Context, pharmacist: Context, key_dir: Path) -> tuple[crypto.UnlockedKey, ...]:
    """A fresh pharmacist key and emergency key for this run, with their passphrases saved beside them."""
    from magtrial import crypto
    from magtrial.service import keys

    run = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(2)
    unlocked = []
    for ctx, purpose in ((pharmacist, "pharmacist"), (clinician, "emergency")):
        path, passphrase = key_dir / f"{run}-{purpose}.key", secrets.token_urlsafe(12)
        key = keys.create_key(ctx, purpose, path, passphrase)
        path.with_suffix(".passphrase").write_text(passphrase + "\n", encoding="utf-8")
        console.print(f"Demo {purpose} key {key.short} ({key.owner}): {path}")
        unlocked.append(crypto.unlock(path, passphrase))
    return tuple(unlocked)


def _print_analysis(record: TrialRecord) -> None:
    """The participant's own answer, in the same words `magtrial analyze` uses."""
    from magtrial.core.analysis import analyze

    result = analyze(record)
    e = result.effect
    console.print(
        f"Effect (magnesium minus placebo) on average pain: {e.mean:+.2f} points, 95% interval "
        f"{e.lower:+.2f} to {e.upper:+.2f}; P(benefit >= {result.mcid:g} point) = {e.p_mcid:.0%}."
    )
    console.print(
        f"Randomization test: one-sided p = {result.randomization.p_lower:.3f} "
        f"(smallest possible with this design: {result.randomization.min_p_lower:.4f})."
    )
    console.print(result.text)
