"""CLI commands: init, trial ..., diary ..., audit ..., demo (filled in by the trial-engine work)."""

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
