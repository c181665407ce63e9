"""CLI: ``magtrial analyze TRIAL`` (one person's result) and ``magtrial plan`` (design simulation)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from magtrial.cli.common import console, open_context, unlock_key
from magtrial.core.protocol import Design
from magtrial.errors import ValidationError


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("analyze")(analyze_command)
    app.command("plan")(plan_command)


def analyze_command(
    ctx: typer.Context,
    trial: str = typer.Argument(..., help="Trial id, e.g. mt-1a2b3c."),
    outcome: str | None = typer.Option(
        None, help="average_pain, worst_pain or sleep_interference (default: the protocol's primary outcome)."
    ),
    mcid: str = typer.Option("1", help="Smallest worthwhile difference in points, or '30%-run-in'."),
    period_effects: bool = typer.Option(False, help="Add period random effects to the model."),
    drift: bool = typer.Option(True, help="Model a linear drift over the trial."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    key: Path | None = typer.Option(
        None, "--key", help="Pharmacist only, before unblinding: open the allocation with this key (audited)."
    ),
) -> None:
    """Analyse one trial: effect with 95% interval, probabilities, per-pack means, randomization test.

    Only after unblinding; before it, only the unblinded pharmacist (with their key, audited) may compare.
    """
    from magtrial.core.analysis import analyze  # numpy and scipy only for the commands that compute
    from magtrial.report.clinic import overlap_flags
    from magtrial.service import trials, unblinding

    c = open_context(ctx)
    if key is not None:
        record = unblinding.pharmacist_record(c, trial, unlock_key(ctx, key), "interim analysis")
    else:
        record = trials.record(c, trial)
    result = analyze(record, outcome, mcid=mcid, drift=drift, period_effects=period_effects)
    flags = overlap_flags(record)  # co-interventions: listed beside the result, not adjusted for
    if as_json:
        console.print_json(
            json.dumps({**result.to_dict(), "co_intervention_overlaps": flags} if flags else result.to_dict())
        )
        return
    lab = result.labels
    title = f"{record.trial_id}: {result.outcome.label}, {lab.first} minus {lab.second}"
    table = Table(title=title)
    table.add_column("Quantity")
    table.add_column("Value", justify="right")
    for row in result.summary:
        table.add_row(row["quantity"], row["display"])
    console.print(table)
    periods = Table(title="Per pack (analysis days only)")
    for name in ("Pack", "Cycle", "Arm", "Days", "Mean"):
        periods.add_column(name, justify="right" if name in ("Pack", "Cycle", "Days", "Mean") else "left")
    for p in result.periods:
        periods.add_row(str(p.pack), str(p.cycle), p.group, str(p.n_days), "-" if p.mean is None else f"{p.mean:.2f}")
    console.print(periods)
    if result.full_dose is None:
        console.print(f"Full-dose sensitivity: {result.full_dose_note}")
    console.print(result.text)
    for text in flags:
        console.print(f"Flag: a co-intervention overlapped {text} (not adjusted for).", markup=False)


def plan_command(
    cycles: str = typer.Option("2,3,4,5,6", help="Numbers of cycles to compare, comma-separated."),
    period_days: int = typer.Option(14, help="Days per period (one pack)."),
    washout_days: int = typer.Option(0, help="Washout days between periods."),
    carryover_days: int = typer.Option(3, help="Days at the start of each period left out of the analysis."),
    effect: float = typer.Option(-1.0, help="Assumed true effect, magnesium minus comparator (points)."),
    sd: float = typer.Option(1.5, help="Day-to-day SD of the score (points)."),
    rho: float = typer.Option(0.4, help="Day-to-day autocorrelation."),
    drift: float = typer.Option(0.0, help="Drift, points per week."),
    carryover: float = typer.Option(0.0, help="Share of the effect carried into the next period (0-1)."),
    missing: float = typer.Option(0.1, help="Share of missing diary days."),
    mcid: float = typer.Option(1.0, help="Smallest worthwhile benefit (points)."),
    design: str = typer.Option(Design.PAIRED.value, help="paired (AB/BA per cycle) or counterbalanced."),
    trials: int = typer.Option(10_000, help="Simulated trials per design."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    adaptive: bool = typer.Option(
        False, "--adaptive", help="Simulate an adaptive stopping rule beside the fixed design."
    ),
    stopping_rule: list[str] = typer.Option(
        [], "--stopping", help="With --adaptive: key=value of the rule, repeatable."
    ),
) -> None:
    """Simulate a design: power and expected interval width for each number of cycles.

    Power (benefit): share of simulated trials with P(benefit >= MCID) > 80%. Power (interval): share
    whose 95% interval lies wholly below 0. ``--adaptive``: false-positive rate, power and expected
    length of the stopping rule (``--stopping``; default thresholds otherwise) against the fixed design.
    """
    from magtrial.core.planning import DesignSpec, plan

    try:
        cycle_list = [int(c) for c in cycles.split(",") if c.strip()]
        design_enum = Design(design)
    except ValueError:
        raise ValidationError(
            "--cycles must be whole numbers separated by commas and --design paired or counterbalanced"
        ) from None
    spec = DesignSpec(
        cycles=cycle_list[0] if cycle_list else 4,
        period_days=period_days,
        washout_days=washout_days,
        carryover_days=carryover_days,
        effect=effect,
        sd=sd,
        rho=rho,
        drift_per_week=drift,
        carryover=carryover,
        missing_rate=missing,
        mcid=mcid,
        design=design_enum,
    )
    for c in cycle_list:
        DesignSpec(**{**spec.__dict__, "cycles": c})  # validate every design before simulating
    if adaptive:  # magtrial.cli.stopping: the first number of cycles only
        from magtrial.cli.stopping import parse_rule, print_adaptive

        return print_adaptive(spec, parse_rule(stopping_rule), min(trials, 4000), as_json)
    with Progress(
        TextColumn("Simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=as_json,
    ) as progress:
        task = progress.add_task("plan", total=trials * len(cycle_list))
        result = plan(spec, cycle_list, trials, progress=lambda done, total: progress.update(task, completed=done))
    if as_json:
        console.print_json(json.dumps(result.summary))
        return
    table = Table(title=f"Design simulation ({trials:,} trials each)")
    for name in ("Cycles", "Weeks", f"P(benefit>={mcid:g})>80%", "95% CI below 0", "Mean CI width", "Mean estimate"):
        table.add_column(name, justify="right")
    for r in result.results:
        table.add_row(
            str(r.spec.cycles),
            f"{r.total_days / 7:.0f}",
            f"{r.power_mcid:.0%}",
            f"{r.power_interval:.0%}",
            f"{r.mean_width:.2f}",
            f"{r.mean_estimate:+.2f}",
        )
    console.print(table)
    console.print(result.text)
