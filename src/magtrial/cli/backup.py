"""CLI: ``magtrial backup -o FILE`` and ``magtrial restore FILE``: verified copies of the whole database."""

from __future__ import annotations

from pathlib import Path

import typer

from magtrial.cli.common import console, open_context, open_database, secret, state


def register(app: typer.Typer) -> None:
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)


def backup_command(
    ctx: typer.Context,
    output: Path = typer.Option(
        ..., "-o", "--output", help="The backup file (a manifest FILE.manifest.json is written beside it)."
    ),
) -> None:
    """Back up the database (SQLite online backup, or pg_dump), then verify the copy; clinicians only."""
    from magtrial.service import backup

    manifest = backup.backup(open_context(ctx), output)
    rows = sum(manifest.row_counts.values())
    console.print(
        f"Backed up to {output} ({manifest.format}): {manifest.events} audit events, {rows} rows; "
        f"verified. Audit head {manifest.head}"
    )


def restore_command(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="A backup file made by `magtrial backup` (its manifest beside it)."),
    force: bool = typer.Option(
        False,
        "--force",
        help="Restore even over a newer (or diverging) database: the events after the backup are lost.",
    ),
    reason: str = typer.Option("", "--reason", help="Why (kept in the audit trail)."),
) -> None:
    """Replace the database with a verified backup, verify the result; clinicians only, audited."""
    from magtrial.service import accounts, backup

    db = open_database(ctx)
    name = state(ctx).user_name()
    password = None
    if accounts.count_accounts(db) and accounts.has_password(db, name):
        password = secret(state(ctx).settings().password, f"Password for {name}")
    done = backup.restore(db, file, name, force=force, reason=reason, password=password)
    console.print(
        f"Restored {file} (audit head {done.manifest.head}, was {done.replaced_head}); the restored "
        f"database verifies. Audit head now {done.head}"
    )
