"""Typed settings: where the database is. Read from the environment at call time, never at import."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """``MAGTRIAL_DATABASE_URL`` selects PostgreSQL (hosted); otherwise one SQLite file per user."""

    model_config = SettingsConfigDict(env_prefix="MAGTRIAL_", extra="ignore")

    database_url: str | None = None
    data_dir: Path | None = None

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir or Path(platformdirs.user_data_dir("magtrial", appauthor=False))

    @property
    def url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir / 'magtrial.sqlite3'}"
