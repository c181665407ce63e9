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
# What a command's --help never needs: settings, the database, the input models, the key and password crypto.
NOT_FOR_HELP = ("alembic", "pydantic", "pydantic_core", "pydantic_settings", "sqlalchemy", "nacl", "argon2")
# What the diary write path does not need: reading whole trial records, unsealing, amendments (issue 13).
NOT_FOR_DIARY_ADD = (
    "magtrial.service.trials",
    "magtrial.service.amendments",
    "magtrial.service.unblinding",
    "magtrial.crypto",
    "magtrial.core.record",
    "magtrial.core.allocation",
    "magtrial.core.analysis",
    "magtrial.report.build",
    "magtrial.export",
)
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
    status, modules = run_cli_modules(tmp_path, *args, env=env)
    return status, {m.split(".")[0] for m in modules}


def run_cli_modules(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, set[str]]:
    """Run ``magtrial *args`` in a fresh interpreter; its exit status and every module it imported."""
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
    return status, set(modules)


def test_help_imports_no_numerical_web_or_database_stack(tmp_path):
    status, loaded = run_cli(tmp_path, "--help")
    assert status == 0
    light = {*HEAVY, "alembic", "pydantic_settings", "sqlalchemy"}
    assert not loaded & light, sorted(loaded & light)


def test_help_imports_no_command_module_pydantic_or_core(tmp_path):
    status, modules = run_cli_modules(tmp_path, "--help")
    assert status == 0
    assert "magtrial.cli.main" in modules  # the probe did run the CLI
    assert "pydantic" not in modules and "pydantic_core" not in modules
    assert not [m for m in modules if m.startswith("magtrial.core")]
    cli = {m for m in modules if m.startswith("magtrial.cli.")}
    assert cli == {"magtrial.cli.main", "magtrial.cli.lazy", "magtrial.cli.common"}, sorted(cli)


def test_diary_add_help_imports_only_its_command_module(tmp_path):
    status, modules = run_cli_modules(tmp_path, "diary", "add", "--help")
    assert status == 0
    loaded = {m.split(".")[0] for m in modules} & {*HEAVY, *NOT_FOR_HELP}
    assert not loaded, sorted(loaded)
    assert {m for m in modules if m.startswith("magtrial.cli.")} == {
        "magtrial.cli.main",
        "magtrial.cli.lazy",
        "magtrial.cli.common",
        "magtrial.cli.diary",
    }
    ours = {m for m in modules if m.startswith("magtrial.") and not m.startswith("magtrial.cli")}
    assert ours <= {"magtrial.errors", "magtrial.core", "magtrial.core.diary_vocabulary"}, sorted(ours)


def test_diary_help_still_names_side_effects_and_late_approval(run):
    from magtrial.core.diary import SIDE_EFFECTS

    add_help = run("diary", "add", "--help").output
    assert all(effect in add_help for effect in SIDE_EFFECTS)
    assert "approve-late" in run("diary", "--help").output


def test_lazy_listing_names_exactly_what_the_modules_register():
    """cli/lazy.py lists names and help without importing; registering every module must give the same."""
    import importlib
    import inspect

    import click
    import typer

    from magtrial.cli import lazy

    with_register = set()
    for path in sorted((ROOT / "src" / "magtrial" / "cli").glob("*.py")):
        if hasattr(importlib.import_module(f"magtrial.cli.{path.stem}"), "register"):
            with_register.add(path.stem)
    assert with_register == set(lazy.MODULES)
    assert {m for c in lazy.COMMANDS.values() for m in c.modules} <= with_register
    for module in lazy.MODULES:
        lazy._register(module)
    eager = typer.main.get_group(lazy._loaded)
    ctx = click.Context(eager)
    listed = {}
    for name in eager.list_commands(ctx):
        command = eager.get_command(ctx, name)
        listed[name] = inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0].strip()
    assert listed == {name: c.help for name, c in lazy.COMMANDS.items()}


def test_each_lazy_command_loads_with_its_extensions():
    """Looking a command up loads it from its own modules, with what other modules add to it."""
    import click
    import typer
    from typer.core import TyperCommand, TyperGroup

    from magtrial.cli.main import app

    root = typer.main.get_command(app)
    ctx = click.Context(root)
    for name in root.list_commands(ctx):
        command = root.get_command(ctx, name)
        assert command.name == name and isinstance(command, TyperCommand | TyperGroup)  # not the help stub
    trial = root.get_command(ctx, "trial")
    assert {"create", "protocol", "timeline", "withdraw"} <= set(trial.commands)
    assert "approve-late" in root.get_command(ctx, "diary").commands
    assert root.get_command(ctx, "no-such-command") is None


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
    status, modules = run_cli_modules(tmp_path, *args, env=env)
    loaded = {m.split(".")[0] for m in modules}
    assert status == 0
    assert "sqlalchemy" in loaded  # it did open the database
    assert "magtrial.core.safety.monitoring" in modules  # and ran the post-entry safety review
    assert not loaded & {*HEAVY, "alembic", "nacl"}, sorted(loaded & {*HEAVY, "alembic", "nacl"})
    heavy_ours = {m for m in modules if m.startswith(NOT_FOR_DIARY_ADD)}
    assert not heavy_ours, sorted(heavy_ours)
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
