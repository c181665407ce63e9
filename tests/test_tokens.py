"""Personal access tokens: ``magtrial token create/list/revoke`` and the service under it."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from magtrial.cli import tokens as tokens_cli
from magtrial.cli.common import CliState
from magtrial.service import accounts, tokens
from magtrial.service.tokens import Unauthenticated
from magtrial.store.db import Database


@pytest.fixture
def token_cli(sqlite_db: Database, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """``magtrial token ...`` on its own root, acting as dr-lee on a fresh SQLite file."""
    accounts.bootstrap(sqlite_db, "dr-lee")
    for name in ("MAGTRIAL_PASSWORD", "MAGTRIAL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    app = typer.Typer()

    @app.callback()
    def root(ctx: typer.Context) -> None:
        ctx.obj = CliState(database_url=sqlite_db.url, user="dr-lee")

    tokens_cli.register(app)
    runner = CliRunner()

    def invoke(*args: str) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    return invoke


def test_token_create_prints_the_secret_once_and_revoke_ends_it(sqlite_db, token_cli):
    out = token_cli("token", "create", "phone app", "--days", "30")
    secret = re.search(r"mt_[A-Za-z0-9_-]{43}", out).group(0)
    token_id = re.search(r"tok-[0-9a-f]{12}", out).group(0)
    assert tokens.actor_for_token(sqlite_db, secret).name == "dr-lee"
    listed = token_cli("token", "list")
    assert token_id in listed and "phone app" in listed and "active" in listed and secret not in listed
    assert f"Revoked {token_id}" in token_cli("token", "revoke", token_id, "--reason", "lost phone")
    assert "revoked" in token_cli("token", "list")
    with pytest.raises(Unauthenticated, match="revoked"):
        tokens.actor_for_token(sqlite_db, secret)


def test_unknown_and_malformed_secrets_are_unauthenticated(sqlite_db):
    accounts.bootstrap(sqlite_db, "dr-lee")
    for secret in ("", "mt_", "mt_" + "a" * 43, "ghp_abc", "mt_" + "a" * 300):
        with pytest.raises(Unauthenticated):
            tokens.actor_for_token(sqlite_db, secret)
