"""CLI: consent set/show/sign/copy and trial withdraw; each parses input and calls one service function."""

from __future__ import annotations

from pathlib import Path

import typer

from magtrial.cli.common import console, open_context
from magtrial.errors import ValidationError

consent_app = typer.Typer(no_args_is_help=True, help="Versioned consent text, the participant's signature.")


def register(app: typer.Typer) -> None:
    from magtrial.cli.trials import trial_app

    app.add_typer(consent_app, name="consent")
    trial_app.command("withdraw")(withdraw)


@consent_app.command("set")
def consent_set(
    ctx: typer.Context,
    trial: str,
    file: Path = typer.Option(..., "--file", help="The consent text (UTF-8; blank lines separate paragraphs)."),
) -> None:
    """(Clinician) a new consent version; the participant must sign it before further diary entries."""
    from magtrial.service import consent

    try:
        text = file.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read {file}: {exc}") from None
    version = consent.set_text(open_context(ctx), trial, text)
    console.print(f"Consent version {version} set for trial {trial}; the participant signs it before more entries.")


@consent_app.command("show")
def consent_show(ctx: typer.Context, trial: str) -> None:
    """The current consent text and whether it is signed."""
    from magtrial.service import consent

    view = consent.show(open_context(ctx), trial)
    if view.version is None:
        console.print(f"Trial {trial} has no consent text (no signature needed).")
        return
    console.print(f"Consent version {view.version} of trial {trial}:\n", highlight=False)
    console.print(view.text, markup=False, highlight=False)
    if view.signed_at:
        console.print(f"\nSigned {view.signed_at:%Y-%m-%d %H:%M} UTC.")
    else:
        console.print(f'\nNot signed yet: `magtrial consent sign {trial} --version {view.version} --name "..."`.')


@consent_app.command("sign")
def consent_sign(
    ctx: typer.Context,
    trial: str,
    version: int = typer.Option(..., "--version", help="The version you read (`consent show`)."),
    name: str = typer.Option(..., "--name", help="Your full name, typed: your signature."),
) -> None:
    """(Participant) sign the consent version you read, with your typed name."""
    from magtrial.core.consent import MEANING
    from magtrial.service import consent

    digest = consent.sign(open_context(ctx), trial, version, name)
    console.print(f"Signed consent version {version}: {MEANING}", highlight=False)
    console.print(f"Frozen copy stored, SHA-256 {digest}.")


@consent_app.command("copy")
def consent_copy(
    ctx: typer.Context,
    trial: str,
    output: Path = typer.Option(..., "-o", "--output", help="File to write (.html or .pdf)."),
    version: int | None = typer.Option(None, "--version", help="Default: the latest signed version."),
) -> None:
    """The frozen copy of what was signed, as stored (HTML) or laid out as PDF."""
    from magtrial.service import consent

    fmt = "pdf" if output.suffix.lower() == ".pdf" else "html"
    output.write_bytes(consent.frozen_copy(open_context(ctx), trial, version, fmt))
    console.print(f"Wrote {output}")


def withdraw(
    ctx: typer.Context,
    trial: str,
    keep_data: bool = typer.Option(False, "--keep-data", help="Keep what was entered, for analysis."),
    erase: bool = typer.Option(False, "--erase", help="Erase the participant's data (cannot be undone)."),
    reason: str = typer.Option("", "--reason", help="Optional."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation of an erasure."),
) -> None:
    """Withdraw the participant: --keep-data or --erase (the diary closes either way)."""
    from magtrial.service import withdrawal

    if keep_data == erase:
        raise ValidationError("choose one: --keep-data (keep what was entered for analysis) or --erase")
    if erase and not yes:
        typer.confirm(f"Erase the participant's data in trial {trial}? This cannot be undone", abort=True)
    result = withdrawal.withdraw(open_context(ctx), trial, "erase" if erase else "keep", reason)
    if erase:
        rows = ", ".join(f"{n} {t}" for t, n in sorted(result.deleted_rows.items())) or "no rows"
        console.print(
            f"Withdrawn and erased: {rows} deleted, {result.erased_events} audit events tombstoned "
            f"(the chain still verifies). Receipt {result.receipt}",
            highlight=False,
        )
        if not result.scrubbed:
            console.print(
                "Note: the database was busy, so erased bytes may stay in its free pages until it is vacuumed "
                "(stop other magtrial processes, then run: sqlite3 FILE VACUUM)."
            )
    else:
        console.print(f"Withdrawn; the data is kept for analysis (trial {result.status}). Receipt {result.receipt}")
