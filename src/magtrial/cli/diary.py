"""CLI: diary add/correct/void/list and audit verify/show: thin commands over the diary service."""

from __future__ import annotations

import datetime as dt

import typer
from rich.panel import Panel
from rich.table import Table

from magtrial.cli.common import console, open_service, parse_date
from magtrial.core.diary import SIDE_EFFECTS, DiaryValues, DoseTaken
from magtrial.errors import ValidationError
from magtrial.service import Role, TrialService
from magtrial.service.safety import review_entry

diary_app = typer.Typer(no_args_is_help=True, help="Daily diary: add, correct, void, list (append-only).")
audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit trail.")


def _values(
    avg: int, worst: int | None, sleep: int, dose: str, side_effect: list[str], other: str, rescue: str, note: str
) -> DiaryValues:
    try:
        dose_taken = DoseTaken(dose)
    except ValueError:
        raise ValidationError(f"--dose must be full, partial or none; got {dose!r}") from None
    return DiaryValues(
        average_pain=avg,
        worst_pain=avg if worst is None else worst,
        sleep_interference=sleep,
        dose_taken=dose_taken,
        side_effects=frozenset(side_effect),
        side_effect_other=other,
        rescue_medication=rescue,
        note=note,
    )


_AVG = typer.Option(..., "--avg", help="Average pain today, 0-10.")
_WORST = typer.Option(None, "--worst", help="Worst pain today, 0-10 (default = average).")
_SLEEP = typer.Option(0, "--sleep", help="How much pain disturbed sleep, 0-10.")
_DOSE = typer.Option("full", "--dose", help="Dose taken: full, partial or none.")
_SIDE = typer.Option([], "--side-effect", help=f"Repeatable: {', '.join(SIDE_EFFECTS)}.")


@diary_app.command("add")
def diary_add(
    ctx: typer.Context,
    trial: str,
    date: str = typer.Option(None, help="Day (default today)."),
    avg: int = _AVG,
    worst: int | None = _WORST,
    sleep: int = _SLEEP,
    dose: str = _DOSE,
    side_effect: list[str] = _SIDE,
    other: str = "",
    rescue: str = "",
    note: str = "",
) -> None:
    """Record a day's diary (one current entry per day)."""
    svc = open_service(ctx, Role.PATIENT)
    day = parse_date(date) or svc.today(trial).date
    version = svc.add_entry(trial, day, _values(avg, worst, sleep, dose, side_effect, other, rescue, note))
    console.print(f"Saved {day}{' (flagged late)' if version.late else ''}.")
    _print_alerts(svc, trial, day)


@diary_app.command("correct")
def diary_correct(
    ctx: typer.Context,
    trial: str,
    date: str = typer.Option(..., help="Day to correct."),
    reason: str = typer.Option(..., help="Why the entry changes."),
    avg: int = _AVG,
    worst: int | None = _WORST,
    sleep: int = _SLEEP,
    dose: str = _DOSE,
    side_effect: list[str] = _SIDE,
    other: str = "",
    rescue: str = "",
    note: str = "",
) -> None:
    """Correct a day: a new version with a reason; the old one stays in the history."""
    svc = open_service(ctx, Role.PATIENT)
    day = parse_date(date)
    version = svc.correct_entry(trial, day, _values(avg, worst, sleep, dose, side_effect, other, rescue, note), reason)
    console.print(f"Corrected {day} (version {version.version}).")
    _print_alerts(svc, trial, day)


@diary_app.command("void")
def diary_void(ctx: typer.Context, trial: str, date: str = typer.Option(...), reason: str = typer.Option(...)) -> None:
    """Mark a day's entry as entered in error (kept in the history)."""
    svc = open_service(ctx, Role.PATIENT)
    day = parse_date(date)
    version = svc.void_entry(trial, day, reason)
    console.print(f"Voided {day} (version {version.version}, entered in error).")


@diary_app.command("list")
def diary_list(ctx: typer.Context, trial: str, history: bool = typer.Option(False, help="Show every version.")) -> None:
    """Current entries (or the full version history)."""
    svc = open_service(ctx, Role.PATIENT)
    rec = svc.record(trial)
    rows = rec.versions if history else tuple(rec.current().values())
    table = Table(
        "day",
        "period",
        "avg",
        "worst",
        "sleep",
        "dose",
        "side effects",
        *(["version", "kind", "reason"] if history else []),
        "late",
    )
    for v in rows:
        plan = rec.schedule.day(v.day)
        where = f"{plan.period}" if plan.period else plan.kind.value
        vals = v.values
        cells = (
            [
                str(vals.average_pain),
                str(vals.worst_pain),
                str(vals.sleep_interference),
                vals.dose_taken.value,
                ", ".join(sorted(vals.side_effects)),
            ]
            if vals
            else ["-", "-", "-", "-", "entered in error"]
        )
        extra = [str(v.version), v.kind.value, v.reason] if history else []
        table.add_row(str(v.day), where, *cells, *extra, "late" if v.late else "")
    console.print(table)


def _print_alerts(svc: TrialService, trial: str, day: dt.date) -> None:
    for finding in review_entry(svc, trial, day):
        if finding.urgent:
            console.print(
                Panel(
                    f"{finding.message}\n\nYour clinician has been flagged. Source: {finding.source}",
                    title="STOP and seek care",
                    style="bold red",
                )
            )
        else:
            console.print(f"[yellow]{finding.level.value}:[/] {finding.message}")


@audit_app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Recompute the whole hash chain; name the first row edited, deleted or reordered."""
    check = open_service(ctx).verify_audit()
    if check.ok:
        console.print(f"Audit chain intact: {check.events} events, head {check.head_hash}")
        return
    console.print(f"[bold red]Audit chain broken:[/] {check.problem}")
    raise typer.Exit(2)


@audit_app.command("show")
def audit_show(ctx: typer.Context, trial: str) -> None:
    """A trial's audit events (allocation details sealed for blinded viewers)."""
    table = Table("#", "when (UTC)", "who", "role", "action", "what", "why")
    for e in open_service(ctx).audit_trail(trial):
        table.add_row(str(e.seq), e.at[:19], e.actor, e.role, e.action, e.entity_id, e.reason)
    console.print(table)
