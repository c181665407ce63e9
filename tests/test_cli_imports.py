"""Issue 13: light commands start fast because they import only what they need.

Each command runs in a fresh interpreter (as a user starts it); the test reads ``sys.modules`` after
it. ``--help`` and ``diary add`` must not load the numerical, plotting, PDF or web stacks; the
database check on every command must not load Alembic once the database is at the newest migration.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from magtrial.service import Context, accounts, keys, trials
from magtrial.store.db import Database
from magtrial.store.schema_version import at_head, head_revision
from tests.helpers import ADULT, sample_protocol

HEAVY = ("numpy", "scipy", "matplotlib", "weasyprint", "fastapi", "uvicorn", "starlette", "jinja2")
ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
from magtrial.cli.main import app
status = 0
try:
    app(args=sys.argv[2:], prog_name="magtrial")
except SystemExit as exc:
    status = exc.code
with open(sys.argv[1], "w") as out:
    json.dump([status, sorted(sys.modules)], out)
"""


def run_cli(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, set[str]]:
    out = tmp_path / "modules.json"
    full_env = {**os.environ, "MAGTRIAL_DATA_DIR": str(tmp_path / "data"), **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *args],
        env=full_env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.exists(), proc.stderr
    status, modules = json.loads(out.read_text())
    return status, {m.split(".")[0] for m in modules}


def test_help_imports_no_numerical_web_or_database_stack(tmp_path):
    status, loaded = run_cli(tmp_path, "--help")
    assert status == 0
    light = {*HEAVY, "alembic", "pydantic_settings", "sqlalchemy"}
    assert not loaded & light, sorted(loaded & light)


def test_diary_add_imports_only_the_database_and_the_service(tmp_path, key_files):
    db = Database(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    db.migrate()
    clinician = Context(db, accounts.bootstrap(db, "dr-lee"))
    accounts.add_account(clinician, "ph-ann", accounts.Role.PHARMACIST)
    for _, key in key_files.values():
        keys.register_key(clinician, key.info)
    start = dt.date.today() - dt.timedelta(days=3)
    rec = trials.create_trial(clinician, sample_protocol(), "P-001", ADULT, start_date=start)
    db.dispose()
    env = {"MAGTRIAL_DATABASE_URL": db.url, "MAGTRIAL_USER": "P-001"}
    args = ("diary", "add", rec.trial_id, "--avg", "5", "--worst", "6", "--sleep", "3", "--dose", "full")
    status, loaded = run_cli(tmp_path, *args, env=env)
    assert status == 0
    assert "sqlalchemy" in loaded  # it did open the database
    assert not loaded & {*HEAVY, "alembic"}, sorted(loaded & {*HEAVY, "alembic", "pydantic_settings"})
    reader = Database(env["MAGTRIAL_DATABASE_URL"])
    try:
        assert trials.record(Context(reader, accounts.actor_for(reader, "P-001", None)), rec.trial_id).current()
    finally:
        reader.dispose()


def test_python_dash_m_magtrial_prints_help():
    proc = subprocess.run([sys.executable, "-m", "magtrial", "--help"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "diary" in proc.stdout


def test_schema_check_knows_alembic_head_and_a_new_database(tmp_path):
    from alembic.script import ScriptDirectory

    from magtrial.store.db import alembic_config

    db = Database(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    try:
        assert head_revision() == ScriptDirectory.from_config(alembic_config(db.engine)).get_current_head()
        assert not at_head(db.engine)  # no version table yet: Alembic runs
        db.migrate()
        assert at_head(db.engine)
    finally:
        db.dispose()


def test_cli_subgroup_keys_match_the_pooling_module():
    from magtrial.cli.pooling import SUBGROUP_KEYS
    from magtrial.core.pooling.pool import SUBGROUP_KEYS as CORE_KEYS

    assert SUBGROUP_KEYS == CORE_KEYS


@pytest.mark.parametrize("command", [("--help",), ("diary", "--help"), ("trial", "--help")])
def test_light_commands_still_list_their_subcommands(tmp_path, command):
    status, _ = run_cli(tmp_path, *command)
    assert status == 0
