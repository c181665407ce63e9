"""CLI: diary add/correct/void/list/approve-late and audit head/verify/show: thin commands over the services."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.panel import Panel
from rich.table import Table

from magtrial.cli.common import console, open_context, parse_date
from magtrial.core.diary_vocabulary import SIDE_EFFECTS
from magtrial.errors import ValidationError

if TYPE_CHECKING:  # services (SQLAlchemy) and diary models (pydantic) load inside the commands (issue 13)
    from magtrial.core.diary import DiaryValues
    from magtrial.service.diary import EntryResult

diary_app = typer.Typer(no_args_is_help=True, help="Daily diary: add, correct, void, list (append-only).")
audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit trail.")


def register(app: typer.Typer) -> None:
    app.add_typer(diary_app, name="diary")
    app.add_typer(audit_app, name="audit")


def _values(
    avg: int,
    worst: int | None,
    sleep: int,
    dose: str,
    side_effect: list[str],
    other: str,
    rescue: str,
    note: str,
    touch: str | None = None,
    temperature: str | None = None,
) -> DiaryValues:
    from magtrial.core.diary import DiaryValues, DoseTaken

    try:
        dose_taken = DoseTaken(dose)
    except ValueError:
        raise ValidationError(f"--dose must be full, partial or none; got {dose!r}") from None
    optional = {"touch_pain": touch, "temperature_pain": temperature}  # none, mild, moderate or severe
    return DiaryValues.from_dict(
        {
            "average_pain": avg,
            "worst_pain": avg if worst is None else worst,
            "sleep_interference": sleep,
            "dose_taken": dose_taken,
            "side_effects": frozenset(side_effect),
            "side_effect_other": other,
            "rescue_medication": rescue,
            "note": note,
            **{k: v for k, v in optional.items() if v is not None},
        }
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
    touch: str | None = typer.Option(
        None, "--touch", help="Optional: pain from light touch (none/mild/moderate/severe)."
    ),
    temperature: str | None = typer.Option(
        None, "--temperature", help="Optional: pain from cold or warmth (none/mild/moderate/severe)."
    ),
) -> None:
    """Record a day's diary (one current entry per day); prints a receipt (the audit head)."""
    from magtrial.service import diary

    c = open_context(ctx)
    day = parse_date(date) or diary.today(c, trial)
    result = diary.add_entry(
        c, trial, day, _values(avg, worst, sleep, dose, side_effect, other, rescue, note, touch, temperature)
    )
    console.print(f"Saved {day}{' (flagged late)' if result.version.late else ''}. Receipt: {result.receipt}")
    _print_alerts(result)


@diary_app.command("correct")
def diary_correct(
    ctx: typer.Context,
    trial: str,
    date: str | None = typer.Option(None, help="Day to correct (default today)."),
    reason: str = typer.Option(..., help="Why the entry changes."),
    avg: int | None = typer.Option(None, "--avg", help="Average pain, 0-10."),
    worst: int | None = typer.Option(None, "--worst", help="Worst pain, 0-10."),
    sleep: int | None = typer.Option(None, "--sleep", help="Sleep interference, 0-10."),
    dose: str | None = typer.Option(None, "--dose", help="full, partial or none."),
    side_effect: list[str] | None = typer.Option(None, "--side-effect", help="Repeatable; replaces the list."),
    no_side_effects: bool = typer.Option(False, "--no-side-effects", help="Clear the side effects."),
    other: str | None = None,
    rescue: str | None = None,
    note: str | None = None,
) -> None:
    """Correct a day: only the values you give change; a new version with a reason, the old one kept."""
    from magtrial.service import diary

    c = open_context(ctx)
    changes = {
        "average_pain": avg,
        "worst_pain": worst,
        "sleep_interference": sleep,
        "dose_taken": dose,
        "side_effects": [] if no_side_effects else side_effect or None,
        "side_effect_other": other,
        "rescue_medication": rescue,
        "note": note,
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    day = parse_date(date) or diary.today(c, trial)
    result = diary.correct_entry(c, trial, day, changes, reason)
    console.print(f"Corrected {day} (version {result.version.version}). Receipt: {result.receipt}")
    _print_alerts(result)


@diary_app.command("void")
def diary_void(
    ctx: typer.Context,
    trial: str,
    date: str | None = typer.Option(None, help="Day to void (default today)."),
    reason: str = typer.Option(...),
) -> None:
    """Mark a day's entry as entered in error (kept in the history)."""
    from magtrial.service import diary

    c = open_context(ctx)
    day = parse_date(date) or diary.today(c, trial)
    result = diary.void_entry(c, trial, day, reason)
    console.print(f"Voided {day} (version {result.version.version}, entered in error). Receipt: {result.receipt}")


@diary_app.command("list")
def diary_list(ctx: typer.Context, trial: str, history: bool = typer.Option(False, help="Show every version.")) -> None:
    """Current entries (or the full version history)."""
    from magtrial.service import trials

    rec = trials.record(open_context(ctx), trial)
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


@diary_app.command("approve-late")
def diary_approve_late(
    ctx: typer.Context,
    trial: str,
    date: str = typer.Option(..., "--date", help="The missed day (YYYY-MM-DD)."),
    reason: str = typer.Option(..., "--reason", help="Why it is entered late; kept with the entry."),
) -> None:
    """Allow a diary day older than the protocol's late window to be entered once (clinicians)."""
    from magtrial.service import clinic

    c = open_context(ctx)
    day = parse_date(date, "--date")
    if day is None:
        raise ValidationError("--date is required")
    approval = clinic.approve_late_entry(c, trial, day, reason)
    console.print(f"Late entry for {approval.day} approved; it will be flagged late with your reason.")


def _print_alerts(result: EntryResult) -> None:
    for finding in result.findings:
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


@audit_app.command("head")
def audit_head(ctx: typer.Context) -> None:
    """Print the current head (SEQ:HASH): keep it, and `audit verify --expect-head` proves nothing was rewritten."""
    from magtrial.service import audit

    console.print(str(audit.head(open_context(ctx))))


@audit_app.command("verify")
def audit_verify(
    ctx: typer.Context,
    expect_head: str | None = typer.Option(None, help="A head kept earlier (SEQ:HASH from a receipt or report)."),
) -> None:
    """Check the hash chain, a kept head, and that the tables still say what the audit events say."""
    from magtrial.service import audit

    report = audit.verify(open_context(ctx), expect_head)
    if report.ok:
        anchored = f"; it holds the kept head {expect_head.split(':')[0]}" if expect_head else ""
        console.print(
            f"Audit chain intact: {report.events} events, head {report.head}{anchored}; tables match the audit trail."
        )
        if report.legacy_clear_allocations:
            console.print(
                f"[yellow]Note:[/] {report.legacy_clear_allocations} blinded trial(s) were created before "
                "allocations were encrypted; their allocation is readable by whoever holds this file."
            )
        return
    console.print(f"[bold red]Audit check failed:[/] {report.problem}")
    raise typer.Exit(2)


@audit_app.command("show")
def audit_show(ctx: typer.Context, trial: str) -> None:
    """A trial's audit events (allocation details sealed for blinded viewers)."""
    from magtrial.service import audit

    table = Table("#", "when (UTC)", "who", "role", "action", "what", "why")
    for e in audit.trail(open_context(ctx), trial):
        table.add_row(str(e.seq), e.at[:19], e.actor, e.role, e.action, e.entity_id, e.reason)
    console.print(table)
