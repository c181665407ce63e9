"""Hierarchical pooling: exactness of the quadrature, blinding guard, shrinkage, subgroups, streaming."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from magtrial.core.allocation import draw_allocation
from magtrial.core.likelihood import EffectLikelihood
from magtrial.core.pooling import (
    Covariates,
    Prior,
    TrialSummary,
    collect,
    dose_band,
    pool,
    pool_data,
    pool_subgroups,
    prior_sensitivity,
    summary_from_record,
)
from magtrial.core.pooling.engine import below_weights, beta_grid, kernel_weights
from magtrial.core.pooling.simulate import simulate_pool
from magtrial.core.protocol import Condition, Design, Product, Protocol
from magtrial.core.record import TrialRecord
from magtrial.errors import Forbidden, ValidationError


def normal_summaries(means, sds, status="unblinded", **cov):
    return [
        TrialSummary(f"t{i}", status, EffectLikelihood.from_normal(m, s), Covariates(**cov))
        for i, (m, s) in enumerate(zip(means, sds, strict=True))
    ]


def reference_posterior(loglik_fn, n, prior: Prior, mu_nodes, tau_nodes):
    """Brute force, independent of the engine: dense (mu, tau) grid and direct marginal likelihoods.

    ``loglik_fn(mu, tau)`` returns sum_i log m_i(mu, tau) on broadcast arrays.
    """
    mu, tau = np.meshgrid(mu_nodes, tau_nodes, indexing="ij")
    lp = loglik_fn(mu, tau) + prior.log_density(mu, tau)
    p = np.exp(lp - lp.max())
    p /= p.sum()
    return float((p * mu).sum()), float((p * tau).sum()), float(np.sqrt((p * mu**2).sum() - (p * mu).sum() ** 2))


def test_kernel_weights_reproduce_the_gaussian_convolution_in_closed_form():
    grid = beta_grid()
    y, s = -1.3, 0.4
    lik = np.exp(-0.5 * ((grid - y) / s) ** 2)
    mu = np.array([-2.0, -1.0, 0.0, 0.5])
    for tau in (0.0, 0.01, 0.3, 2.0):
        got = lik @ kernel_weights(grid, mu, np.full(mu.size, tau))
        exact = s / np.hypot(s, tau) * np.exp(-0.5 * (y - mu) ** 2 / (s**2 + tau**2))
        # piecewise-linear curve on a 0.05 grid: under 1 % within 3 SD of the curve's peak; in the far tail
        # (4.5 SD, tau ~ 0) interpolation of the Gaussian costs up to 3 %, i.e. 0.03 in log m_i
        near = abs(y - mu) <= 3 * np.hypot(s, tau)
        np.testing.assert_allclose(got[near], exact[near], rtol=1e-2)
        np.testing.assert_allclose(got, exact, rtol=3e-2)


def test_kernel_weights_sum_to_one_and_interpolate_at_tau_zero():
    grid = beta_grid()
    W = kernel_weights(grid, np.array([-3.21, 0.0, 4.4]), np.array([0.0, 0.7, 1.0]))
    np.testing.assert_allclose(W.sum(axis=0), 1.0, atol=1e-9)
    np.testing.assert_allclose(grid @ W, [-3.21, 0.0, 4.4], atol=1e-9)  # mean of the kernel is mu
    assert np.count_nonzero(W[:, 0]) == 2  # tau = 0: the two neighbouring nodes only


def test_below_weights_split_the_hat_at_the_threshold():
    grid = beta_grid()
    v = below_weights(grid, -1.0)
    assert v[grid < -1.06].min() == 1.0 and v[grid > -0.94].max() == 0.0
    assert v[np.argmin(abs(grid + 1.0))] == pytest.approx(0.5)


def test_gaussian_curves_match_brute_force_posterior():
    rng = np.random.default_rng(3)
    means, sds = rng.normal(-0.8, 0.9, 12), rng.uniform(0.3, 1.5, 12)
    res = pool(normal_summaries(means, sds), persons=False)

    def loglik(mu, tau):  # analytic: y_i ~ N(mu, s_i^2 + tau^2)
        v = sds[:, None, None] ** 2 + tau**2
        return (-0.5 * np.log(v) - 0.5 * (means[:, None, None] - mu) ** 2 / v).sum(axis=0)

    ref_mu, ref_tau, ref_sd = reference_posterior(loglik, 12, Prior(), np.linspace(-4, 3, 701), np.linspace(0, 5, 701))
    assert res.mu.mean == pytest.approx(ref_mu, abs=0.005)
    assert res.tau.mean == pytest.approx(ref_tau, abs=0.005)
    assert res.mu.sd == pytest.approx(ref_sd, abs=0.005)


@pytest.mark.slow
def test_heavy_tailed_curves_match_brute_force_integration():
    sim = simulate_pool(8, -1.0, 0.6, np.random.default_rng(11), shape="sigma-unknown", cycles=(3,))
    res = pool(sim.summaries, persons=False)
    fine = np.linspace(-25, 25, 5001)  # direct integration of the exact t-shaped curve, not the grid
    curves = np.array([np.exp(-1.5 * np.log(((d[None, :] - fine[:, None]) ** 2).sum(axis=1))) for d in sim.diffs])
    curves /= curves.max(axis=1, keepdims=True)
    mu_nodes, tau_nodes = np.linspace(-5, 3, 121), np.linspace(0.02, 5, 121)

    def loglik(mu, tau):  # one tau column at a time: (n, fine) @ (fine, mu) by the trapezoid rule
        out = np.empty(mu.shape)
        wts = np.full(fine.size, fine[1] - fine[0])
        wts[[0, -1]] /= 2
        for j in range(mu.shape[1]):
            z = (fine[:, None] - mu[:, j][None, :]) / tau[0, j]
            dens = np.exp(-0.5 * z * z) / (tau[0, j] * np.sqrt(2 * np.pi)) * wts[:, None]
            out[:, j] = np.log(curves @ dens).sum(axis=0)
        return out

    ref_mu, ref_tau, _ = reference_posterior(loglik, 8, Prior(), mu_nodes, tau_nodes)
    assert res.mu.mean == pytest.approx(ref_mu, abs=0.01)
    assert res.tau.mean == pytest.approx(ref_tau, abs=0.01)
    # and the full curve matters: a normal approximation with the same moments gives another answer
    moments = [s.likelihood.moments() for s in sim.summaries]
    approx = pool(normal_summaries(*zip(*moments, strict=True)), persons=False)
    assert abs(approx.tau.mean - res.tau.mean) > 0.02 or abs(approx.mu.mean - res.mu.mean) > 0.02


def test_blinded_trials_are_never_pooled():
    good = normal_summaries([-1.0, -0.5, -1.5, -0.2, -0.9], [0.5] * 5)
    secret = TrialSummary("blind", "active", EffectLikelihood.from_normal(-9.0, 0.1))
    stopped = TrialSummary("stop", "stopped", EffectLikelihood.from_normal(-9.0, 0.1))
    res = pool([*good, secret, stopped])
    assert res.n_trials == 5
    assert res.excluded == {"blinded": 1, "stopped before unblinding": 1}
    assert "blind" not in {p.trial_id for p in res.persons}
    assert res.mu.mean == pytest.approx(pool(good).mu.mean, abs=1e-12)
    assert "Not pooled: 1 blinded" in res.text
    with pytest.raises(ValidationError, match="no unblinded trials"):
        pool([secret])


def test_a_blinded_record_cannot_become_a_summary():
    protocol = Protocol(
        condition=Condition.CRPS1,
        product=Product("Mg glycinate", "glycinate", elemental_mg_per_unit=100.0, units_per_day=2),
    )
    base = dict(
        trial_id="t1",
        participant="P-1",
        protocol=protocol,
        start_date=dt.date(2026, 1, 5),
        commitment="x",
        created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    curve = EffectLikelihood.from_normal(-1.0, 0.5)
    with pytest.raises(Forbidden):
        summary_from_record(TrialRecord(**base, status="active"), curve)
    with pytest.raises(Forbidden):  # status says unblinded but the arms are not there
        summary_from_record(TrialRecord(**base, status="unblinded"), curve)
    rec = TrialRecord(**base, status="unblinded", allocation=draw_allocation(Design.PAIRED, 4))
    s = summary_from_record(rec, curve)
    assert s.poolable and s.covariates.elemental_mg_per_day == 200.0 and s.covariates.condition == "crps-1"


def test_flat_curves_weigh_less_than_sharp_ones():
    base = normal_summaries([-1.0] * 10, [0.4] * 10)
    flat = pool([*base, TrialSummary("far", "unblinded", EffectLikelihood.from_normal(3.0, 4.0))], persons=False)
    sharp = pool([*base, TrialSummary("far", "unblinded", EffectLikelihood.from_normal(3.0, 0.2))], persons=False)
    assert abs(flat.mu.mean + 1.0) < 0.15 < abs(sharp.mu.mean + 1.0)


def test_person_estimates_shrink_toward_the_mean_and_noisy_ones_more():
    rng = np.random.default_rng(5)
    means = rng.normal(-1.0, 0.5, 30)
    sds = np.where(np.arange(30) % 2 == 0, 0.3, 1.5)
    res = pool(normal_summaries(means, sds))
    mu = res.mu.mean
    shrink = []
    for p, sd in zip(res.persons, sds, strict=True):
        own = p.own[0]
        assert min(own, mu) - 0.05 <= p.estimate.mean <= max(own, mu) + 0.05
        assert p.estimate.lower < p.estimate.mean < p.estimate.upper
        if abs(own - mu) > 0.3:
            shrink.append((sd, 1 - (p.estimate.mean - mu) / (own - mu)))
    noisy = np.mean([s for sd, s in shrink if sd > 1]) if shrink else 0
    sharp = np.mean([s for sd, s in shrink if sd < 1]) if shrink else 0
    assert noisy > sharp


def test_population_responder_share_has_the_predictive_probability_as_its_mean():
    sim = simulate_pool(60, -1.2, 0.8, np.random.default_rng(2))
    res = pool(sim.summaries)
    # E[Phi((-1 - mu) / tau)] over the posterior = P(beta_new <= -1): two routes through the grid agree
    assert res.responders_population.mean == pytest.approx(res.p_new_responder, abs=2e-3)
    assert 0 <= res.responders_population.lower < res.responders_population.upper <= 1
    enrolled = np.mean([p.p_responder for p in res.persons])
    assert res.responders_enrolled.mean == pytest.approx(enrolled, abs=1e-9)


def test_subgroups_estimate_large_levels_and_warn_on_small_ones():
    rng = np.random.default_rng(4)
    items = [
        TrialSummary(
            f"o{i}",
            "unblinded",
            EffectLikelihood.from_normal(rng.normal(-1.5, 0.3), 0.4),
            Covariates("crps-1", "oral", "glycinate", 250.0),
        )
        for i in range(12)
    ]
    items += [
        TrialSummary(
            f"c{i}",
            "unblinded",
            EffectLikelihood.from_normal(rng.normal(0.0, 0.3), 0.4),
            Covariates("other", "transdermal-cream", "chloride", None),
        )
        for i in range(3)
    ]
    groups = {(g.by, g.level): g for g in pool_subgroups(collect(items))}
    oral = groups[("route", "oral")]
    assert oral.n_trials == 12 and oral.result is not None and oral.result.mu.upper < -1.0
    small = groups[("route", "transdermal")]
    assert small.result is None and "only 3 trials" in small.warning and "nothing can be said" in small.text
    assert groups[("dose_band", "150-300 mg/day")].n_trials == 12
    assert groups[("dose_band", "unknown")].result is None


def test_dose_bands_cut_at_150_and_300_mg():
    assert [dose_band(x) for x in (None, 0, 149.9, 150, 300, 300.1)] == [
        "unknown",
        "<150 mg/day",
        "<150 mg/day",
        "150-300 mg/day",
        ">300 mg/day",
        ">300 mg/day",
    ]


def test_streaming_reads_chunks_and_skips_duplicates_and_other_outcomes():
    sim = simulate_pool(25, -1.0, 0.5, np.random.default_rng(8))
    seen = []
    extra = [sim.summaries[0], TrialSummary("x", "unblinded", EffectLikelihood.from_normal(0, 1), outcome="sleep")]
    res = pool((s for s in [*sim.summaries, *extra]), chunk_size=7, progress=seen.append)
    assert seen == [7, 7, 7, 6] and res.n_trials == 25
    assert res.excluded == {"duplicate trial": 1, "other outcome": 1}


def test_prior_sensitivity_moves_tau_when_trials_are_few():
    data = collect(simulate_pool(6, -1.0, 0.5, np.random.default_rng(9)).summaries)
    runs = prior_sensitivity(data)
    taus = [r.tau.mean for r in runs]
    assert len(runs) == 5 and max(taus) - min(taus) > 0.1
    assert "half-cauchy" in runs[3].label


def test_result_has_summary_table_text_and_json_ready_dict():
    res = pool(simulate_pool(20, -1.0, 0.5, np.random.default_rng(1)).summaries)
    assert [row["quantity"] for row in res.summary][:2] == ["mu (mean effect)", "tau (between-person SD)"]
    assert "Pooled 20 unblinded" in res.text and "Priors: mu ~ N(0, 2.5^2)" in res.text
    d = res.as_dict(persons=True)
    assert d["n_trials"] == 20 and len(d["persons"]) == 20 and d["responder_threshold"] == -1.0


def test_pool_data_is_deterministic():
    data = collect(simulate_pool(40, -0.5, 0.7, np.random.default_rng(6), shape="student").summaries)
    a, b = pool_data(data), pool_data(data)
    assert a.mu == b.mu and a.tau == b.tau and a.persons == b.persons


def test_bimodal_curves_give_the_bimodal_posterior_of_the_brute_force_reference():
    grid = np.linspace(-6, 6, 601)
    s, centres = 0.3, (-2.0, 1.0)
    curve = EffectLikelihood(grid, np.logaddexp(*(-0.5 * ((grid - c) / s) ** 2 for c in centres)))
    res = pool([TrialSummary(f"b{i}", "unblinded", curve) for i in range(10)], persons=False)

    def loglik(mu, tau):  # each curve is a two-normal mixture: its convolution is analytic
        v = s**2 + tau**2
        m = sum(s / np.sqrt(v) * np.exp(-0.5 * (c - mu) ** 2 / v) for c in centres)
        return 10 * np.log(m)

    ref_mu, ref_tau, ref_sd = reference_posterior(loglik, 10, Prior(), np.linspace(-4, 3, 701), np.linspace(0, 4, 401))
    assert res.mu.mean == pytest.approx(ref_mu, abs=0.01)  # about -0.32: mass at both modes, prior tilts to +1
    assert res.mu.sd == pytest.approx(ref_sd, abs=0.01) and res.mu.sd > 1.0
    assert res.tau.mean == pytest.approx(ref_tau, abs=0.01)
    assert res.mu.lower < -1.8 and res.mu.upper > 0.9


@settings(max_examples=60, deadline=None)
@given(mu=st.floats(-3.0, 3.0), tau=st.floats(0.0, 1.0))  # 7 SD inside the grid ends
def test_kernel_weights_are_a_distribution_with_the_kernel_mean_and_variance(mu, tau):
    grid = beta_grid()
    w = kernel_weights(grid, np.array([mu]), np.array([tau]))[:, 0]
    h = grid[1] - grid[0]
    assert w.min() >= 0 and w.sum() == pytest.approx(1.0, abs=1e-9)
    assert grid @ w == pytest.approx(mu, abs=1e-9)
    var = (grid - mu) ** 2 @ w  # the kernel's variance plus the linear split between neighbouring nodes
    assert tau**2 - 1e-9 <= var <= tau**2 + h**2 / 4 + 1e-9


def test_subgroup_results_leave_out_the_enrolled_share_cleanly():
    data = collect(simulate_pool(12, -1.0, 0.5, np.random.default_rng(12)).summaries)
    (group,) = [g for g in pool_subgroups(data, ["route"]) if g.result is not None]
    assert group.result.responders_enrolled is None
    assert [r["quantity"] for r in group.result.summary][-1] == "responders in population"
    assert "of the population." in group.result.text and group.as_dict()["estimate"]["responders_enrolled"] is None


def test_a_pool_of_very_few_trials_warns_that_it_says_little():
    from magtrial.core.likelihood import EffectLikelihood
    from magtrial.core.pooling import TrialSummary, pool

    few = pool([TrialSummary(f"t{i}", "unblinded", EffectLikelihood.from_normal(-1.0, 0.5)) for i in range(2)])
    many = pool([TrialSummary(f"t{i}", "unblinded", EffectLikelihood.from_normal(-1.0, 0.5)) for i in range(8)])
    assert "only 2 trial(s)" in few.text
    assert "Warning: only" not in many.text
