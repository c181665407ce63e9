"""CLI: ``magtrial pool`` (pooled estimate of unblinded trials) and ``magtrial evidence`` (published trials)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from magtrial.cli.common import console, open_context
from magtrial.errors import ValidationError

if TYPE_CHECKING:
    from magtrial.core.pooling import PoolResult, Prior

# core.pooling.pool.SUBGROUP_KEYS, written out so that `magtrial --help` imports no numpy (issue 13;
# tests/test_cli_imports.py checks the two agree).
SUBGROUP_KEYS = ("condition", "route", "salt", "dose_band")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("pool")(pool_command)
    app.command("evidence")(evidence_command)


def _collect(ctx: typer.Context, outcome: str, show_progress: bool):
    from magtrial.service import pooling

    c = open_context(ctx)
    if not show_progress:
        return pooling.pool_inputs(c, outcome)
    with Progress(
        TextColumn("Reading effect summaries"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("read", total=pooling.count(c, outcome))
        return pooling.pool_inputs(c, outcome, progress=lambda k: progress.advance(task, k))


def _prior(tau_prior: str, tau_scale: float) -> Prior:
    from magtrial.core.pooling import Prior

    return Prior(tau_scale=tau_scale, tau_family=tau_prior)  # a bad family or scale is a ValidationError


def pool_command(
    ctx: typer.Context,
    outcome: str = typer.Option("average_pain", help="Outcome whose effects are pooled."),
    by: list[str] = typer.Option(
        list(SUBGROUP_KEYS), "--by", help="Subgroup keys: condition, route, salt, dose_band (repeat the option)."
    ),
    no_subgroups: bool = typer.Option(False, "--no-subgroups", help="Only the population estimate."),
    persons: bool = typer.Option(False, "--persons", help="Also list each person's shrunken effect."),
    sensitivity: bool = typer.Option(False, "--sensitivity", help="Re-run under alternative priors."),
    tau_prior: str = typer.Option("half-normal", help="Prior family of tau: half-normal or half-cauchy."),
    tau_scale: float = typer.Option(1.0, help="Scale of the tau prior (NRS points)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Pool every unblinded trial: mean effect, between-person SD, responders, new-person prediction.

    Trials still blinded, and simulated (demo) trials, are never read. Subgroups with fewer than 5
    trials get a warning, no estimate.
    """
    # One BLAS thread unless the user asks otherwise (set before numpy loads): pooling's products are thin, and
    # OpenBLAS's threads made them 3-6x slower on a shared 2-core machine (issue 13).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from magtrial.core.pooling import pool_data, pool_subgroups, prior_sensitivity

    prior = _prior(tau_prior, tau_scale)
    data = _collect(ctx, outcome, show_progress=not as_json)
    result = pool_data(data, prior=prior, persons=persons)
    groups = [] if no_subgroups else pool_subgroups(data, by, prior=prior)
    runs = prior_sensitivity(data) if sensitivity else []
    if as_json:
        out = result.as_dict(persons=persons)
        out["subgroups"] = [g.as_dict() for g in groups]
        if runs:
            out["sensitivity"] = [r.as_dict() for r in runs]
        console.print_json(json.dumps(out))
        return
    _print_result(result)
    if groups:
        table = Table(title="Subgroups (each pooled on its own)")
        for name in ("By", "Level", "Trials", "Mean effect (95 %)", "Between-person SD", "Responders"):
            table.add_column(name)
        for g in groups:
            r = g.result
            if r is None:
                table.add_row(g.by, g.level, str(g.n_trials), f"[yellow]{g.warning}[/]", "", "")
            else:
                table.add_row(
                    g.by, g.level, str(g.n_trials), r.mu.fmt(), r.tau.fmt(), r.responders_population.fmt(pct=True)
                )
        console.print(table)
    if runs:
        table = Table(title="Prior sensitivity (Zucker 2010: variance priors can move the answer)")
        for name in ("Prior", "Mean effect (95 %)", "Between-person SD (95 %)"):
            table.add_column(name)
        for r in runs:
            table.add_row(r.label, r.mu.fmt(), r.tau.fmt())
        console.print(table)
    if persons:
        table = Table(title="Each person's shrunken effect")
        for name in ("Trial", "Own estimate (SD)", "Shrunken (95 %)", "P(effect <= -1)"):
            table.add_column(name)
        for p in result.persons:
            table.add_row(p.trial_id, f"{p.own[0]:+.2f} ({p.own[1]:.2f})", p.estimate.fmt(), f"{p.p_responder:.2f}")
        console.print(table)


def _print_result(result: PoolResult) -> None:
    table = Table(title=f"Pooled N-of-1 trials (n = {result.n_trials})")
    for name in ("Quantity", "Mean", "95 % interval"):
        table.add_column(name)
    for row in result.summary:
        pct = row["unit"] == "share"
        f = (lambda v: f"{100 * v:.0f} %") if pct else (lambda v: f"{v:+.2f}")
        table.add_row(str(row["quantity"]), f(row["mean"]), f"{f(row['lower'])} to {f(row['upper'])}")
    console.print(table)
    console.print(result.text)


def evidence_command(
    ctx: typer.Context,
    output: Path | None = typer.Option(None, "-o", "--output", help="Save a forest plot (.svg or .png)."),
    with_pool: bool = typer.Option(
        True, "--pool/--no-pool", help="Add the pooled N-of-1 estimate from this database, if any."
    ),
    outcome: str = typer.Option("average_pain", help="Outcome of the pooled estimate."),
    as_json: bool = typer.Option(False, "--json", help="Print the table as JSON."),
) -> None:
    """The published trials of magnesium for neuropathic pain, each row sourced; optional forest plot."""
    from magtrial.core.evidence import forest_rows
    from magtrial.core.pooling import pool_data
    from magtrial.data.evidence import load_evidence

    table = load_evidence()
    pooled = None
    if with_pool:
        data = _collect(ctx, outcome, show_progress=False)
        pooled = pool_data(data, persons=False) if data.n else None
    if as_json:
        out = {"studies": table.summary, "pooled": None if pooled is None else pooled.as_dict()}
        console.print_json(json.dumps(out))
    else:
        t = Table(title="Published evidence (research notes, section E)")
        for name in ("Study", "Design", "n", "Route / dose", "Result", "Between-group effect"):
            t.add_column(name)
        for s in table.studies:
            e = s.effect
            eff = (
                f"{e.value:+.1f} ({e.status}; " + ("SE not extractable)" if e.se is None else f"SE {e.se:.2f})")
                if e.extractable
                else f"missing: {e.note}"
            )
            t.add_row(s.label, s.design, str(s.n), f"{s.route}: {s.dose}", s.headline, eff)
        console.print(t)
        console.print(table.text)
        if pooled is not None:
            console.print(f"Pooled N-of-1 estimate: mean effect {pooled.mu.fmt()} points (n = {pooled.n_trials}).")
        elif with_pool:
            console.print("No unblinded N-of-1 trials in this database yet: no pooled estimate.")
    if output is not None:
        suffix = output.suffix.lower()
        if suffix not in (".svg", ".png"):
            raise ValidationError(f"the plot file must end in .svg or .png, got {output.name!r}")
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from magtrial.plots.forest import plot_forest

        rows = forest_rows(table, pooled)
        fig, ax = plt.subplots(figsize=(8.5, 0.5 * len(rows) + 1.4))
        plot_forest(rows, ax=ax)
        fig.tight_layout()
        fig.savefig(output, format=suffix[1:], dpi=150)
        plt.close(fig)
        if not as_json:
            console.print(f"Forest plot saved to {output}")
