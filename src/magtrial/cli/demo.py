"""``magtrial demo``: a whole blinded trial on the embedded database, from creation to verification.

A simulated participant keeps a diary for 16+ weeks; entries are written through the same
service as real ones, with the service clock set to the evening of each simulated day, so
late-entry flags, the audit chain and the commitment behave exactly as in real use.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from magtrial.cli.common import console, open_database, state
from magtrial.cli.trials import print_safety
from magtrial.core.analysis import analyze
from magtrial.core.protocol import Blinding, Comparator, Condition, Design, Product, Protocol, Route
from magtrial.core.record import TrialRecord
from magtrial.core.schedule import build_schedule
from magtrial.core.sim import Participant, simulate_diary
from magtrial.service import Actor, Role, TrialService

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
    """Run a complete simulated blinded trial on the embedded database and verify it."""
    db = open_database(ctx)
    console.print(f"Database: {db.engine.url.render_as_string(hide_password=True)}")
    tz = ZoneInfo("Europe/London")
    today = dt.datetime.now(tz).date()
    probe = demo_protocol(today)
    start = today - dt.timedelta(days=probe.total_days + 2)
    protocol = demo_protocol(start)
    clock = SimClock(dt.datetime.combine(start - dt.timedelta(days=3), dt.time(10), tz))
    name = state(ctx).user or "demo"
    clinician = TrialService(db, Actor(f"{name}-clinician", Role.CLINICIAN), clock)
    patient = TrialService(db, Actor(participant, Role.PATIENT), clock)

    rec = clinician.create_trial(protocol, participant, DEMO_SAFETY, start)
    print_safety(rec.extra["safety"])
    console.print(
        f"Trial [bold]{rec.trial_id}[/]: {protocol.cycles} cycles x 2 periods of {protocol.period_days} days, "
        f"blinded, {start} to {rec.schedule.end}. Commitment {rec.commitment[:16]}..."
    )

    rng = np.random.default_rng()
    sealed = TrialService(db, Actor("demo-pharmacist", Role.PHARMACIST), clock).record(rec.trial_id).allocation
    assert sealed is not None
    days = simulate_diary(build_schedule(protocol, start), sealed, Participant(effect=effect), rng)
    late = corrections = 0
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
            version = patient.add_entry(rec.trial_id, day.date, day.values)
            late += version.late
            if rng.random() < 0.02:
                fixed = dataclasses.replace(day.values, note="corrected after checking my notes")
                patient.correct_entry(rec.trial_id, day.date, fixed, "typed the wrong day's note")
                corrections += 1

    clock.now = dt.datetime.combine(rec.schedule.end + dt.timedelta(days=1), dt.time(11), tz)
    allocation = clinician.unblind(rec.trial_id, "trial complete")
    check = clinician.verify_commitment(rec.trial_id)
    chain = clinician.verify_audit()
    final = clinician.record(rec.trial_id)
    recorded = len(final.current())
    console.print(f"Diary: {recorded} of {len(days)} days recorded, {late} flagged late, {corrections} corrected.")
    console.print(
        f"Unblinded: sequence {allocation.letters} (A = magnesium, B = placebo). "
        f"Commitment {'verifies' if check.ok else 'DOES NOT VERIFY'}."
    )
    console.print(
        f"Audit chain {'intact' if chain.ok else 'BROKEN: ' + chain.problem} ({chain.events} events in this database)."
    )
    _print_analysis(final)
    console.print(
        f"Next: `magtrial trial show {rec.trial_id}`, `magtrial diary list {rec.trial_id}`, "
        f"`magtrial analyze {rec.trial_id}`."
    )
    if not (check.ok and chain.ok):
        raise typer.Exit(2)


def _print_analysis(record: TrialRecord) -> None:
    """The participant's own answer, in the same words `magtrial analyze` uses."""
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
