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
    from magtrial.service import trials

    db.migrate()
    assert trials.record(clinician, running_trial.trial_id).commitment == running_trial.commitment


def test_a_0001_database_upgrades_revealing_only_unblinded_allocations(tmp_path):
    """Trials made before encryption: unblinded ones keep their revealed allocation, blinded ones stay legacy."""
    from alembic import command

    from magtrial.store.db import alembic_config

    db = Database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    config = alembic_config(db.engine)
    command.upgrade(config, "0001")
    with db.engine.begin() as conn:
        for tid, status in (("mt-old1", "unblinded"), ("mt-old2", "active")):
            conn.execute(
                text(
                    "INSERT INTO trials (id, participant, protocol, start_date, status, commitment, "
                    "created_at, created_by, flags) VALUES (:t, 'P', '{}', '2026-01-05', :s, 'c', "
                    "'2026-01-01 00:00:00', 'dr-old', '[]')"
                ),
                {"t": tid, "s": status},
            )
            conn.execute(
                text(
                    "INSERT INTO sealed_allocations (trial_id, design, sequence, salt) "
                    "VALUES (:t, 'paired', 'magnesium,comparator', 'ab')"
                ),
                {"t": tid},
            )
    db.migrate()
    with db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT trial_id, revealed_sequence, legacy_sequence FROM sealed_allocations ORDER BY trial_id")
        ).all()
        clinician = conn.execute(text("SELECT clinician FROM trials WHERE id = 'mt-old1'")).scalar()
    assert rows == [("mt-old1", "magnesium,comparator", None), ("mt-old2", None, "magnesium,comparator")]
    assert clinician == "dr-old"
    db.dispose()


def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(sqlite_db: Database):
    with sqlite_db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_foreign_keys_are_enforced(sqlite_db: Database):
    import pytest
    import sqlalchemy.exc

    with pytest.raises(sqlalchemy.exc.IntegrityError), sqlite_db.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO sealed_allocations (trial_id, design, sealed) VALUES ('mt-none', 'paired', '{}')")
        )


def test_settings_default_to_a_sqlite_file_in_the_data_dir(tmp_path, monkeypatch):
    from magtrial.settings import Settings

    monkeypatch.delenv("MAGTRIAL_DATABASE_URL", raising=False)
    monkeypatch.setenv("MAGTRIAL_DATA_DIR", str(tmp_path))
    assert Settings().url == f"sqlite:///{tmp_path / 'magtrial.sqlite3'}"
    monkeypatch.setenv("MAGTRIAL_DATABASE_URL", "postgresql://u@h/db")
    assert Settings().url == "postgresql://u@h/db"
