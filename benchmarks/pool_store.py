"""Fast generation of large pooling stores for benchmarks: 100,000 or 1,000,000 unblinded trials in bulk.

Curves are simulated as ``core.pooling.simulate.simulate_pool`` does for ``shape="normal"`` (true effects
beta_i ~ N(mu, tau^2), 3 or 4 paired differences with SD sigma_i ~ U(0.5, 2)), drawn as whole arrays: the
mean of k normal differences is drawn directly, so the curve is exactly N(mean, sigma_i^2 / k) on 201 points
of +-10 SE, like the per-trial simulation. Rows go in with executemany (SQLite) or COPY (PostgreSQL), no ORM.
Every 50th trial stays blinded ("active") and must never be pooled.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from magtrial.service import accounts
from magtrial.store.db import Database

USER = "bench-clinician"
CONDITIONS = ("crps-1", "painful-diabetic-neuropathy", "low-back-pain-neuropathic", "other")
ROUTES = ("oral", "oral", "oral", "transdermal-cream")
SALTS = ("glycinate", "citrate", "oxide", "chloride")
DOSES = (100.0, 200.0, 350.0, 250.0)


@dataclass(frozen=True)
class Curves:
    mean: np.ndarray  # each trial's estimate (mean of its paired differences)
    se: np.ndarray  # and its standard error: the curve is N(mean, se^2)
    beta: np.ndarray  # true effects


def simulate(n: int, mu: float = -0.8, tau: float = 0.7, seed: int = 2026) -> Curves:
    rng = np.random.default_rng(seed)
    beta = rng.normal(mu, tau, n)
    sigma = rng.uniform(0.5, 2.0, n)
    se = sigma / np.sqrt(rng.choice(np.array([3, 4]), n))
    return Curves(beta + rng.normal(0.0, 1.0, n) * se, se, beta)


def _rows(curves: Curves, start: int, stop: int, n_grid: int = 201):
    x = np.linspace(-10.0, 10.0, n_grid)
    log_lik = (-0.5 * x**2).astype("<f4").tobytes()
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    grids = (curves.mean[start:stop, None] + curves.se[start:stop, None] * x[None, :]).astype("<f4")
    for k in range(start, stop):
        tid = f"sim-{k:07d}"
        trial = (tid, f"P-{k}", USER, None, False, "{}", dt.date(2026, 1, 5), "unblinded" if k % 50 else "active")
        trial += ("0" * 64, now, USER, None, "[]", None)
        summary = (tid, "average_pain", "sim", grids[k - start].tobytes(), log_lik, 112, CONDITIONS[k % 4])
        summary += (ROUTES[(k // 4) % 4], SALTS[(k // 16) % 4], DOSES[(k // 2) % 4], now)
        yield trial, summary


TRIAL_COLS = (
    "id, participant, clinician, pharmacist, simulated, protocol, start_date, status, commitment, created_at, "
    "created_by, unblinded_at, flags, safety"
)
TRIAL_TYPES = ["text"] * 4 + ["bool", "text", "date", "text", "text", "timestamptz", "text", "timestamptz"]
TRIAL_TYPES += ["text", "text"]
SUMMARY_TYPES = ["text", "text", "text", "bytea", "bytea", "int4", "text", "text", "text", "float8", "timestamptz"]
SUMMARY_COLS = (
    "trial_id, outcome, method, grid, log_lik, n_days, condition, route, salt, elemental_mg_per_day, computed_at"
)


def build(url: str, curves: Curves, block: int = 20_000) -> None:
    """A migrated database with one clinician account and ``len(curves.mean)`` trials with summaries."""
    db = Database(url)
    db.migrate()
    accounts.bootstrap(db, USER)
    n = curves.mean.size
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        for start in range(0, n, block):
            rows = list(_rows(curves, start, min(start + block, n)))
            if db.is_sqlite:
                cur.executemany(
                    f"INSERT INTO trials ({TRIAL_COLS}) VALUES ({','.join('?' * 14)})", [r[0] for r in rows]
                )
                cur.executemany(
                    f"INSERT INTO effect_summaries ({SUMMARY_COLS}) VALUES ({','.join('?' * 11)})", [r[1] for r in rows]
                )
            else:
                for table, cols, types, k in (
                    ("trials", TRIAL_COLS, TRIAL_TYPES, 0),
                    ("effect_summaries", SUMMARY_COLS, SUMMARY_TYPES, 1),
                ):
                    with cur.copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT BINARY)") as copy:
                        copy.set_types(types)  # binary COPY: blobs go as bytes, not as hex text
                        for r in rows:
                            copy.write_row(r[k])
            raw.commit()
    finally:
        raw.close()
    db.dispose()
