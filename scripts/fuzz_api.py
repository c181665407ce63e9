"""Long schemathesis run against the API's own OpenAPI schema, every operation as every role; prints the figures.

Run: ``.venv/bin/python scripts/fuzz_api.py [--examples 100] [--seed N] [--postgres]``
(the suite's ``tests/test_fuzz_api.py`` runs the same with 5 derandomized examples per operation and role).
Exit status 1 if any answer was a 5xx or outside the schema.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=100, help="examples per operation, role and mode")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--postgres", action="store_true", help="on a PostgreSQL server started for the run")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)

    from magtrial import crypto
    from magtrial.core.diary import DiaryValues
    from magtrial.service import Actor, Context, Role, accounts, diary, keys, tokens, trials
    from magtrial.settings import Settings
    from magtrial.store.db import Database
    from magtrial.web.app import create_app
    from tests.fuzz_support import fuzz
    from tests.helpers import ADULT, KEY_PASSPHRASE, sample_protocol

    tmp = Path(tempfile.mkdtemp(prefix="magtrial-fuzz-"))
    server = None
    if args.postgres:
        from tests.conftest import PostgresServer

        server = PostgresServer()
        url = server.fresh_database()
    else:
        url = f"sqlite:///{tmp / 'fuzz.sqlite3'}"
    db = Database(url)
    db.migrate()
    try:
        lee = Context(db, accounts.bootstrap(db, "dr-lee"))
        accounts.add_account(lee, "ph-ann", Role.PHARMACIST)
        accounts.add_account(lee, "dr-kim", Role.CLINICIAN)
        for purpose, owner in (("pharmacist", "ph-ann"), ("emergency", "dr-lee")):
            keys.register_key(lee, crypto.generate_key_file(tmp / f"{purpose}.key", purpose, owner, KEY_PASSPHRASE))
        today = dt.date.today()
        own = trials.create_trial(lee, sample_protocol(), "P-001", ADULT, start_date=today - dt.timedelta(days=10))
        other = trials.create_trial(
            Context(db, Actor("dr-kim", Role.CLINICIAN)),
            sample_protocol(),
            "P-009",
            ADULT,
            start_date=today - dt.timedelta(days=10),
        )
        patient, pharmacist = Context(db, Actor("P-001", Role.PATIENT)), Context(db, Actor("ph-ann", Role.PHARMACIST))
        for back in (1, 2):
            diary.add_entry(patient, own.trial_id, today - dt.timedelta(days=back), DiaryValues(4, 6, 2))
        people = {
            role: {"Authorization": f"Bearer {tokens.create_token(ctx, 'fuzz', 366).secret}"}
            for role, ctx in (("patient", patient), ("clinician", lee), ("pharmacist", pharmacist))
        }
        people.update(
            trial=own.trial_id,
            other=other.trial_id,
            days=[(today - dt.timedelta(days=k)).isoformat() for k in range(4)],
        )
        app = create_app(Settings(data_dir=tmp), database=db)
        started = time.perf_counter()
        report = fuzz(app, people, args.examples, seed=seed)
        took = time.perf_counter() - started
    finally:
        db.dispose()
        if server is not None:
            server.stop()
    backend = "postgresql" if args.postgres else "sqlite"
    print(
        f"schemathesis {backend}, seed {seed}: {report.cases} cases over {len(report.by_operation)} operations "
        f"x 3 roles (positive and negative), {took:.0f} s; failures: {len(report.failures)}"
    )
    print("statuses:", dict(sorted(report.statuses.items())))
    for line in report.failures[:30]:
        print("  FAIL", line)
    return 1 if report.failures or any(s >= 500 for s in report.statuses) else 0


if __name__ == "__main__":
    sys.exit(main())
