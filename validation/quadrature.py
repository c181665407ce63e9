"""Quadrature error of the exact per-person model: default nodes against doubled nodes.

Run: ``.venv/bin/python -m validation.quadrature [--sets 40]``

For diaries of 6 (the least ``analyze`` accepts) to 82 analysis days, whole-number scores
(rounded, clipped 0-10) with autocorrelation -0.3 to 0.9, it fits ``fit_effect`` with the default
nodes (``Quadrature.for_days(n)``) and with every count doubled and prints, per diary length, the
largest absolute difference over the data sets in the posterior mean, the 95 % interval limits
(points) and P(beta < 0). The model docstring quotes these numbers. ``--reference`` measures the
fit before issue 13 (``benchmarks/fit_reference.py``) the same way, for comparison.
"""

from __future__ import annotations

import argparse

import numpy as np

from magtrial.core.analysis import Quadrature, fit_effect

LENGTHS = (6, 8, 12, 20, 30, 40, 60, 70, 82, 120)


def diary(rng: np.random.Generator, n_days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n_days`` analysis days spread over alternating periods, integer scores, 10 % extra gaps."""
    rho = rng.uniform(-0.3, 0.9)
    sd = rng.uniform(0.5, 2.0)
    per = max(n_days // 4, 2)
    day = np.array([(i // per) * (per + 3) + i % per for i in range(n_days)]) + 3
    day = day + np.cumsum(rng.random(n_days) < 0.1)
    first = ((day // (per + 3)) % 2 == 0) != (rng.random() < 0.5)
    e = np.empty(day[-1] + 1)
    e[0] = rng.normal(0, sd)
    for t in range(1, e.size):
        e[t] = rho * e[t - 1] + rng.normal(0, sd * np.sqrt(1 - rho**2))
    y = np.clip(np.rint(5.5 + rng.normal(0, 1) * np.where(first, 0.5, -0.5) + e[day]), 0, 10)
    if np.ptp(y) == 0:
        y[0] += 1
    return y, day, first


def errors(n_days: int, n_sets: int, seed: int = 0, reference: bool = False) -> np.ndarray:
    """Max |default - doubled| over ``n_sets`` diaries: mean, lower, upper, P(beta < 0)."""
    rng = np.random.default_rng(seed + n_days)
    out = []
    for _ in range(n_sets):
        y, day, first = diary(rng, n_days)
        if reference:
            from benchmarks import fit_reference as ref

            a = ref.fit_effect(y, day, first)
            b = ref.fit_effect(y, day, first, quadrature=ref.Quadrature().doubled())
        else:
            a = fit_effect(y, day, first)
            b = fit_effect(y, day, first, quadrature=Quadrature.for_days(n_days).doubled())
        out.append(
            [abs(a.mean - b.mean), *np.abs(np.subtract(a.interval(), b.interval())), abs(a.cdf(0.0) - b.cdf(0.0))]
        )
    return np.max(out, axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=40)
    parser.add_argument("--reference", action="store_true", help="the fit before issue 13, for comparison")
    args = parser.parse_args()
    flag = " --reference" if args.reference else ""
    print(f"command: .venv/bin/python -m validation.quadrature --sets {args.sets}{flag}")
    print(f"{'days':>5}{'mean':>10}{'lower':>10}{'upper':>10}{'P(<0)':>10}   (max |default - doubled nodes|)")
    for n in LENGTHS:
        e = errors(n, args.sets, reference=args.reference)
        print(f"{n:>5}" + "".join(f"{x:>10.5f}" for x in e))


if __name__ == "__main__":
    main()
