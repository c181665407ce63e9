"""``magtrial pool`` and ``magtrial evidence`` as a user runs them (CliRunner, a real SQLite store)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from magtrial.cli import common
from magtrial.cli.main import app
from magtrial.core.pooling.simulate import simulate_pool
from magtrial.service import accounts
from magtrial.store import summaries
from magtrial.store.db import Database
from magtrial.store.models import TrialRow


@pytest.fixture
def store(tmp_path, monkeypatch):
    """30 unblinded trials; 2 still-blinded and 2 simulated (demo) ones whose summaries would pull mu to -8."""
    url = f"sqlite:///{tmp_path / 'magtrial.sqlite3'}"
    monkeypatch.setenv("MAGTRIAL_DATABASE_URL", url)
    monkeypatch.setenv("MAGTRIAL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MAGTRIAL_USER", "dr-lee")
    monkeypatch.setattr(common.console, "width", 200)
    db = Database(url)
    db.migrate()
    accounts.bootstrap(db, "dr-lee")
    sim = simulate_pool(30, -1.0, 0.5, np.random.default_rng(7))
    blinded = simulate_pool(2, -8.0, 0.1, np.random.default_rng(8))
    demo = simulate_pool(2, -8.0, 0.1, np.random.default_rng(9))
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with db.transaction() as s:
        for k, (item, status, simulated) in enumerate(
            [(x, "unblinded", False) for x in sim.summaries]
            + [(x, "active", False) for x in blinded.summaries]
            + [(x, "unblinded", True) for x in demo.summaries]
        ):
            tid = f"{status}-{simulated}-{item.trial_id}"
            s.add(
                TrialRow(
                    id=tid,
                    participant=f"P-{k}",
                    clinician="dr-lee",
                    simulated=simulated,
                    protocol="{}",
                    start_date=dt.date(2026, 1, 5),
                    status=status,
                    commitment="0" * 64,
                    created_at=now,
                    created_by="test",
                    flags="[]",
                )
            )
            c = item.covariates
            summaries.save_summary(
                s,
                trial_id=tid,
                outcome="average_pain",
                method="sim",
                likelihood=item.likelihood,
                n_days=112,
                condition=c.condition,
                route=c.route,
                salt=c.salt,
                elemental_mg_per_day=c.elemental_mg_per_day,
                at=now,
            )
    db.dispose()
    return CliRunner()


def invoke(runner, *args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def test_pool_prints_population_estimate_subgroups_and_warnings(store):
    out = invoke(store, "pool")
    assert "Pooled N-of-1 trials (n = 30)" in out and "mu (mean effect)" in out
    assert "Subgroups" in out and "dose_band" in out
    assert "only 3 trials" not in out or "nothing can be said" in out


def test_pool_json_never_includes_blinded_or_simulated_trials(store):
    data = json.loads(invoke(store, "pool", "--json", "--persons", "--by", "route"))
    assert data["n_trials"] == 30 and -2.0 < data["mu"]["mean"] < 0.0
    assert all(p["trial_id"].startswith("unblinded-False-") for p in data["persons"])  # no blinded, no demo
    assert {g["level"] for g in data["subgroups"]} == {"oral", "transdermal"}
    small = [g for g in data["subgroups"] if g["n_trials"] < 5]
    assert all(g["estimate"] is None and g["warning"] for g in small)


def test_pool_sensitivity_lists_alternative_priors(store):
    out = invoke(store, "pool", "--no-subgroups", "--sensitivity")
    assert "Prior sensitivity" in out and "half-cauchy" in out


def test_pool_on_an_empty_store_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("MAGTRIAL_USER", "dr-lee")
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    monkeypatch.setenv("MAGTRIAL_DATABASE_URL", url)
    db = Database(url)
    db.migrate()
    accounts.bootstrap(db, "dr-lee")
    db.dispose()
    result = CliRunner().invoke(app, ["pool"])
    assert result.exit_code == 1 and "no unblinded trials to pool" in result.output


def test_evidence_table_and_forest_plot_with_the_pooled_estimate(store, tmp_path):
    out = invoke(store, "evidence", "-o", tmp_path / "forest.svg")
    assert "Yousef 2013" in out and "-2.6 (derived; SE not extractable)" in out
    assert "Collins 2009 (uncontrolled)" in out and "Pooled N-of-1 estimate" in out
    svg = (tmp_path / "forest.svg").read_text()
    assert svg.startswith("<?xml") and "uncontrolled" in svg and "Pooled N-of-1 trials, n = 30" in svg
    invoke(store, "evidence", "--no-pool", "-o", tmp_path / "forest.png")
    assert (tmp_path / "forest.png").read_bytes()[:4] == b"\x89PNG"
    data = json.loads(invoke(store, "evidence", "--json"))
    assert len(data["studies"]) == 5 and data["pooled"]["n_trials"] == 30


def test_evidence_refuses_an_unknown_plot_format(store, tmp_path):
    result = store.invoke(app, ["evidence", "-o", str(tmp_path / "forest.pdf")])
    assert result.exit_code == 1 and ".svg or .png" in result.output
