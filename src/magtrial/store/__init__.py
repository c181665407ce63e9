"""Persistence adapter: SQLAlchemy 2 models, Alembic migrations, the hash-chained audit trail.

SQLite (one file, WAL) by default; the same code runs on PostgreSQL given a database URL.
"""

from magtrial.store.db import Database

__all__ = ["Database"]
