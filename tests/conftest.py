"""Shared fixtures: a real SQLite file per test, and a real PostgreSQL server for the storage suite.

The PostgreSQL server is started once per test session with ``initdb``/``postgres`` in a temporary
directory (as the unprivileged ``postgres`` user when the tests run as root, since PostgreSQL
refuses to run as root), listens only on a Unix socket there, and is removed afterwards. Each
test gets a fresh database on it.
"""

from __future__ import annotations

import datetime as dt
import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from magtrial import crypto
from magtrial.service import Actor, Context, Role, accounts, keys, trials
from magtrial.store.db import Database
from tests.helpers import ADULT, KEY_PASSPHRASE, sample_protocol

# The slow files, in one place: `make test-fast` (``pytest --fast``) neither imports them nor runs the tests
# marked ``@pytest.mark.slow``; `make test` and CI run everything (``-m slow`` selects just these).
SLOW_FILES = frozenset(
    {
        "test_web_browser.py",  # a real Chromium
        "test_consent_browser.py",
        "test_crash.py",  # servers SIGKILLed and restarted
        "test_fuzz_api.py",  # schemathesis over every operation and role
        "test_analysis_pymc.py",  # PyMC cross-checks
        "test_pooling_pymc.py",
        "test_leak_crawl.py",  # every page for every allowed allocation
        "test_analysis_calibration.py",
        "test_races.py",
        # the slowest of the rest, measured with --durations on the shared 2-core machine (each 20-160 s there)
        "test_blinded_outputs.py",  # every output for every allowed allocation
        "test_access_matrix.py",  # every route x role x object
        "test_bad_input_catalogue.py",
        "test_pooling_cli.py",
        "test_backup.py",  # pg_dump and restore
        "test_readme.py",  # runs the README's command block
        "test_cli_imports.py",  # fresh interpreters
        "test_report_pdf.py",
    }
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fast", action="store_true", help="leave out the slow files and tests (make test-fast)")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--fast") and not config.option.markexpr:
        config.option.markexpr = "not slow"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    return True if config.getoption("--fast") and collection_path.name in SLOW_FILES else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the slow files; run tests/test_quality.py (lint, format, types) after every behaviour test."""
    for item in items:
        if item.path.name in SLOW_FILES:
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: item.path.name == "test_quality.py")  # a stable sort keeps the rest in order


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


class PostgresServer:
    def __init__(self) -> None:
        initdb, postgres = _pg_bin("initdb"), _pg_bin("postgres")
        if not (initdb and postgres):
            raise RuntimeError("PostgreSQL server binaries (initdb, postgres) not found; .ci/run installs them")
        self.root = Path(tempfile.mkdtemp(prefix="magtrial-pg-"))
        self.data, self.socket = self.root / "data", self.root / "sock"
        self.socket.mkdir()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            user = pwd.getpwnam("postgres")
            os.chmod(self.root, 0o755)
            for path in (self.root, self.socket):
                os.chown(path, user.pw_uid, user.pw_gid)
        self._run(
            [initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"], check=True
        )
        cmd = [
            postgres,
            "-D",
            str(self.data),
            "-k",
            str(self.socket),
            "-c",
            "listen_addresses=",
            "-c",
            "fsync=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=50",
        ]
        self.log = self.root / "postgres.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(self._wrap(cmd), stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready()
        self._counter = itertools.count()

    def _wrap(self, cmd: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *cmd] if self.as_root else cmd

    def _run(self, cmd: list[str], check: bool) -> None:
        done = subprocess.run(self._wrap(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if check and done.returncode:
            raise RuntimeError(f"{cmd[0]} failed: {done.stdout.decode(errors='replace')[-500:]}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket}"

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(host=str(self.socket), user="postgres", dbname="postgres").close()
                return
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    tail = self.log.read_text(errors="replace")[-500:]
                    raise RuntimeError(f"PostgreSQL did not start: {tail}") from None
                time.sleep(0.1)

    def fresh_database(self) -> str:
        import psycopg

        name = f"magtrial_test_{next(self._counter)}"
        with psycopg.connect(host=str(self.socket), user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'magtrial.sqlite3'}")
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """The storage suite runs on both backends: a SQLite file and a real PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'magtrial.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_server").fresh_database()
    database = Database(url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def key_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, crypto.UnlockedKey]]:
    """One pharmacist key (ph-ann) and one clinic emergency key (dr-lee) for the whole session.

    Argon2id key derivation is deliberately slow, so the files are made and unlocked once; each
    test database registers their public halves.
    """
    root = tmp_path_factory.mktemp("keys")
    out = {}
    for purpose, owner in (("pharmacist", "ph-ann"), ("emergency", "dr-lee")):
        path = root / f"{purpose}.key"
        crypto.generate_key_file(path, purpose, owner, KEY_PASSPHRASE)
        out[purpose] = (path, crypto.unlock(path, KEY_PASSPHRASE))
    return out


@pytest.fixture
def clinician(db: Database, key_files) -> Context:  # type: ignore[no-untyped-def]
    """dr-lee, the database's first account, with a pharmacist ph-ann and both keys registered."""
    ctx = Context(db, accounts.bootstrap(db, "dr-lee"))
    accounts.add_account(ctx, "ph-ann", Role.PHARMACIST)
    for _, key in key_files.values():
        keys.register_key(ctx, key.info)
    return ctx


@pytest.fixture
def pharmacist(db: Database, clinician: Context) -> Context:
    return Context(db, Actor("ph-ann", Role.PHARMACIST))


@pytest.fixture
def pharm_key(key_files) -> crypto.UnlockedKey:  # type: ignore[no-untyped-def]
    return key_files["pharmacist"][1]


@pytest.fixture
def emergency_key(key_files) -> crypto.UnlockedKey:  # type: ignore[no-untyped-def]
    return key_files["emergency"][1]


@pytest.fixture
def running_trial(clinician: Context):  # type: ignore[no-untyped-def]
    """A trial of participant P-001 that started 10 days ago, so today and recent days take diary entries."""
    start = dt.date.today() - dt.timedelta(days=10)
    return trials.create_trial(clinician, sample_protocol(), "P-001", ADULT, start_date=start)


@pytest.fixture
def patient(db: Database, running_trial) -> Context:  # type: ignore[no-untyped-def]
    return Context(db, Actor("P-001", Role.PATIENT))


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Invoke the CLI as a user would, on a fresh SQLite file in a temporary data folder.

    The acting account is dr-lee (``MAGTRIAL_USER``) unless a test passes ``--user``; key
    passphrases come from ``MAGTRIAL_KEY_PASSPHRASE``. ``setup_clinic`` makes the accounts and keys.
    """
    from typer.testing import CliRunner

    from magtrial.cli import common
    from magtrial.cli.main import app

    monkeypatch.setenv("MAGTRIAL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MAGTRIAL_USER", "dr-lee")
    monkeypatch.setenv("MAGTRIAL_KEY_PASSPHRASE", KEY_PASSPHRASE)
    for name in ("MAGTRIAL_DATABASE_URL", "MAGTRIAL_PASSWORD", "MAGTRIAL_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(common.console, "width", 200)  # a wide terminal, so tables are not abbreviated
    runner = CliRunner()

    def invoke(*args: object, ok: bool = True):  # type: ignore[no-untyped-def]
        result = runner.invoke(app, [str(a) for a in args])
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke
