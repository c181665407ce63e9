"""Operating characteristics of the default adaptive stopping rule against the fixed design.

Run: ``.venv/bin/python validation/adaptive_stopping.py [trials]`` (default 10,000 simulated trials per truth
and design). The rule is ``StoppingRule()`` (stop for benefit when P(effect <= -1) >= 0.95, for futility
when P(effect > -0.5) >= 0.90, evaluated after cycles 2 and 3 of a 4-cycle trial of 2-week periods);
the truth model is ``magtrial plan``'s (SD 1.5, day-to-day correlation 0.4, 10 % missing days).
The fixed design claims benefit when the final 95 % interval lies below 0; the adaptive one when it
stops for benefit, or reaches the end and meets the same final criterion. Prints one table per assumed
true effect (power is computed at that effect; the false-positive rate always at effect 0).
"""

from __future__ import annotations

import sys
import time

from magtrial.core.planning import DesignSpec
from magtrial.core.stopping import StoppingRule
from magtrial.core.stopping_sim import simulate_adaptive


def main(trials: int) -> None:
    rule = StoppingRule()
    rows = []
    t0 = time.perf_counter()
    for effect in (-1.0, -1.5, -2.0):
        result = simulate_adaptive(DesignSpec(cycles=4, period_days=14, effect=effect), rule, trials, seed=2026)
        rows.append(result)
    elapsed = time.perf_counter() - t0
    print(f"Rule: {rule.text}.")
    print(f"4 cycles x 2 periods of 14 days; SD 1.5, rho 0.4, 10% missing; {trials:,} trials per truth and design.")
    print()
    print("| true effect | design | false-positive rate | power | mean cycles, no effect | mean cycles, effect |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        for name, fpr, power, c0, c1 in (
            ("fixed", r.null.fixed_claims, r.alternative.fixed_claims, 4.0, 4.0),
            ("adaptive", r.null.adaptive_claims, r.alternative.adaptive_claims, r.null.mean_cycles,
             r.alternative.mean_cycles),
        ):  # fmt: skip
            print(f"| {r.spec.effect:+.1f} | {name} | {100 * fpr:.1f}% | {100 * power:.1f}% | {c0:.2f} | {c1:.2f} |")
    print()
    for r in rows:
        a = r.alternative
        print(
            f"effect {r.spec.effect:+.1f}: stopped early for benefit {100 * a.stopped_benefit:.1f}%, for futility "
            f"{100 * a.stopped_futility:.1f}%; with no effect: futility {100 * r.null.stopped_futility:.1f}%, "
            f"benefit {100 * r.null.stopped_benefit:.2f}%"
        )
    print(f"({elapsed:.1f} s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
