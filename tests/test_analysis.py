"""Per-person analysis: the exact AR(1) model, its result object, blinding and bad input."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import pytest
from scipy.special import logsumexp

from magtrial.core.analysis import SEALED, Outcome, Priors, Quadrature, analyze, build_data, fit_effect
from magtrial.core.diary import DiaryValues, DiaryVersion, VersionKind
from magtrial.errors import Forbidden, ValidationError
from tests.ar1_support import rounding_blocks
from tests.record_factory import make_record


def _ar1_data(rng, n_days=80, rho=0.4, sd=1.2, effect=-1.0, missing=0.1):
    day = np.arange(n_days)
    first = (day // 10) % 2 == 0
    e = np.empty(n_days)
    e[0] = rng.normal(0, sd)
    for t in range(1, n_days):
        e[t] = rho * e[t - 1] + rng.normal(0, sd * np.sqrt(1 - rho**2))
    y = 5.0 + effect * np.where(first, 0.5, -0.5) + e
    keep = rng.random(n_days) > missing
    return y[keep], day[keep], first[keep]


def _dense_reference(y, day, first, n_rho=400, n_sigma=300, rounding_var=1 / 12, rho_beta=1.0):
    """Independent brute force: dense covariance, no whitening, trapezoid grid over (rho, log sigma).

    y ~ N(X m0, sigma^2 R(rho) + w I + X S0 X') gives the evidence; beta | rho, sigma, y by the dense
    Gaussian conditioning formulas. Same priors as the model defaults (drift on); ``rho_beta`` 2 is
    the density (3/4)(1 - rho^2), 1 the uniform.
    """
    n = y.size
    x = np.column_stack([np.ones(n), np.where(first, 0.5, -0.5), (day - day.mean()) / 7])
    m0 = np.array([5.0, 0.0, 0.0])
    s0 = np.diag([25.0, 6.25, 0.0625])
    lag = np.abs(day[:, None] - day[None, :])
    rhos = np.linspace(-0.995, 0.995, n_rho)
    log_sig = np.linspace(np.log(0.3), np.log(5.0), n_sigma)
    logw, means, vars_ = [], [], []
    for rho in rhos:
        r = np.power(rho, lag)
        for ls in log_sig:
            sig = np.exp(ls)
            cov = sig**2 * r + rounding_var * np.eye(n) + x @ s0 @ x.T
            chol = np.linalg.cholesky(cov)
            resid = np.linalg.solve(chol, y - x @ m0)
            log_ml = -0.5 * resid @ resid - np.log(np.diag(chol)).sum() - 0.5 * n * np.log(2 * np.pi)
            k = s0[1] @ x.T  # Cov(beta, y)
            kc = np.linalg.solve(chol, k)
            means.append(m0[1] + kc @ resid)
            vars_.append(s0[1, 1] - kc @ kc)
            log_rho = np.log(0.75 * (1 - rho**2)) if rho_beta == 2 else np.log(0.5)
            log_prior = log_rho + np.log(2 / np.sqrt(2 * np.pi * 9)) - sig**2 / 18 + ls
            logw.append(log_ml + log_prior)
    logw = np.array(logw)
    w = np.exp(logw - logsumexp(logw))
    means, sds = np.array(means), np.sqrt(np.array(vars_))
    from scipy.optimize import brentq
    from scipy.special import ndtr

    def cdf(b):
        return w @ ndtr((b - means) / sds)

    lo = brentq(lambda b: cdf(b) - 0.025, -20, 20)
    hi = brentq(lambda b: cdf(b) - 0.975, -20, 20)
    return float(w @ means), lo, hi, float(cdf(0.0))


@pytest.mark.slow
@pytest.mark.parametrize(
    "priors",
    [Priors(), Priors(rounding_var=0.0, rho_beta=2.0)],
    ids=["rounding, uniform rho", "plain AR(1), Beta(2,2) rho"],
)
def test_quadrature_matches_dense_brute_force_integration(priors):
    rng = np.random.default_rng(11)
    y, day, first = _ar1_data(rng, n_days=36, rho=0.5)
    y = np.clip(np.rint(y), 0, 10)
    post = fit_effect(y, day, first, priors=priors)
    mean, lo, hi, p0 = _dense_reference(
        y, day, first, n_rho=160, n_sigma=90, rounding_var=priors.rounding_var, rho_beta=priors.rho_beta
    )
    assert post.mean == pytest.approx(mean, abs=0.01)
    assert post.interval() == pytest.approx((lo, hi), abs=0.01)
    assert post.cdf(0.0) == pytest.approx(p0, abs=0.005)


@pytest.mark.parametrize("seed,period_effects", [(1, False), (2, False), (3, True)])
def test_doubling_quadrature_nodes_changes_answer_by_under_0_005(seed, period_effects):
    d = build_data(make_record(blinded=False, seed=seed))
    kw = dict(period_effects=period_effects)
    base = fit_effect(d.y, d.day, d.first, d.period, **kw)
    fine = fit_effect(d.y, d.day, d.first, d.period, quadrature=Quadrature().doubled(), **kw)
    assert abs(base.mean - fine.mean) < 0.005
    assert np.max(np.abs(np.subtract(base.interval(), fine.interval()))) < 0.005


@pytest.mark.parametrize("rho", [0.7, -0.4, 0.995])
def test_rounding_term_cross_products_equal_the_dense_covariance(rho):
    """One banded Cholesky pass gives exactly M' V^-1 M and log det V for V = sigma^2 R(rho) + w I."""
    rng = np.random.default_rng(0)
    day = np.sort(rng.choice(60, 40, replace=False)).astype(float)
    n = day.size
    a, y = np.column_stack([np.ones(n), rng.normal(size=n)]), rng.normal(size=n)
    phi = np.power(rho, np.diff(day))[None]
    s = np.sqrt(1 - phi**2)
    a_w = np.concatenate([a[None, :1], (a[None, 1:] - phi[..., None] * a[None, :-1]) / s[..., None]], 1)
    y_w = np.concatenate([y[None, :1], (y[None, 1:] - phi * y[None, :-1]) / s], 1)
    sigma = np.array([[0.3, 1.5]])
    g, b, c, logdet_k = rounding_blocks(a_w, y_w, phi, s, sigma, 1 / 12)
    for j, sig in enumerate(sigma[0]):
        v = sig**2 * np.power(rho, np.abs(day[:, None] - day[None, :])) + np.eye(n) / 12
        vi = np.linalg.inv(v)
        assert g[0, j] == pytest.approx(a.T @ vi @ a, rel=1e-9, abs=1e-9)
        assert b[0, j] == pytest.approx(a.T @ vi @ y, rel=1e-9, abs=1e-9)
        assert c[0, j] == pytest.approx(y @ vi @ y, rel=1e-9)
        assert logdet_k[0, j] + 2 * np.log(s).sum() == pytest.approx(np.linalg.slogdet(v)[1], abs=1e-9)


def test_stated_quadrature_error_holds_at_six_days():
    """The docstring's bound at the minimum diary: interval limits within 0.012 of doubled nodes."""
    from validation.quadrature import errors

    mean, lower, upper, p0 = errors(6, 10)
    assert mean < 0.001 and p0 < 0.001 and max(lower, upper) < 0.012


def test_large_effect_is_found_and_no_effect_is_not():
    rng = np.random.default_rng(5)
    y, day, first = _ar1_data(rng, n_days=112, effect=-3.0, rho=0.3, sd=1.0)
    post = fit_effect(y, day, first)
    lo, hi = post.interval()
    assert lo < -3.0 < hi and hi < -2.0
    assert post.cdf(0.0) > 0.999
    y0, day0, first0 = _ar1_data(np.random.default_rng(6), n_days=112, effect=0.0)
    lo0, hi0 = fit_effect(y0, day0, first0).interval()
    assert lo0 < 0 < hi0


def test_autocorrelation_is_estimated_from_gappy_data():
    y, day, first = _ar1_data(np.random.default_rng(8), n_days=400, rho=0.7, missing=0.3)
    assert fit_effect(y, day, first).rho_mean == pytest.approx(0.7, abs=0.1)
    y, day, first = _ar1_data(np.random.default_rng(9), n_days=400, rho=-0.4, missing=0.3)
    assert fit_effect(y, day, first).rho_mean == pytest.approx(-0.4, abs=0.12)


def test_effect_likelihood_times_prior_gives_back_the_posterior():
    d = build_data(make_record(blinded=False, seed=4))
    post = fit_effect(d.y, d.day, d.first, d.period)
    lik = post.effect_likelihood()
    log_post = lik.log_lik - 0.5 * (lik.grid / 2.5) ** 2
    w = np.exp(log_post - log_post.max())
    mean = np.trapezoid(w * lik.grid, lik.grid) / np.trapezoid(w, lik.grid)
    assert mean == pytest.approx(post.mean, abs=0.002)
    # The likelihood alone (flat prior) is a little wider and further from 0 than the posterior.
    lmean, lsd = lik.moments()
    assert lsd > post.sd and abs(lmean) >= abs(post.mean)


def test_analysis_is_deterministic():
    record = make_record(blinded=False, seed=2)
    assert analyze(record).to_dict() == analyze(record).to_dict()


def test_blinded_record_is_refused_before_any_comparison_between_packs():
    record = make_record(blinded=True, seed=7)
    for call in (lambda: analyze(record), lambda: analyze(record, "mood", mcid=-1), lambda: build_data(record)):
        with pytest.raises(Forbidden) as caught:
            call()
        assert str(caught.value) == f"trial {record.trial_id} is blinded: {SEALED}"
    assert "only after unblinding" in SEALED and "unblinded pharmacist" in SEALED


def test_the_pharmacists_view_of_a_running_trial_is_analysed_like_an_unblinded_one():
    """A record that carries its allocation before unblinding (the pharmacist's, audited) is analysed."""
    unblinded = make_record(blinded=False, seed=3)
    running = dataclasses.replace(unblinded, status="active", unblinded_at=None)
    assert analyze(running).to_dict() == analyze(unblinded).to_dict()
    assert "magnesium packs" in analyze(running).text
    assert {p.group for p in analyze(running).periods} == {"magnesium", "comparator"}


def test_per_period_means_match_the_diary():
    record = make_record(blinded=False, seed=1)
    result = analyze(record)
    entries = record.current()
    p3 = record.schedule.period(3)
    values = [
        entries[d].values.average_pain
        for d in (p3.analysis_start + dt.timedelta(days=i) for i in range((p3.end - p3.analysis_start).days + 1))
        if d in entries
    ]
    row = result.periods[2]
    assert row.pack == 3 and row.n_days == len(values)
    assert row.mean == pytest.approx(np.mean(values))
    assert row.group == record.allocation.arm_of_period(3).value


def test_mcid_thirty_percent_of_run_in():
    record = make_record(blinded=False, seed=1)
    result = analyze(record, mcid="30%-run-in")
    assert result.mcid == pytest.approx(0.3 * build_data(record).run_in.mean())
    assert result.effect.p_mcid == pytest.approx(result.posterior.cdf(-result.mcid))


def test_other_outcomes_and_full_dose_sensitivity():
    record = make_record(blinded=False, seed=1)
    for outcome in Outcome:
        result = analyze(record, outcome)
        assert result.outcome is outcome
        assert result.full_dose is not None and result.full_dose.n_days < result.effect.n_days
        assert outcome.label in result.text


def test_summary_rows_and_json_carry_the_same_numbers():
    result = analyze(make_record(blinded=False, seed=2))
    rows = {r["quantity"]: r["value"] for r in result.summary}
    assert rows["95% credible interval, lower"] == result.effect.lower
    out = json.loads(json.dumps(result.to_dict()))
    assert out["effect"]["upper"] == pytest.approx(result.effect.upper)
    assert out["randomization_test"]["min_p_one_sided"] == pytest.approx(1 / 16)


def test_text_never_claims_that_magnesium_works():
    for seed, effect in ((1, -3.0), (2, 0.0), (3, 2.0)):
        text = analyze(make_record(blinded=False, seed=seed, effect=effect)).text.lower()
        assert "magnesium works" not in text and "proves" not in text
        assert "not proof" in text and "cannot go below" in text


def _truncate(record, days):
    keep = tuple(v for v in record.versions if v.day < record.start_date + dt.timedelta(days=days))
    return dataclasses.replace(record, versions=keep)


def test_too_few_days_is_refused_with_a_reason():
    record = _truncate(make_record(blinded=False, seed=1), 7 + 5)
    with pytest.raises(ValidationError, match="at least 6 diary days"):
        analyze(record)


def test_one_arm_never_observed_is_refused():
    record = _truncate(make_record(blinded=False, seed=1), 7 + 14 + 4)
    with pytest.raises(ValidationError, match="cannot be compared|only 1 analysis day"):
        analyze(record)


def test_all_values_equal_is_refused():
    record = make_record(blinded=False, seed=1, corrections=False)
    flat = tuple(
        DiaryVersion(
            v.day,
            v.version,
            VersionKind.ORIGINAL,
            DiaryValues(4, 6, 3, v.values.dose_taken),
            v.recorded_at,
            v.recorded_by,
        )
        for v in record.versions
    )
    with pytest.raises(ValidationError, match="same value"):
        analyze(dataclasses.replace(record, versions=flat))


def test_bad_options_are_refused():
    record = make_record(blinded=False, seed=1)
    with pytest.raises(ValidationError, match="outcome must be"):
        analyze(record, "mood")
    with pytest.raises(ValidationError, match="mcid"):
        analyze(record, mcid=-1)
    with pytest.raises(ValidationError, match="mcid"):
        analyze(record, mcid="a lot")
