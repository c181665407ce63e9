"""CLI: ``init``, ``user add/list/passwd`` and ``keys create/register/list``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from magtrial.cli.common import console, open_context, open_database, secret, state

user_app = typer.Typer(no_args_is_help=True, help="Accounts: each person acts as one, with one role.")
keys_app = typer.Typer(no_args_is_help=True, help="Unblinding keys: the pharmacist's and the clinic's emergency key.")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(user_app, name="user")
    app.add_typer(keys_app, name="keys")


def init(
    ctx: typer.Context,
    password: bool = typer.Option(False, "--password", help="Protect the first account with a password."),
) -> None:
    """Create (or upgrade) the database; in a new one, create the first account (a clinician)."""
    from magtrial.service import accounts

    db = open_database(ctx)
    console.print(f"Database ready: [bold]{db.engine.url.render_as_string(hide_password=True)}[/]")
    if accounts.count_accounts(db) == 0:
        name = state(ctx).user_name()
        pw = secret(state(ctx).settings().password, f"New password for {name}", confirm=True) if password else None
        accounts.bootstrap(db, name, pw)
        console.print(f"First account: [bold]{name}[/] (clinician). Add others with `magtrial user add`.")


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Account name (a pseudonym for participants)."),
    role: str = typer.Option(..., "--role", help="patient, clinician or pharmacist."),
    password: bool = typer.Option(False, "--password", help="Set a password now (prompt or MAGTRIAL_PASSWORD)."),
) -> None:
    """Add an account (clinicians only)."""
    from magtrial.service import accounts

    c = open_context(ctx)
    pw = secret(state(ctx).settings().password, f"New password for {name}", confirm=True) if password else None
    account = accounts.add_account(c, name, role, pw)
    console.print(f"Added {account.name} ({account.role.value}).")


@user_app.command("list")
def user_list(ctx: typer.Context) -> None:
    """Accounts in this database (clinicians only)."""
    from magtrial.service import accounts

    table = Table("account", "role", "password", "active")
    for a in accounts.list_accounts(open_context(ctx)):
        table.add_row(a.name, a.role.value, "yes" if a.has_password else "no", "yes" if a.active else "no")
    console.print(table)


@user_app.command("passwd")
def user_passwd(ctx: typer.Context, name: str = typer.Argument(None, help="Account (default: yourself).")) -> None:
    """Set a password: your own, or a participant's (clinicians)."""
    from magtrial.service import accounts

    c = open_context(ctx)
    target = name or c.actor.name
    accounts.set_password(c, target, secret(None, f"New password for {target}", confirm=True))
    console.print(f"Password set for {target}.")


@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    purpose: str = typer.Option(..., "--purpose", help="pharmacist (you prepare packs) or emergency (the clinic)."),
    output: Path = typer.Option(..., "--output", "-o", help="Private key file to write (never overwritten)."),
) -> None:
    """Create an unblinding key pair: the private key to a passphrase-protected file, the public key registered."""
    from magtrial.service import keys

    c = open_context(ctx)
    passphrase = secret(state(ctx).settings().key_passphrase, f"Passphrase for the new key {output}", confirm=True)
    key = keys.create_key(c, purpose, output, passphrase)
    console.print(
        f"Created {purpose} key {key.short} for {key.owner}: private key in [bold]{output}[/] "
        "(keep it and its passphrase away from this database)."
    )


@keys_app.command("register")
def keys_register(ctx: typer.Context, file: Path = typer.Argument(..., help="A key file made elsewhere.")) -> None:
    """Register the public half of a key file (no passphrase needed)."""
    from magtrial import crypto
    from magtrial.service import keys

    key = keys.register_key(open_context(ctx), crypto.read_public(file))
    console.print(f"Registered {key.purpose} key {key.short} of {key.owner}.")


@keys_app.command("list")
def keys_list(ctx: typer.Context) -> None:
    """Registered unblinding keys (public halves only)."""
    from magtrial.service import keys

    table = Table("fingerprint", "purpose", "owner", "active")
    for k in keys.list_keys(open_context(ctx)):
        table.add_row(k.short, k.purpose, k.owner, "yes" if k.active else "no")
    console.print(table)
