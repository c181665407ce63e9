"""Issue 13: `magtrial report` reads the pooled estimate from a file between runs, never a stale one."""

from __future__ import annotations

import datetime as dt
import json
import pickle

import numpy as np
import pytest

from magtrial.core.pooling.simulate import simulate_pool
from magtrial.report import evidence_cache, pooled_disk_cache
from magtrial.service import accounts
from magtrial.service.context import Context
from magtrial.service.pooling import pooled_estimate
from magtrial.store.db import Database
from magtrial.store.models import TrialRow
from tests.test_evidence_cache import NOW, _add


@pytest.fixture
def ctx(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    db.migrate()
    ctx = Context(db, accounts.bootstrap(db, "dr-lee"))
    _add(db, simulate_pool(12, -1.0, 0.5, np.random.default_rng(7)).summaries)
    evidence_cache.clear()
    yield ctx
    evidence_cache.clear()
    db.dispose()


def test_a_new_process_reads_the_kept_estimate_until_the_pooled_set_changes(ctx, tmp_path):
    folder = tmp_path / "cache"
    calls = []

    def compute(c, outcome):
        calls.append(outcome)
        return pooled_estimate(c, outcome)

    first = evidence_cache.cached_pooled_estimate(ctx, "average_pain", compute=compute, folder=folder)
    assert len(calls) == 1 and len(list(folder.glob("pooled-*.json"))) == 1
    evidence_cache.clear()  # what a new command-line process starts with
    again = evidence_cache.cached_pooled_estimate(ctx, "average_pain", compute=compute, folder=folder)
    assert len(calls) == 1
    assert again == first  # every field, read back exactly from the JSON file
    # unblinding another trial changes the pooled set: the file is not used, the answer recomputed
    _add(ctx.db, simulate_pool(1, -8.0, 0.1, np.random.default_rng(8)).summaries, status="active", prefix="b")
    with ctx.db.transaction() as s:
        row = s.get(TrialRow, "b-0")
        row.status, row.unblinded_at = "unblinded", NOW + dt.timedelta(days=1)
    evidence_cache.clear()
    fresh = evidence_cache.cached_pooled_estimate(ctx, "average_pain", compute=compute, folder=folder)
    assert len(calls) == 2 and fresh.n_trials == first.n_trials + 1
    assert fresh.mu == pytest.approx(pooled_estimate(ctx, "average_pain").mu)


def test_a_file_from_other_pooling_code_or_a_damaged_file_is_not_used(ctx, tmp_path):
    folder = tmp_path / "cache"
    evidence_cache.cached_pooled_estimate(ctx, "average_pain", folder=folder)
    key = (ctx.db.url, "average_pain")
    stamp = evidence_cache.fingerprint(ctx, "average_pain")
    assert pooled_disk_cache.load(folder, key, stamp) is not pooled_disk_cache.MISS
    assert pooled_disk_cache.load(folder, (ctx.db.url, "worst_pain"), stamp) is pooled_disk_cache.MISS
    (path,) = folder.glob("pooled-*.json")
    kept = json.loads(path.read_text())
    assert pooled_disk_cache.load(folder, key, stamp) == evidence_cache.cached_pooled_estimate(ctx, "average_pain")
    path.write_text(json.dumps({**kept, "code": "0" * 64}))  # written by a different pooling method
    assert pooled_disk_cache.load(folder, key, stamp) is pooled_disk_cache.MISS
    path.write_text(json.dumps({**kept, "result": {**kept["result"], "mu": "not an estimate"}}))
    assert pooled_disk_cache.load(folder, key, stamp) is pooled_disk_cache.MISS
    path.write_bytes(b"not json")
    assert pooled_disk_cache.load(folder, key, stamp) is pooled_disk_cache.MISS
    # a pickle planted under the name is never unpickled: the file is only ever read as JSON into PoolResult
    path.write_bytes(pickle.dumps(kept))
    assert pooled_disk_cache.load(folder, key, stamp) is pooled_disk_cache.MISS
    evidence_cache.clear()
    assert evidence_cache.cached_pooled_estimate(ctx, "average_pain", folder=folder).n_trials == 12
