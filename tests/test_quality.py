"""The checks `make check` runs, as tests, so CI (which runs `make test`) enforces them too.

ruff (lint and format) over every Python folder, mypy over ``src`` with the ``[tool.mypy]`` settings of
pyproject.toml (strict on ``magtrial.core``). tests/conftest.py runs this module last, so a failure here
never hides a behaviour failure. Each check reports the tool's own output, file and line included.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYTHON_FOLDERS = [name for name in ("src", "tests", "benchmarks", "validation", "scripts") if (ROOT / name).is_dir()]


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    """ruff from the interpreter's own environment (the venv), else ``python -m ruff``."""
    exe = shutil.which("ruff", path=str(Path(sys.executable).parent))
    command = [exe] if exe else [sys.executable, "-m", "ruff"]
    return subprocess.run(
        [*command, *args, *PYTHON_FOLDERS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_ruff_check_passes():
    done = _ruff("check", "--no-cache", "--output-format", "concise")
    assert done.returncode == 0, done.stdout + done.stderr


def test_code_is_formatted_with_ruff_format():
    done = _ruff("format", "--check", "--no-cache")
    assert done.returncode == 0, "run `ruff format` on these files:\n" + done.stdout + done.stderr


def test_mypy_passes(monkeypatch):
    api = pytest.importorskip("mypy.api", reason="mypy is in the test extra: pip install -e '.[test]'")
    monkeypatch.chdir(ROOT)  # the [tool.mypy] paths are relative to the repository
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), "--no-error-summary"])
    assert status == 0, stdout + stderr
