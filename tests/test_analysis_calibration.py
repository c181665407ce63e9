"""A small version of validation/calibration.py: coverage and randomization type I error by simulation.

The full run (1,500 trials x 32 scenarios, autocorrelation 0 to 0.8) is in the issue 12 report; here
250 trials of three demanding scenarios must stay within binomial tolerance (3 SD) of the targets.
"""

from __future__ import annotations

import numpy as np
import pytest

from validation.calibration import Scenario, run_scenario

N = 250
SD95 = np.sqrt(0.95 * 0.05 / N)


@pytest.mark.slow
@pytest.mark.parametrize(
    "scenario",
    [
        Scenario(rho=0.6, effect=-1.0, drift_carryover=True),
        Scenario(rho=0.8, effect=-1.0, drift_carryover=False),
        Scenario(rho=0.3, effect=0.0, drift_carryover=False),
    ],
    ids=lambda s: s.name,
)
def test_credible_interval_covers_and_randomization_test_holds_its_level(scenario):
    row = run_scenario((scenario, N, 77))
    assert abs(row["coverage"] - 0.95) <= 3 * SD95
    assert abs(row["bias"]) < 0.15
    if scenario.effect == 0:
        for level, key in ((1 / 16, "rand_reject_1_16"), (2 / 16, "rand_reject_2_16")):
            assert row[key] <= level + 3 * np.sqrt(level * (1 - level) / N)
