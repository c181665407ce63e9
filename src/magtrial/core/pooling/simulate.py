"""Simulated effect summaries with a known population (for tests, validation and benchmarks).

Each person has a true effect beta_i ~ N(mu, tau^2). Their trial gives ``cycles`` paired
differences d_j = beta_i + e_j (magnesium period mean minus comparator period mean) with
e_j ~ N(0, sigma_i^2); sigma_i varies between people, so some curves are sharp and some flat.

``shape="normal"``: e_j ~ N(0, sigma_i^2), sigma_i known: L_i(beta) = prod_j N(d_j; beta, sigma_i^2).
``shape="student"``: e_j = sigma_i * t_3 noise with sigma_i known: L_i(beta) = prod_j t_3((d_j - beta) /
sigma_i), the exact likelihood of this data; skewed and sometimes bimodal for 3-4 differences.
``shape="sigma-unknown"``: normal e_j, but sigma_i integrated out under p(sigma) ~ 1/sigma, giving
L_i(beta) ~ [sum_j (d_j - beta)^2]^(-k/2), a Student-t shape with k - 1 degrees of freedom. (A Bayesian
curve under an improper prior, not the sampling distribution, so use it for shape and engine checks,
not for frequentist coverage.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from magtrial.core.likelihood import EffectLikelihood
from magtrial.core.pooling.inputs import Covariates, TrialSummary
from magtrial.errors import ValidationError

CONDITIONS = ("crps-1", "painful-diabetic-neuropathy", "low-back-pain-neuropathic", "other")
ROUTES = ("oral", "oral", "oral", "transdermal-cream")
SALTS = ("glycinate", "citrate", "oxide", "chloride")
STUDENT_DF = 3.0


@dataclass(frozen=True)
class SimulatedPool:
    summaries: list[TrialSummary]
    beta: np.ndarray  # true person effects
    diffs: list[np.ndarray]  # paired differences per person (for peer engines)
    sigma: np.ndarray  # per-person noise SD of a paired difference


def loglik_on_grid(diffs: np.ndarray, sigma: float, shape: str, grid: np.ndarray) -> np.ndarray:
    r = diffs[None, :] - grid[:, None]
    if shape == "normal":
        return np.asarray(-0.5 * (r**2).sum(axis=1) / sigma**2)
    if shape == "student":
        return np.asarray(-0.5 * (STUDENT_DF + 1) * np.log1p((r / sigma) ** 2 / STUDENT_DF).sum(axis=1))
    if shape == "sigma-unknown":
        return np.asarray(-0.5 * diffs.size * np.log((r**2).sum(axis=1)))
    raise ValidationError("shape must be 'normal', 'student' or 'sigma-unknown'")


def simulate_pool(
    n: int,
    mu: float,
    tau: float,
    rng: np.random.Generator,
    *,
    shape: str = "normal",
    cycles: tuple[int, ...] = (3, 4),
    sigma_range: tuple[float, float] = (0.5, 2.0),
    n_grid: int = 301,
    status: str = "unblinded",
) -> SimulatedPool:
    beta = rng.normal(mu, tau, size=n)
    sigma = rng.uniform(*sigma_range, size=n)
    k = rng.choice(np.asarray(cycles), size=n)
    out: list[TrialSummary] = []
    diffs: list[np.ndarray] = []
    for i in range(n):
        if shape == "student":
            d = beta[i] + sigma[i] * rng.standard_t(STUDENT_DF, size=int(k[i]))
        else:
            d = beta[i] + rng.normal(0.0, sigma[i], size=int(k[i]))
        diffs.append(d)
        se = sigma[i] / np.sqrt(k[i])
        width = 10 * se if shape == "normal" else 40 * se
        centre = d.mean() if shape != "student" else float(np.median(d))
        grid = np.linspace(centre - width, centre + width, n_grid)
        ll = loglik_on_grid(d, sigma[i], shape, grid)
        cov = Covariates(
            condition=CONDITIONS[i % 4],
            route=ROUTES[(i // 4) % 4],
            salt=SALTS[(i // 16) % 4],
            elemental_mg_per_day=float((100, 200, 350, 250)[(i // 2) % 4]),
        )
        out.append(TrialSummary(f"sim-{i:05d}", status, EffectLikelihood(grid, ll), cov))
    return SimulatedPool(out, beta, diffs, sigma)
