"""Is the database already at the newest migration? Answered without importing Alembic (issue 13).

Every CLI command opens the database with ``Database.migrate()``. Alembic's own check imports
Alembic and every migration module (a few hundred milliseconds per command); a database that
already holds the head revision needs none of that. The head is read from the ``revision`` and
``down_revision`` lines of the files in ``migrations/versions``; whenever the answer is not plainly
"yes, at the single head" (a branch, an unreadable file, no version table) the caller runs Alembic
as before, so this can only skip a migration that would have done nothing.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

from sqlalchemy import Engine, text

_ASSIGN = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)
_QUOTED = re.compile(r"""^["']([^"']+)["']$""")


@functools.cache
def head_revision() -> str | None:
    """The one revision no other migration revises, or None when that is not clear-cut."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (resources.files("magtrial.store") / "migrations" / "versions").iterdir():
        if not path.name.endswith(".py"):
            continue
        found: dict[str, str] = {m.group(1): m.group(2) for m in _ASSIGN.finditer(path.read_text(encoding="utf-8"))}
        rev = _QUOTED.match(found.get("revision", ""))
        if rev is None or "down_revision" not in found:
            return None
        revisions.add(rev.group(1))
        down = found["down_revision"]
        if down != "None":
            parent = _QUOTED.match(down)
            if parent is None:  # a merge (tuple of parents): leave it to Alembic
                return None
            parents.add(parent.group(1))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def at_head(engine: Engine) -> bool:
    """True when the database's ``alembic_version`` holds exactly the head revision."""
    head = head_revision()
    if head is None:
        return False
    try:
        with engine.connect() as connection:
            rows: list[str] = list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except Exception:  # no version table yet (a new database) or any other doubt: migrate properly
        return False
    return rows == [head]
