"""CLI: ``magtrial token create/list/revoke``: personal access tokens for the JSON API."""

from __future__ import annotations

import typer
from rich.table import Table

from magtrial.cli.common import console, open_context

token_app = typer.Typer(no_args_is_help=True, help="Access tokens for the JSON API; each acts as your account.")


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="What the token is for, e.g. 'phone app'."),
    days: int = typer.Option(90, "--days", help="Days until it expires (1-366)."),
) -> None:
    """Make a token acting as your account; its secret is printed once and stored only as a hash."""
    from magtrial.service import tokens

    c = open_context(ctx)
    made = tokens.create_token(c, name, days)
    console.print(
        f"Token {made.token_id} ({name}) for {c.actor.name}, valid {days} days. Keep this secret; "
        "it is not shown again:"
    )
    console.print(made.secret, soft_wrap=True, highlight=False)
    console.print("Use it as: Authorization: Bearer <secret>")


@token_app.command("list")
def token_list(ctx: typer.Context) -> None:
    """Your tokens (never their secrets): active, expired or revoked."""
    from magtrial.service import tokens
    from magtrial.service.context import utcnow

    table = Table("token", "name", "created", "expires", "state")
    now = utcnow()
    for t in tokens.list_tokens(open_context(ctx)):
        table.add_row(t.id, t.name, f"{t.created_at:%Y-%m-%d}", f"{t.expires_at:%Y-%m-%d}", t.state(now))
    console.print(table)


@token_app.command("revoke")
def token_revoke(
    ctx: typer.Context,
    token_id: str = typer.Argument(..., help="The token id (tok-...), from `magtrial token list`."),
    reason: str = typer.Option("", "--reason", help="Why (kept in the audit trail)."),
) -> None:
    """Revoke one of your tokens; requests with it fail from now on."""
    from magtrial.service import tokens

    t = tokens.revoke_token(open_context(ctx), token_id, reason)
    console.print(f"Revoked {t.id} ({t.name}).")
