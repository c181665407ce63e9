"""The pooled N-of-1 estimate for the report's evidence panel, cached until the pooled set changes.

Pooling every unblinded trial takes seconds on a large database (3.6-3.9 s on 10,000 trials), and
the panel needs the same answer on every render until a trial is unblinded (or its summary
recomputed, or a trial leaves the pooled set). So the result is kept in memory keyed by a cheap
fingerprint of exactly the rows ``service.pooling.pool_inputs`` reads: for the outcome, over real
unblinded trials, the number of effect summaries, the newest ``computed_at``, the newest trial
``unblinded_at`` and the total of analysed days. One aggregate query (milliseconds) decides whether
the cache still holds; any unblinding or recomputation changes it, so there is nothing to invalidate
by hand. The access rule (clinicians only) is checked on every call, hit or miss.

    from magtrial.report.evidence_cache import cached_pooled_estimate
    pooled = cached_pooled_estimate(ctx, outcome)      # instead of pooling.pooled_estimate(ctx, outcome)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from magtrial.report import pooled_disk_cache
from magtrial.service.access import Role, require
from magtrial.service.context import Context

Fingerprint = tuple[Any, ...]

_lock = threading.Lock()
_cache: dict[tuple[str, str], tuple[Fingerprint, Any]] = {}
_MAX_ENTRIES = 64


def fingerprint(ctx: Context, outcome: str) -> Fingerprint:
    """(count, newest computed_at, newest unblinded_at, total analysed days) of the pooled rows."""
    from magtrial.service.pooling import fingerprint as pooled_rows_stamp  # light: pooling maths loads on a miss

    return pooled_rows_stamp(ctx, outcome)


def cached_pooled_estimate(
    ctx: Context,
    outcome: str = "average_pain",
    compute: Callable[[Context, str], Any] | None = None,
    folder: Path | None = None,
) -> Any:
    """``service.pooling.pooled_estimate(ctx, outcome)``, reused while the pooled rows are unchanged.

    ``compute`` replaces the pooling call (tests count calls with it). ``folder``: also keep the
    answer in a file there (``report.pooled_disk_cache``), for the command line's short-lived
    processes. Returns a ``PoolResult`` or None when there is nothing to pool, as the service does.
    """
    require(ctx.actor, Role.CLINICIAN, to="pool trials across participants")
    if compute is None:
        from magtrial.service.pooling import pooled_estimate

        compute = pooled_estimate
    key = (ctx.db.url, outcome)
    stamp = fingerprint(ctx, outcome)
    with _lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    if folder is not None:
        kept = pooled_disk_cache.load(folder, key, stamp)
        if kept is not pooled_disk_cache.MISS:
            _remember(key, stamp, kept)
            return kept
    result = compute(ctx, outcome)
    if fingerprint(ctx, outcome) == stamp:  # nothing changed while pooling: safe to keep
        _remember(key, stamp, result)
        if folder is not None:
            pooled_disk_cache.save(folder, key, stamp, result)
    return result


def _remember(key: tuple[str, str], stamp: Fingerprint, result: Any) -> None:
    with _lock:
        if len(_cache) >= _MAX_ENTRIES:
            _cache.pop(next(iter(_cache)))
        _cache[key] = (stamp, result)


def clear() -> None:
    """Forget every cached result (tests; a long-running server never needs it)."""
    with _lock:
        _cache.clear()
