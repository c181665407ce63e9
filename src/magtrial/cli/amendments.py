"""CLI: amendments of a running trial, the protocol document and the timeline diagram.

Each command parses input and calls one service or report function; services are imported inside
the commands so `magtrial --help` stays light.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import typer

from magtrial.cli.common import console, open_context
from magtrial.errors import ValidationError

amendment_app = typer.Typer(no_args_is_help=True, help="Amend a running trial from its next period on.")


def register(app: typer.Typer) -> None:
    from magtrial.cli.trials import trial_app

    app.add_typer(amendment_app, name="amendment")
    trial_app.command("protocol")(protocol)
    trial_app.command("timeline")(timeline)


def parse_changes(items: list[str], product: dict[str, Any]) -> dict[str, Any]:
    """``key=value`` pairs as TOML values; ``product.KEY=value`` changes one key of the product."""
    changes: dict[str, Any] = {}
    new_product = dict(product)
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValidationError(f"--set takes key=value, got {item!r}")
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text
        if key.startswith("product."):
            new_product[key.removeprefix("product.")] = value
        else:
            changes[key] = value
    if new_product != product:
        changes["product"] = new_product
    return changes


@amendment_app.command("add")
def add(
    ctx: typer.Context,
    trial: str,
    set_: list[str] = typer.Option(
        [], "--set", help="key=value from the next period on: period_days, washout_days, carryover_days, product.KEY."
    ),
    add_cycles: int = typer.Option(0, "--add-cycles", help="Cycles to add after the last period (new sealed order)."),
    reminder: list[str] = typer.Option([], "--reminder", help="Dose reminder time HH:MM, repeatable (replaces them)."),
    reason: str = typer.Option(..., help="Why the trial changes (audited)."),
    clinician_ack: bool = typer.Option(False, "--clinician-ack", help="Acknowledge 'needs clinician' findings."),
) -> None:
    """Clinician: amend a running trial from its next period on (past periods never change)."""
    from magtrial.service import amendments, trials

    c = open_context(ctx)
    product = trials.record(c, trial).protocol.to_dict()["product"]
    result = amendments.amend(
        c,
        trial,
        parse_changes(set_, product),
        reason,
        add_cycles=add_cycles,
        reminder_times=reminder or None,
        clinician_ack=clinician_ack,
    )
    where = f"from period {result.from_period}" if result.from_period else "reminders only"
    console.print(f"Amendment {result.number} of {trial}: protocol version {result.version}, {where}.")
    for key, (old, new) in sorted(result.changes.items()):
        console.print(f"  {key}: {old} -> {new}")
    if result.cycles_added:
        console.print(
            f"  Added {result.cycles_added} cycle(s) from period {result.first_added_period}; their order is sealed "
            f"to the trial's keys. Commitment {result.commitment}"
        )
    if result.safety_verdict:
        console.print(f"  Safety check of the amended regimen: {result.safety_verdict}")


@amendment_app.command("list")
def list_(ctx: typer.Context, trial: str) -> None:
    """A trial's amendments with reason, approver, version and what changed."""
    from rich.table import Table

    from magtrial.service import amendments

    table = Table("#", "at", "by", "version", "from period", "changes", "added cycles", "reason")
    for a in amendments.list_amendments(open_context(ctx), trial):
        table.add_row(
            str(a["number"]),
            a["at"],
            a["by"],
            str(a["version"]),
            str(a["from_period"] or "-"),
            a["changes"],
            str(a["cycles_added"] or "-"),
            a["reason"],
        )
    console.print(table)


def protocol(
    ctx: typer.Context,
    trial: str,
    pdf: Path | None = typer.Option(None, "--pdf", help="Write the protocol as PDF to this file."),
    html: Path | None = typer.Option(None, "--html", help="Write the protocol as HTML to this file."),
) -> None:
    """The trial's protocol, every SPENT 2019 item, from the trial record (never the allocation)."""
    from magtrial.report.protocol_doc import protocol_items, render_protocol_html, render_protocol_pdf
    from magtrial.service import trials

    record = trials.record(open_context(ctx), trial)
    if pdf:
        pdf.write_bytes(render_protocol_pdf(record))
        console.print(f"Wrote {pdf}")
    if html:
        html.write_text(render_protocol_html(record), encoding="utf-8")
        console.print(f"Wrote {html}")
    if not pdf and not html:
        for row in protocol_items(record):
            console.print(f"[bold]{row['item']} {row['topic']}[/]: {row['text']}", highlight=False)


def timeline(
    ctx: typer.Context,
    trial: str,
    output: Path = typer.Option(..., "--output", "-o", help="SVG file to write."),
) -> None:
    """The CENT timeline diagram (run-in, periods, washouts, packs; arms only after unblinding) as SVG."""
    from magtrial.report.timeline import timeline_markers, timeline_svg
    from magtrial.service import trials

    record = trials.record(open_context(ctx), trial)
    output.write_text(timeline_svg(record, timeline_markers(record)), encoding="utf-8")
    console.print(f"Wrote {output}")
