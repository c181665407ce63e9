"""Layout shows the architecture: the core imports no database, web, CLI or file-format code."""

import ast
import pathlib

import magtrial

CORE = pathlib.Path(magtrial.__file__).parent / "core"
FORBIDDEN = {
    "sqlalchemy",
    "alembic",
    "fastapi",
    "starlette",
    "jinja2",
    "typer",
    "click",
    "rich",
    "weasyprint",
    "matplotlib",
    "fhir",
    "icalendar",
    "psycopg",
    "httpx",
    "tomllib",
    "csv",
    "sqlite3",
    "pymc",
    "magtrial.store",
    "magtrial.service",
    "magtrial.cli",
    "magtrial.report",
    "magtrial.export",
    "magtrial.data",
    "magtrial.plots",
}


def imported_modules(path: pathlib.Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_imports_nothing_from_adapters_or_file_formats():
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        for name in imported_modules(path):
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN):
                offenders.append(f"{path.relative_to(CORE)} imports {name}")
    assert offenders == []


def test_the_scan_would_catch_an_offender(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import sqlalchemy\nfrom magtrial.store.db import Database\n")
    assert {"sqlalchemy", "magtrial.store.db"} <= imported_modules(bad)
