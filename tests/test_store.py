"""Storage setup: migrations are the only schema path and match the models; SQLite is configured."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from magtrial.store.db import Database
from magtrial.store.models import Base


def test_migrations_produce_exactly_the_models_schema(db):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_migrate_is_idempotent_and_keeps_data(db, running_trial, clinician):
    db.migrate()
    assert clinician.record(running_trial.trial_id).commitment == running_trial.commitment


def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(sqlite_db: Database):
    with sqlite_db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_foreign_keys_are_enforced(sqlite_db: Database):
    import pytest
    import sqlalchemy.exc

    with pytest.raises(sqlalchemy.exc.IntegrityError), sqlite_db.engine.begin() as conn:
        conn.execute(text("INSERT INTO sealed_allocations (trial_id, design, sequence, salt) "
                          "VALUES ('mt-none', 'paired', 'magnesium', 'x')"))


def test_settings_default_to_a_sqlite_file_in_the_data_dir(tmp_path, monkeypatch):
    from magtrial.settings import Settings

    monkeypatch.delenv("MAGTRIAL_DATABASE_URL", raising=False)
    monkeypatch.setenv("MAGTRIAL_DATA_DIR", str(tmp_path))
    assert Settings().url == f"sqlite:///{tmp_path / 'magtrial.sqlite3'}"
    monkeypatch.setenv("MAGTRIAL_DATABASE_URL", "postgresql://u@h/db")
    assert Settings().url == "postgresql://u@h/db"
