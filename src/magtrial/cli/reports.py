"""CLI: ``report``, ``export`` and ``reminders`` for one trial, each a thin loop over the adapters.

The record comes from the trial service as the current user may see it, so a blinded user gets a
blinded report or export without anything here deciding it.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path

import typer

from magtrial.cli.common import console, err_console, open_context, state
from magtrial.errors import ValidationError


class ReportFormat(StrEnum):
    HTML = "html"
    PDF = "pdf"


class ExportFormat(StrEnum):
    FHIR = "fhir"
    CSV = "csv"
    REDCAP = "redcap"


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("report")(report)
    app.command("export")(export)
    app.command("reminders")(reminders)


def report(
    ctx: typer.Context,
    trial: str = typer.Argument(..., help="Trial id."),
    fmt: ReportFormat = typer.Option(ReportFormat.HTML, "--format", "-F", help="html or pdf."),
    output: Path = typer.Option(..., "--output", "-o", help="File to write."),
    outcome: str | None = typer.Option(None, help="Outcome analysed (default: the protocol's primary outcome)."),
    mcid: str = typer.Option("1", help="Smallest worthwhile difference in points, or '30%-run-in'."),
    with_evidence: bool = typer.Option(
        True, "--evidence/--no-evidence", help="Add published trials and the pooled N-of-1 estimate of this database."
    ),
) -> None:
    """Write the clinician report (HTML or PDF): protocol, CENT items, charts, analysis, safety, evidence."""
    lay_out = None
    if fmt is ReportFormat.PDF:  # WeasyPrint loads in a process of its own meanwhile (report/pdf_process.py)
        from magtrial.report.pdf_process import PdfProcess

        lay_out = PdfProcess()
        ctx.call_on_close(lay_out.close)
    from magtrial.core.analysis import analyze
    from magtrial.plots.chart_cache import chart_folder
    from magtrial.report.build import record_safety
    from magtrial.report.render import write_report
    from magtrial.service import trials

    c = open_context(ctx)
    record = trials.record(c, trial)
    analysis = None
    if not record.blinded:  # before unblinding a report compares nothing (completeness, adherence, safety)
        try:
            analysis = analyze(record, outcome, mcid=mcid)
        except ValidationError as exc:  # too few diary days: the report still renders, without the estimate
            err_console.print(f"Note: no effect estimate in this report ({exc}).")
    evidence = pooled = None
    cache = state(ctx).settings().resolved_data_dir / "cache"  # kept between runs: pooled estimate, drawn charts
    if with_evidence:
        from magtrial.data.evidence import load_evidence
        from magtrial.report.evidence_cache import cached_pooled_estimate

        evidence = load_evidence()
        pooled = cached_pooled_estimate(c, outcome or record.protocol.primary_outcome, folder=cache)
    safety = record_safety(record)
    charts = chart_folder(cache, c.db.url)
    inputs = {"analysis": analysis, "safety": safety, "evidence": evidence, "pooled": pooled, "chart_cache": charts}
    path = write_report(record, output, fmt.value, lay_out, **inputs)
    blinded = " (blinded)" if record.blinded else ""
    console.print(f"Report{blinded} written to [bold]{path}[/] ({path.stat().st_size:,} bytes)")


def export(
    ctx: typer.Context,
    trial: str = typer.Argument(..., help="Trial id."),
    fmt: ExportFormat = typer.Option(..., "--format", "-F", help="fhir (R4 Bundle JSON), csv (long) or redcap."),
    output: Path = typer.Option(..., "--output", "-o", help="File to write (a directory for redcap)."),
) -> None:
    """Export the trial: FHIR R4 collection Bundle, tidy long CSV, or REDCap data file + dictionary."""
    from magtrial.export.csv_long import write_long_csv
    from magtrial.export.fhir import write_fhir
    from magtrial.export.redcap import write_redcap
    from magtrial.service import trials

    record = trials.record(open_context(ctx), trial)
    if fmt is ExportFormat.FHIR:
        paths = [write_fhir(record, output)]
    elif fmt is ExportFormat.CSV:
        paths = [write_long_csv(record, output)]
    else:
        paths = list(write_redcap(record, output))
    for path in paths:
        console.print(f"Wrote [bold]{path}[/]")
    console.print(f"Audit head at export: {record.audit_head}")


def _time(value: str, what: str) -> dt.time:
    try:
        return dt.time.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{what} must be HH:MM, got {value!r}") from None


def reminders(
    ctx: typer.Context,
    trial: str = typer.Argument(..., help="Trial id."),
    output: Path = typer.Option(..., "--output", "-o", help="The .ics file to write."),
    diary_time: str = typer.Option("20:00", help="Local time of the daily diary reminder (HH:MM)."),
    dose_time: list[str] = typer.Option(
        None, "--dose-time", help="Dose time HH:MM (repeat); default: the safety timetable stored with the trial."
    ),
) -> None:
    """Write an iCalendar file with daily diary and dose reminders in the participant's time zone."""
    from magtrial.export.reminders import write_reminders
    from magtrial.service import trials

    record = trials.record(open_context(ctx), trial)
    doses = [_time(t, "--dose-time") for t in dose_time] if dose_time else None
    path = write_reminders(record, output, diary_time=_time(diary_time, "--diary-time"), dose_times=doses)
    console.print(f"Reminders written to [bold]{path}[/] (time zone {record.protocol.timezone})")
