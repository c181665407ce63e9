"""Shared CLI plumbing: the global options, opening the database, and a console."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from dataclasses import dataclass

import typer
from rich.console import Console

from magtrial.errors import ValidationError
from magtrial.service import Actor, Role, TrialService
from magtrial.settings import Settings
from magtrial.store.db import Database

console = Console(soft_wrap=True)
err_console = Console(stderr=True)


@dataclass
class CliState:
    database_url: str | None = None
    user: str | None = None
    role: str | None = None

    def settings(self) -> Settings:
        settings = Settings()
        if self.database_url:
            settings = settings.model_copy(update={"database_url": self.database_url})
        return settings

    def actor(self) -> Actor:
        name = self.user or os.environ.get("MAGTRIAL_USER") or getpass.getuser()
        return Actor(name, Role(self.role) if self.role in {r.value for r in Role} else self.role or Role.CLINICIAN)


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


def open_database(ctx: typer.Context) -> Database:
    """Open (creating and migrating if needed) the configured database."""
    db = Database(state(ctx).settings().url)
    ctx.find_root().call_on_close(db.dispose)  # close pooled connections when the command ends
    db.migrate()
    return db


def open_service(ctx: typer.Context, role: Role | None = None) -> TrialService:
    actor = state(ctx).actor()
    if role is not None and state(ctx).role is None:
        actor = Actor(actor.name, role)
    return TrialService(open_database(ctx), actor)
