"""Calibration of the per-person analysis by simulation.

Run: ``.venv/bin/python -m validation.calibration [--trials 1000] [--processes 2]``

For each scenario (day-to-day autocorrelation 0 / 0.3 / 0.6; true effect 0 / -1 / -2; without, or
with, drift of 0.1 points per week plus carry-over of half the effect decaying with a 1-day
half-life; 10 % missing days) it simulates complete diaries with ``core.sim.simulate_diary``
(16 weeks: 7-day run-in, 4 AB/BA cycles of 14-day periods, 3-day carry-over windows; scores
rounded and clipped to 0-10), runs the full ``analyze(record)`` and reports:

* coverage of the true effect by the 95 % credible interval (target 93-97 %);
* mean estimate and interval width;
* the randomization test's rejection rate at its smallest attainable level 1/16 and at 2/16
  (type I error under a zero effect: should be at or below the level).

Every dose is taken in full here, so the true effect on every analysed day is the stated effect.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import time
from dataclasses import dataclass
from multiprocessing import Pool

import numpy as np

from magtrial.core.allocation import Allocation, Arm
from magtrial.core.analysis import analyze
from magtrial.core.diary import DiaryVersion, VersionKind
from magtrial.core.protocol import Condition, Product, Protocol
from magtrial.core.record import TrialRecord
from magtrial.core.schedule import build_schedule
from magtrial.core.sim import Participant, simulate_diary

START = dt.date(2026, 1, 5)
AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
PROTOCOL = Protocol(condition=Condition.DIABETIC_NEUROPATHY,
                    product=Product(name="Mg glycinate", salt="glycinate", elemental_mg_per_unit=100),
                    cycles=4, period_days=14, run_in_days=7, carryover_days=3, start_date=START)


@dataclass(frozen=True)
class Scenario:
    rho: float
    effect: float
    drift_carryover: bool

    @property
    def name(self) -> str:
        extra = "drift+carry-over" if self.drift_carryover else "plain"
        return f"rho={self.rho:.1f} effect={self.effect:+.0f} {extra}"

    def participant(self) -> Participant:
        return Participant(baseline=6.5, effect=self.effect, sd=1.2, rho=self.rho, missing_rate=0.1,
                           partial_rate=0.0, skip_rate=0.0,
                           drift_per_week=0.1 if self.drift_carryover else 0.0,
                           carryover=0.5 if self.drift_carryover else 0.0, carryover_halflife_days=1.0)


SCENARIOS = tuple(Scenario(r, e, d) for d, r, e in itertools.product((False, True), (0.0, 0.3, 0.6),
                                                                   (0.0, -1.0, -2.0)))


def one_trial(scenario: Scenario, rng: np.random.Generator) -> tuple[float, float, float, float]:
    """Simulate and analyse one trial: (mean, lower, upper, randomization one-sided p)."""
    seq = tuple(a for _ in range(PROTOCOL.cycles)
                for a in ((Arm.MAGNESIUM, Arm.COMPARATOR) if rng.random() < 0.5 else (Arm.COMPARATOR, Arm.MAGNESIUM)))
    allocation = Allocation(PROTOCOL.design, seq, "0" * 64)
    days = simulate_diary(build_schedule(PROTOCOL, START), allocation, scenario.participant(), rng)
    versions = tuple(DiaryVersion(d.date, 1, VersionKind.ORIGINAL, d.values, AT, "sim") for d in days if d.values)
    record = TrialRecord("SIM", "P", PROTOCOL, START, "", AT, "unblinded", versions, allocation)
    result = analyze(record)
    e = result.effect
    return e.mean, e.lower, e.upper, result.randomization.p_lower


def run_scenario(args: tuple[Scenario, int, int]) -> dict[str, float | str | int]:
    scenario, n_trials, seed = args
    rng = np.random.default_rng(seed)
    out = np.array([one_trial(scenario, rng) for _ in range(n_trials)])
    mean, lo, hi, p = out.T
    return {"scenario": scenario.name, "trials": n_trials,
            "coverage": float(np.mean((lo <= scenario.effect) & (scenario.effect <= hi))),
            "mean_estimate": float(mean.mean()), "bias": float(mean.mean() - scenario.effect),
            "width": float(np.mean(hi - lo)),
            "rand_reject_1_16": float(np.mean(p <= 1 / 16 + 1e-9)),
            "rand_reject_2_16": float(np.mean(p <= 2 / 16 + 1e-9))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    jobs = [(s, args.trials, 1000 + i) for i, s in enumerate(SCENARIOS)]
    t0 = time.perf_counter()
    with Pool(args.processes) as pool:
        rows = pool.map(run_scenario, jobs)
    se = np.sqrt(0.95 * 0.05 / args.trials)
    print(f"command: .venv/bin/python -m validation.calibration --trials {args.trials} "
          f"--processes {args.processes}   ({time.perf_counter() - t0:.0f} s)")
    print(f"{'scenario':<34}{'n':>6}{'cover95':>9}{'bias':>8}{'width':>7}{'rand<=1/16':>11}{'rand<=2/16':>11}")
    for row in rows:
        flag = "" if 0.93 <= row["coverage"] <= 0.97 else "  <- outside 93-97%"
        print(f"{row['scenario']:<34}{row['trials']:>6}{row['coverage']:>9.3f}{row['bias']:>+8.3f}"
              f"{row['width']:>7.2f}{row['rand_reject_1_16']:>11.3f}{row['rand_reject_2_16']:>11.3f}{flag}")
    print(f"(binomial SE of a 95% coverage estimate with {args.trials} trials: {se:.3f}; randomization "
          "rejection rates are type I errors where effect=+0, nominal 0.0625 and 0.125)")


if __name__ == "__main__":
    main()
