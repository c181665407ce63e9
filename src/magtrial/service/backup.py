"""Backup and restore of the whole database, each verified, for clinicians only, and audited.

A backup is one file plus a manifest beside it (``FILE.manifest.json``): the backup's format, the
audit head it holds (``SEQ:HASH``), the number of rows of every table, and the file's SHA-256.

- SQLite: the online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot
  while the server keeps writing; the manifest is read from the copy itself.
- PostgreSQL: ``pg_dump --format=custom`` of a snapshot exported from a REPEATABLE READ
  transaction, and the manifest's head and counts are read in that same transaction, so they
  describe exactly what the dump holds.

Verify (after a backup, and before and after a restore): the file's hash; on SQLite the copy's
audit chain walked and replayed against its tables (``service.audit.verify``), its head and row
counts equal to the manifest's. After a restore the restored database is verified the same way.

Restoring replaces the configured database. It is refused when that database holds a newer audit
chain than the backup, or one that went another way (its event at the backup's head differs),
unless ``force``: restoring an older backup loses every event after it. A database with no
accounts yet (a fresh one, after a disaster) may be restored into by whoever holds the file;
otherwise the acting account must be one of its clinicians. ``backup.create`` is written before
the copy (so the backup holds its own event) and ``backup.restore`` after a restore.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from magtrial.errors import Conflict, IntegrityError, MagtrialError, ValidationError
from magtrial.service import audit as audit_service
from magtrial.service.access import Actor, Role, require
from magtrial.service.context import Context, utcnow
from magtrial.store import audit
from magtrial.store.db import Database
from magtrial.store.models import AccountRow, Base

FORMAT_SQLITE, FORMAT_PG = "sqlite", "pg_dump-custom"
MANIFEST_SUFFIX = ".manifest.json"


@dataclass(frozen=True)
class Manifest:
    format: str
    created_at: str
    created_by: str
    head: str  # SEQ:HASH of the audit chain the backup holds
    events: int
    row_counts: dict[str, int]
    sha256: str
    schema_revision: str

    def write(self, backup_file: Path) -> Path:
        path = manifest_path(backup_file)
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return path

    @classmethod
    def read(cls, backup_file: Path) -> Manifest:
        path = manifest_path(backup_file)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except FileNotFoundError:
            raise ValidationError(f"no manifest {path.name} beside the backup; it is made with the backup") from None
        except (ValueError, TypeError) as exc:
            raise ValidationError(f"the manifest {path.name} is not a magtrial backup manifest ({exc})") from None


@dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    replaced_head: str  # the target's head before the restore ("0:..." when it was empty)
    head: str  # after the restore and its audit event


def manifest_path(backup_file: Path) -> Path:
    return backup_file.with_name(backup_file.name + MANIFEST_SUFFIX)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---- backup --------------------------------------------------------------------------------------------------


def backup(ctx: Context, destination: Path) -> Manifest:
    """Write a verified backup of the whole database to ``destination`` (and its manifest); clinicians only."""
    require(ctx.actor, Role.CLINICIAN, to="back up the database")
    destination = Path(destination)
    if destination.exists() or manifest_path(destination).exists():
        raise Conflict(f"{destination} (or its manifest) already exists; choose a new file name")
    destination.parent.mkdir(parents=True, exist_ok=True)
    with ctx.db.transaction() as s:
        ctx.audit(s, "backup.create", "database", _kind(ctx.db), None, new={"file": destination.name})
    partial = destination.with_name(destination.name + ".partial")
    try:
        if ctx.db.is_sqlite:
            _sqlite_copy(_sqlite_path(ctx.db), partial)
            with _opened(partial) as copy:
                head, events, counts, revision = _describe(copy)
            kind = FORMAT_SQLITE
        else:
            head, events, counts, revision = _pg_dump(ctx.db, partial)
            kind = FORMAT_PG
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    manifest = Manifest(
        kind, ctx.clock().isoformat(), ctx.actor.name, head, events, counts, sha256_of(destination), revision
    )
    manifest.write(destination)
    verify_backup(destination)
    return manifest


def verify_backup(backup_file: Path) -> Manifest:
    """The file matches its manifest; a SQLite backup's chain, replay, head and row counts too."""
    backup_file = Path(backup_file)
    manifest = Manifest.read(backup_file)
    if not backup_file.exists():
        raise ValidationError(f"no backup file {backup_file}")
    if sha256_of(backup_file) != manifest.sha256:
        raise IntegrityError(
            f"{backup_file.name} does not match its manifest's SHA-256: the file was changed or is incomplete"
        )
    if manifest.format == FORMAT_SQLITE:
        with tempfile.TemporaryDirectory(prefix="magtrial-verify-") as tmp:
            scratch = Path(tmp) / "check.sqlite3"
            shutil.copyfile(backup_file, scratch)  # opening a file may write to it (WAL): never the backup itself
            with _opened(scratch) as copy:
                _check_against(copy, manifest, "the backup")
    elif manifest.format == FORMAT_PG:
        listed = subprocess.run([_tool("pg_restore"), "--list", str(backup_file)], capture_output=True, text=True)
        if listed.returncode != 0 or "TABLE DATA" not in listed.stdout:
            raise IntegrityError(
                f"{backup_file.name} is not a readable pg_dump archive: {(listed.stderr or '').strip()[:200]}"
            )
    else:
        raise ValidationError(f"unknown backup format {manifest.format!r}")
    return manifest


# ---- restore -------------------------------------------------------------------------------------------------


def restore(
    db: Database,
    backup_file: Path,
    actor_name: str,
    *,
    force: bool = False,
    reason: str = "",
    password: str | None = None,
) -> RestoreResult:
    """Replace ``db``'s contents with a verified backup, then verify the result and audit it."""
    backup_file = Path(backup_file)
    manifest = verify_backup(backup_file)
    expected = {FORMAT_SQLITE: db.is_sqlite, FORMAT_PG: not db.is_sqlite}
    if not expected.get(manifest.format, False):
        raise ValidationError(f"a {manifest.format} backup cannot be restored into a {_kind(db)} database")
    actor = _restoring_actor(db, actor_name, password)
    with db.reader() as s:
        current = audit.current_head(s)
    theirs = manifest_head(manifest)
    if current.seq and not force:
        if current.seq > theirs.seq:
            raise Conflict(
                f"the database is newer than the backup (audit head {current.seq} > {theirs.seq}): "
                f"restoring would lose {current.seq - theirs.seq} events; use --force if you mean it"
            )
        if (current.seq == theirs.seq and current.hash != theirs.hash) or (
            manifest.format == FORMAT_SQLITE and not _backup_holds(backup_file, current)
        ):
            raise Conflict(
                "the database's audit chain and the backup's went different ways; "
                "use --force to replace the database anyway"
            )
    if db.is_sqlite:
        db.dispose()
        _sqlite_copy(backup_file, _sqlite_path(db), into_existing=True)
    else:
        _pg_restore(db, backup_file)
    db.dispose()
    _check_against(db, manifest, "the restored database")
    with db.transaction() as s:
        ctx = Context(db, actor, utcnow)
        ctx.audit(
            s,
            "backup.restore",
            "database",
            _kind(db),
            None,
            new={"file": backup_file.name, "head": manifest.head, "replaced_head": str(current), "forced": force},
            reason=reason,
        )
    with db.reader() as s:
        after = audit.current_head(s)
    return RestoreResult(manifest, str(current), str(after))


def manifest_head(manifest: Manifest) -> audit.Head:
    return audit.Head.parse(manifest.head)


def _backup_holds(backup_file: Path, head: audit.Head) -> bool:
    """The backup's chain holds the target's current head (so the backup continues the target's history)."""
    with tempfile.TemporaryDirectory(prefix="magtrial-verify-") as tmp:
        scratch = Path(tmp) / "check.sqlite3"
        shutil.copyfile(backup_file, scratch)
        with _opened(scratch) as copy, copy.reader() as s:
            row = audit.event_at(s, head.seq)
            return row is not None and row.hash == head.hash


def _restoring_actor(db: Database, name: str, password: str | None) -> Actor:
    from magtrial.service import accounts

    with db.reader() as s:
        anyone = s.execute(select(func.count()).select_from(AccountRow)).scalar_one()
    if not anyone:
        return Actor(name, Role.CLINICIAN)  # an empty database: the file's holder restores it (see the docstring)
    actor = accounts.actor_for(db, name, password)
    require(actor, Role.CLINICIAN, to="restore the database")
    return actor


# ---- helpers -------------------------------------------------------------------------------------------------


def _kind(db: Database) -> str:
    return "sqlite" if db.is_sqlite else "postgresql"


def _sqlite_path(db: Database) -> Path:
    name = make_url(db.url).database
    if not name or name == ":memory:":
        raise ValidationError("an in-memory database cannot be backed up or restored")
    return Path(name)


def _sqlite_copy(source: Path, target: Path, into_existing: bool = False) -> None:
    """SQLite's online backup API: a consistent copy, page by page, while writers carry on."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True) if not into_existing else sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
        if not into_existing:
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[Database]:
    copy = Database(f"sqlite:///{path}")
    try:
        yield copy
    finally:
        copy.dispose()


def _describe(db: Database, connection: Any = None) -> tuple[str, int, dict[str, int], str]:
    """Head, number of events, rows per table and schema revision (in ``connection``'s snapshot if given)."""

    def run(conn: Any) -> tuple[str, int, dict[str, int], str]:
        counts = {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in Base.metadata.sorted_tables
        }
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        head = conn.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).first()
        seq, hash_ = (head[0], head[1]) if head else (0, audit.GENESIS)
        return f"{seq}:{hash_}", counts.get("audit_events", 0), counts, str(revision)

    if connection is not None:
        return run(connection)
    with db.engine.connect() as conn:
        return run(conn)


def _check_against(db: Database, manifest: Manifest, what: str) -> None:
    report = audit_service.verify(Context(db, Actor("backup-verify", Role.CLINICIAN)), manifest.head)
    if not report.ok:
        raise IntegrityError(f"{what} does not verify: {report.problem}")
    head, _events, counts, _revision = _describe(db)
    if head != manifest.head:
        raise IntegrityError(f"{what} ends at audit head {head[:20]}..., the manifest says {manifest.head[:20]}...")
    differ = {t: (counts.get(t), n) for t, n in manifest.row_counts.items() if counts.get(t) != n}
    if differ:
        raise IntegrityError(f"{what} has other row counts than the manifest: {differ}")


def _tool(name: str) -> str:
    from glob import glob

    found = shutil.which(name) or next(iter(sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise MagtrialError(f"{name} not found: install the PostgreSQL client tools")
    return found


def _libpq_url(db: Database) -> str:
    url = make_url(db.url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _pg_dump(db: Database, partial: Path) -> tuple[str, int, dict[str, int], str]:
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot: str = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            described = _describe(db, conn)
            done = subprocess.run(
                [
                    _tool("pg_dump"),
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    "--no-owner",
                    "--file",
                    str(partial),
                    "--dbname",
                    _libpq_url(db),
                ],
                capture_output=True,
                text=True,
            )
    if done.returncode != 0:
        raise MagtrialError(f"pg_dump failed: {done.stderr.strip()[:300]}")
    return described


def _pg_restore(db: Database, backup_file: Path) -> None:
    db.dispose()
    done = subprocess.run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--single-transaction",
            "--no-owner",
            "--exit-on-error",
            "--dbname",
            _libpq_url(db),
            str(backup_file),
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise MagtrialError(f"pg_restore failed (nothing was changed): {done.stderr.strip()[:300]}")


__all__ = ["FORMAT_PG", "FORMAT_SQLITE", "Manifest", "RestoreResult", "backup", "restore", "verify_backup"]
