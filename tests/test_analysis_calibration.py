"""A small version of validation/calibration.py: coverage and randomization type I error by simulation.

The full run (1,000 trials x 18 scenarios) is recorded in the issue report; here 250 trials of two
demanding scenarios must stay within binomial tolerance (3 SD) of the targets.
"""

from __future__ import annotations

import numpy as np
import pytest

from validation.calibration import Scenario, run_scenario

N = 250
SD95 = np.sqrt(0.95 * 0.05 / N)


@pytest.mark.slow
@pytest.mark.parametrize("scenario", [Scenario(rho=0.6, effect=-1.0, drift_carryover=True),
                                      Scenario(rho=0.3, effect=0.0, drift_carryover=False)],
                         ids=lambda s: s.name)
def test_credible_interval_covers_and_randomization_test_holds_its_level(scenario):
    row = run_scenario((scenario, N, 77))
    assert abs(row["coverage"] - 0.95) <= 3 * SD95
    assert abs(row["bias"]) < 0.15
    if scenario.effect == 0:
        for level, key in ((1 / 16, "rand_reject_1_16"), (2 / 16, "rand_reject_2_16")):
            assert row[key] <= level + 3 * np.sqrt(level * (1 - level) / N)
