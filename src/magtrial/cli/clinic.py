"""CLI: co-interventions and clinic measurements: thin commands over ``service.clinic``."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from magtrial.cli.common import console, open_context, parse_date
from magtrial.core.clinic import MEASUREMENT_ITEMS, CoInterventionKind
from magtrial.errors import ValidationError

cointervention_app = typer.Typer(
    no_args_is_help=True, help="Co-interventions: medication changes, rescue medicine, clinic treatments (IV Mg)."
)
measurement_app = typer.Typer(no_args_is_help=True, help="Clinic measurements at period-end visits.")
KINDS = ", ".join(k.value for k in CoInterventionKind)


@cointervention_app.command("add")
def cointervention_add(
    ctx: typer.Context,
    trial: str,
    kind: str = typer.Option(..., "--kind", help=f"One of {KINDS}."),
    description: str = typer.Option(..., "--what", help="What was given or changed, e.g. 'pregabalin to 150 mg'."),
    date: str = typer.Option(..., "--date", help="Day given (YYYY-MM-DD)."),
    until: str | None = typer.Option(None, "--until", help="Last day of a course (default: the same day)."),
    dose: str = typer.Option("", "--dose", help="Dose; IV magnesium as grams of MgSO4.7H2O ('1 g') or '4 mmol'."),
    given_by: str = typer.Option("", "--given-by", help="Who gave it (default: you)."),
) -> None:
    """Record a co-intervention (clinicians); IV magnesium is added to the day's safety total."""
    from magtrial.service import clinic

    c = open_context(ctx)
    day = parse_date(date, "--date")
    if day is None:
        raise ValidationError("--date is required")
    item = clinic.add_co_intervention(
        c, trial, day, kind, description, dose=dose, given_by=given_by, last_day=parse_date(until, "--until")
    )
    console.print(
        f"Recorded {item.kind.value} on {item.day}{'' if item.last_day == item.day else f' to {item.last_day}'}."
    )
    if item.elemental_mg:
        total = clinic.magnesium_on(c, trial, item.day)
        console.print(
            f"Magnesium on {item.day}: {total.oral_mg:g} mg by mouth (the trial dose, counted every day) + "
            f"{total.iv_mg:g} mg IV = {total.total_mg:g} mg elemental."
        )


@cointervention_app.command("list")
def cointervention_list(ctx: typer.Context, trial: str) -> None:
    """The trial's co-interventions, in date order."""
    from magtrial.service import clinic

    c = open_context(ctx)
    table = Table("from", "to", "kind", "what", "dose", "Mg mg/day", "given by")
    for i in clinic.co_interventions(c, trial):
        mg = f"{i.elemental_mg:g}" if i.elemental_mg else ""
        table.add_row(
            str(i.day), str(i.last_day), i.kind.value, escape(i.description), escape(i.dose), mg, escape(i.given_by)
        )
    console.print(table)


@measurement_app.command("add")
def measurement_add(
    ctx: typer.Context,
    trial: str,
    item: str = typer.Option(..., "--item", help=f"One of {', '.join(MEASUREMENT_ITEMS)}."),
    date: str = typer.Option(..., "--date", help="Visit day (YYYY-MM-DD)."),
    value: float | None = typer.Option(None, "--value", help="Degrees, or the affected area in cm2."),
    present: bool | None = typer.Option(None, "--present/--absent", help="For brush and pinprick examinations."),
    note: str = "",
) -> None:
    """Record one clinic measurement (clinicians)."""
    from magtrial.service import clinic

    c = open_context(ctx)
    day = parse_date(date, "--date")
    if day is None:
        raise ValidationError("--date is required")
    m = clinic.add_measurement(c, trial, day, item, value, present, note)
    console.print(f"Recorded {m.spec.label} on {m.day}: {m.shown}.")


@measurement_app.command("list")
def measurement_list(ctx: typer.Context, trial: str) -> None:
    """The trial's clinic measurements, with the period (pack) of each visit."""
    from magtrial.service import clinic

    c = open_context(ctx)
    rows = clinic.measurements(c, trial)
    schedule = clinic.schedule_of(c, trial)
    table = Table("date", "period (pack)", "measurement", "result", "note")
    for m in rows:
        period = schedule.day(m.day).period if schedule.start <= m.day <= schedule.end else None
        table.add_row(str(m.day), str(period or "run-in"), m.spec.label, m.shown, escape(m.note))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(cointervention_app, name="cointervention")
    app.add_typer(measurement_app, name="measurement")
