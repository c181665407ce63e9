"""``python -m benchmarks.pool_reference.run URL USER``: the old ``magtrial pool --json`` (with subgroups),
end to end in its own process, for the side-by-side benchmark. Prints the JSON the CLI would print."""

from __future__ import annotations

import json
import sys

from benchmarks.pool_reference.io import read_store
from benchmarks.pool_reference.pool import pool_data, pool_subgroups
from magtrial.service import Context, accounts
from magtrial.service.access import Role, require
from magtrial.store.db import Database


def main(url: str, user: str, subgroups: bool = True) -> dict:
    db = Database(url)
    db.migrate()
    ctx = Context(db, accounts.actor_for(db, user))
    require(ctx.actor, Role.CLINICIAN, to="pool trials across participants")
    with db.reader() as s:
        data = read_store(s)
    result = pool_data(data, persons=False)
    out = result.as_dict(persons=False)
    out["subgroups"] = [g.as_dict() for g in (pool_subgroups(data) if subgroups else [])]
    db.dispose()
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], "--no-subgroups" not in sys.argv)))
