"""The ``magtrial`` command: wires sub-commands and maps every error to one line and a non-zero exit."""

from __future__ import annotations

import click
import sqlalchemy.exc
import typer
from typer.core import TyperGroup

from magtrial.errors import MagtrialError


class MagtrialGroup(TyperGroup):
    """Turns domain and database errors into ``Error: <reason>`` with exit 1, never a traceback."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except MagtrialError as exc:
            raise click.ClickException(str(exc)) from exc
        except sqlalchemy.exc.SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise click.ClickException(f"database error: {reason}") from exc
        except (OSError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc


app = typer.Typer(cls=MagtrialGroup, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Randomized, blinded N-of-1 trials of magnesium for neuropathic pain.")


def _register() -> None:
    # Each module adds its own commands; imported here so `magtrial --help` lists them all.
    from magtrial.cli import analysis, pooling, reports, safety, trials

    for module in (trials, safety, analysis, pooling, reports):
        module.register(app)


_register()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
