"""Typed settings, read from the environment (``MAGTRIAL_*``) at call time, never at import."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """``MAGTRIAL_DATABASE_URL`` selects PostgreSQL (hosted); otherwise one SQLite file per user.

    ``user`` names the account a command acts as (default: your login name); its role comes from
    the account. ``password`` and ``key_passphrase`` let scripts answer the prompts.
    """

    model_config = SettingsConfigDict(env_prefix="MAGTRIAL_", extra="ignore")

    database_url: str | None = None
    data_dir: Path | None = None
    user: str | None = None
    password: SecretStr | None = None
    key_passphrase: SecretStr | None = None
    debug: bool = False

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir or Path(platformdirs.user_data_dir("magtrial", appauthor=False))

    @property
    def url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir / 'magtrial.sqlite3'}"

    @property
    def demo_url(self) -> str:
        """The demo's own database, so simulated trials never sit beside real ones."""
        return f"sqlite:///{self.resolved_data_dir / 'demo.sqlite3'}"
