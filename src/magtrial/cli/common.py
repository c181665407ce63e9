"""Shared CLI plumbing: the global options, the acting account, unblinding keys, and a console."""

from __future__ import annotations

import datetime as dt
import getpass
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from magtrial.errors import ValidationError

if TYPE_CHECKING:  # imported inside the functions: `magtrial --help` loads no database or settings code
    from magtrial.service import Context
    from magtrial.settings import Settings
    from magtrial.store.db import Database

console = Console(soft_wrap=True)
err_console = Console(stderr=True)


@dataclass
class CliState:
    database_url: str | None = None
    user: str | None = None

    def settings(self) -> Settings:
        from magtrial.settings import Settings

        settings = Settings()
        if self.database_url:
            settings = settings.model_copy(update={"database_url": self.database_url})
        return settings

    def user_name(self) -> str:
        return self.user or self.settings().user or getpass.getuser()


def parse_date(value: str | None, what: str = "date") -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{what} must be YYYY-MM-DD, got {value!r}") from None


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def open_database(ctx: typer.Context, url: str | None = None) -> Database:
    """Open (creating and migrating if needed) the configured database."""
    from magtrial.store.db import Database

    db = Database(url or state(ctx).settings().url)
    ctx.find_root().call_on_close(db.dispose)  # close pooled connections when the command ends
    db.migrate()
    return db


def secret(value, prompt: str, confirm: bool = False) -> str:
    """A password or passphrase from the environment (scripts) or a hidden prompt (people)."""
    if value is not None:
        return value.get_secret_value()
    return typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)


def open_context(ctx: typer.Context) -> Context:
    """Act as the configured account (``--user``/``MAGTRIAL_USER``, default your login name)."""
    from magtrial.service import Context, accounts

    db = open_database(ctx)
    name = state(ctx).user_name()
    password = None
    if accounts.has_password(db, name):
        password = secret(state(ctx).settings().password, f"Password for {name}")
    return Context(db, accounts.actor_for(db, name, password))


def unlock_key(ctx: typer.Context, path: Path):
    """Open an unblinding key file with its passphrase (``MAGTRIAL_KEY_PASSPHRASE`` or a prompt)."""
    from magtrial import crypto

    crypto.read_public(path)  # a clear error for a missing or foreign file before asking anything
    return crypto.unlock(path, secret(state(ctx).settings().key_passphrase, f"Passphrase for {path}"))


KEY_OPTION = typer.Option(..., "--key", help="Unblinding key file (passphrase: prompt or MAGTRIAL_KEY_PASSPHRASE).")
