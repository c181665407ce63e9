"""Synthetic participants for the demo, tests and benchmarks.

A latent daily pain level follows baseline + drift + placebo response + treatment effect (scaled by
adherence, with exponential carry-over into the next period) + AR(1) noise; the diary records it
rounded and clipped to 0-10, with missing days. Seeds are allowed here: simulation is never a
production randomization path.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from magtrial.core.allocation import Allocation, Arm
from magtrial.core.diary import DiaryValues, DoseTaken
from magtrial.core.schedule import DayKind, Schedule


@dataclass(frozen=True)
class Participant:
    """Truth for one simulated person (pain points on the 0-10 NRS)."""

    baseline: float = 6.5
    effect: float = -1.0  # magnesium minus comparator; negative = less pain
    sd: float = 1.2  # marginal SD of the AR(1) noise
    rho: float = 0.4  # day-to-day autocorrelation
    drift_per_week: float = 0.0
    carryover: float = 0.0  # share of the previous period's effect left on day 1 of the next
    carryover_halflife_days: float = 2.0
    placebo_response: float = 0.5  # drop on any pack, both arms
    missing_rate: float = 0.1
    partial_rate: float = 0.08
    skip_rate: float = 0.03
    diarrhoea_rate_on_magnesium: float = 0.08
    diarrhoea_rate_otherwise: float = 0.02


@dataclass(frozen=True)
class SimulatedDay:
    date: dt.date
    values: DiaryValues | None  # None = missing day
    latent: float


def simulate_diary(
    schedule: Schedule, allocation: Allocation, person: Participant, rng: np.random.Generator
) -> list[SimulatedDay]:
    """One diary for ``person`` over the whole schedule, run-in included."""
    plans = list(schedule.days())
    n = len(plans)
    innov_sd = person.sd * np.sqrt(max(1.0 - person.rho**2, 1e-12))
    noise = np.empty(n)
    noise[0] = rng.normal(0.0, person.sd)
    shocks = rng.normal(0.0, innov_sd, size=n)
    for t in range(1, n):
        noise[t] = person.rho * noise[t - 1] + shocks[t]

    decay = np.log(2) / person.carryover_halflife_days
    out: list[SimulatedDay] = []
    prev_effect = 0.0  # effect of the most recent period, for carry-over
    days_since_period_end = None
    for t, plan in enumerate(plans):
        on_pack = plan.kind is DayKind.PERIOD
        arm = allocation.arm_of_period(plan.period) if on_pack and plan.period else None
        u = rng.random()
        dose = DoseTaken.FULL
        if on_pack:
            dose = (
                DoseTaken.NONE
                if u < person.skip_rate
                else (DoseTaken.PARTIAL if u < person.skip_rate + person.partial_rate else DoseTaken.FULL)
            )
        weight = {DoseTaken.FULL: 1.0, DoseTaken.PARTIAL: 0.5, DoseTaken.NONE: 0.0}[dose]
        effect_today = person.effect * weight if arm is Arm.MAGNESIUM else 0.0
        carry = 0.0
        if on_pack and plan.day_in_period and person.carryover:
            previous = allocation.arm_of_period(plan.period - 1) if plan.period and plan.period > 1 else None
            if previous is not None and previous is not arm:
                carry_from = person.effect if previous is Arm.MAGNESIUM else 0.0
                carry_to = person.effect if arm is Arm.MAGNESIUM else 0.0
                carry = person.carryover * (carry_from - carry_to) * np.exp(-decay * (plan.day_in_period - 1))
        elif plan.kind is DayKind.WASHOUT and person.carryover:
            carry = person.carryover * prev_effect * np.exp(-decay * (days_since_period_end or 0))
        if on_pack:
            prev_effect = person.effect if arm is Arm.MAGNESIUM else 0.0
            days_since_period_end = 0
        elif days_since_period_end is not None:
            days_since_period_end += 1
        weeks = t / 7.0
        latent = (
            person.baseline
            + person.drift_per_week * weeks
            + noise[t]
            + effect_today
            + carry
            - (person.placebo_response if on_pack else 0.0)
        )
        if rng.random() < person.missing_rate:
            out.append(SimulatedDay(plan.date, None, latent))
            continue
        avg = int(np.clip(np.rint(latent), 0, 10))
        worst = int(np.clip(avg + rng.integers(0, 3), avg, 10))
        sleep = int(np.clip(np.rint(0.7 * latent + rng.normal(0, 1.0)), 0, 10))
        p_diarrhoea = (
            person.diarrhoea_rate_on_magnesium if arm is Arm.MAGNESIUM and weight else person.diarrhoea_rate_otherwise
        )
        effects = frozenset({"diarrhoea"}) if rng.random() < p_diarrhoea else frozenset()
        rescue = "paracetamol 1 g" if latent > 8 and rng.random() < 0.5 else ""
        values = DiaryValues(
            average_pain=avg,
            worst_pain=worst,
            sleep_interference=sleep,
            dose_taken=dose if on_pack else DoseTaken.NONE,
            side_effects=effects,
            rescue_medication=rescue,
        )
        out.append(SimulatedDay(plan.date, values, latent))
    return out
