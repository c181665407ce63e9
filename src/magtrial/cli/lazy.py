"""Lazy sub-commands: ``magtrial --help`` lists every command without importing its module (issue 13).

Each command module imports Typer option types and the pydantic core models it parses into, so importing all
of them cost most of a second before anything ran. The root group lists the names and one-line help below and
imports a command's modules only when that command (or its own ``--help``) runs. tests/test_cli_imports.py
checks that this table names exactly what the modules' ``register`` functions add, with the same help line.
"""

from __future__ import annotations

import importlib
from typing import NamedTuple

import click
import typer
from typer.core import TyperGroup
from typer.main import get_command_from_info, get_group_from_info

# trial_app gains ``protocol``/``timeline`` (amendments) and ``withdraw`` (consent): load the three together, in
# this order, so ``trial --help`` lists them as before.
_TRIAL = ("trials", "amendments", "consent")


class LazyCommand(NamedTuple):
    help: str  # the first paragraph of the command's help, as the root help lists it
    modules: tuple[str, ...]  # magtrial.cli modules whose ``register`` adds it (and what extends it), in order


COMMANDS: dict[str, LazyCommand] = {
    "serve": LazyCommand(
        "Run the web app (participant diary, clinician and pharmacist pages, JSON API) with uvicorn.", ("serve",)
    ),
    "init": LazyCommand(
        "Create (or upgrade) the database; in a new one, create the first account (a clinician).", ("accounts",)
    ),
    "demo": LazyCommand(
        "Run a complete simulated blinded trial (keys, sealed allocation, diary, unblinding) on the demo database.",
        ("trials",),
    ),
    "analyze": LazyCommand(
        "Analyse one trial: effect with 95% interval, probabilities, per-pack means, randomization test.",
        ("analysis",),
    ),
    "plan": LazyCommand(
        "Simulate a design: power and expected interval width for each number of cycles.", ("analysis",)
    ),
    "pool": LazyCommand(
        "Pool every unblinded trial: mean effect, between-person SD, responders, new-person prediction.",
        ("pooling",),
    ),
    "evidence": LazyCommand(
        "The published trials of magnesium for neuropathic pain, each row sourced; optional forest plot.",
        ("pooling",),
    ),
    "report": LazyCommand(
        "Write the clinician report (HTML or PDF): protocol, CENT items, charts, analysis, safety, evidence.",
        ("reports",),
    ),
    "export": LazyCommand(
        "Export the trial: FHIR R4 collection Bundle, tidy long CSV, or REDCap data file + dictionary.",
        ("reports",),
    ),
    "reminders": LazyCommand(
        "Write an iCalendar file with daily diary and dose reminders in the participant's time zone.",
        ("reports",),
    ),
    "backup": LazyCommand(
        "Back up the database (SQLite online backup, or pg_dump), then verify the copy; clinicians only.",
        ("backup",),
    ),
    "restore": LazyCommand(
        "Replace the database with a verified backup, verify the result; clinicians only, audited.", ("backup",)
    ),
    "user": LazyCommand("Accounts: each person acts as one, with one role.", ("accounts",)),
    "keys": LazyCommand("Unblinding keys: the pharmacist's and the clinic's emergency key.", ("accounts",)),
    "trial": LazyCommand("Create, inspect, unblind and verify trials.", _TRIAL),
    "diary": LazyCommand("Daily diary: add, correct, void, list (append-only).", ("diary",)),
    "audit": LazyCommand("The hash-chained audit trail.", ("diary",)),
    "safety": LazyCommand(
        "Magnesium safety: dose, kidneys, conditions, drug interactions and a dose timetable, "
        "each rule with its source.",
        ("safety",),
    ),
    "token": LazyCommand("Access tokens for the JSON API; each acts as your account.", ("tokens",)),
    "blinding": LazyCommand("The blinding check: which pack held magnesium, by guess.", ("stopping",)),
    "stopping": LazyCommand("Adaptive stopping: the protocol's rule after each cycle.", ("stopping",)),
    "cointervention": LazyCommand(
        "Co-interventions: medication changes, rescue medicine, clinic treatments (IV Mg).", ("clinic",)
    ),
    "measurement": LazyCommand("Clinic measurements at period-end visits.", ("clinic",)),
    "amendment": LazyCommand("Amend a running trial from its next period on.", _TRIAL),
    "consent": LazyCommand("Versioned consent text, the participant's signature.", _TRIAL),
}

# Every module with a ``register``; the order the eager app used (the drift test registers them all).
MODULES = (
    "serve",
    "accounts",
    "trials",
    "diary",
    "safety",
    "analysis",
    "pooling",
    "reports",
    "tokens",
    "backup",
    "stopping",
    "clinic",
    "amendments",
    "consent",
)

_loaded = typer.Typer()  # what the imported modules registered so far; each module registers once per process
_registered: set[str] = set()


def _register(module: str) -> None:
    if module not in _registered:
        importlib.import_module(f"magtrial.cli.{module}").register(_loaded)
        _registered.add(module)


def load(name: str, group: TyperGroup) -> click.Command | None:
    """Import the modules behind ``name`` and build its Click command like Typer would have."""
    for module in COMMANDS[name].modules:
        _register(module)
    for command_info in _loaded.registered_commands:
        if command_info.name == name:
            return get_command_from_info(
                command_info, pretty_exceptions_short=True, rich_markup_mode=group.rich_markup_mode
            )
    for group_info in _loaded.registered_groups:
        if group_info.name == name:
            return get_group_from_info(
                group_info,
                pretty_exceptions_short=True,
                rich_markup_mode=group.rich_markup_mode,
                suggest_commands=group.suggest_commands,
            )
    return None


class LazyGroup(TyperGroup):
    """Lists :data:`COMMANDS` from the table; imports a command's modules only when it is looked up to run."""

    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *COMMANDS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        if self._listing:  # the help page needs only the name and the one line
            return click.Command(cmd_name, help=COMMANDS[cmd_name].help)
        return load(cmd_name, self)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
