"""The ``magtrial`` command: wires sub-commands and maps every error to one line and a non-zero exit."""

from __future__ import annotations

import sys

import click
import typer

from magtrial.cli.common import CliState
from magtrial.cli.lazy import LazyGroup
from magtrial.errors import MagtrialError


class MagtrialGroup(LazyGroup):
    """Turns domain and database errors into ``Error: <reason>`` with exit 1, never a traceback.

    Sub-commands load lazily (cli/lazy.py): ``magtrial --help`` imports none of the command modules (issue 13).
    """

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except MagtrialError as exc:
            _fail(str(exc))
        except (OSError, ValueError) as exc:
            _fail(str(exc))
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # a bug: still one line, unless MAGTRIAL_DEBUG asks for the traceback
            if _database_error(exc):
                _fail("database error: " + str(getattr(exc, "orig", None) or exc).splitlines()[0])
            from magtrial.settings import Settings

            if Settings().debug:
                raise
            _fail(f"internal error ({type(exc).__name__}: {exc}); set MAGTRIAL_DEBUG=1 for details and report it")


def _database_error(exc: Exception) -> bool:
    """A SQLAlchemy error, checked without importing SQLAlchemy (light commands never load it; issue 13)."""
    sa_exc = sys.modules.get("sqlalchemy.exc")
    return sa_exc is not None and isinstance(exc, sa_exc.SQLAlchemyError)


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    raise click.exceptions.Exit(1)


app = typer.Typer(
    cls=MagtrialGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Randomized, blinded N-of-1 trials of magnesium for neuropathic pain.",
)


@app.callback()
def _root(
    ctx: typer.Context,
    db: str | None = typer.Option(
        None,
        "--db",
        envvar="MAGTRIAL_DATABASE_URL",
        help="Database URL (default: one SQLite file in your data folder).",
    ),
    user: str | None = typer.Option(
        None,
        "--user",
        envvar="MAGTRIAL_USER",
        help="The account you act as (default: your login name); its role comes from the account.",
    ),
) -> None:
    ctx.obj = CliState(database_url=db, user=user)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
