"""Property tests: more magnesium or worse kidneys never soften the verdict, and every proposed
timetable keeps every spacing rule (checked here on a three-day timeline, not by the code's own
wrap-around arithmetic)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from magtrial.core.protocol import Product, Route
from magtrial.core.safety import Medication, Person, Spacing, check_regimen, propose_timetable
from magtrial.core.safety.checker import medication_findings
from magtrial.data.safety import load_safety_rules

RULES = load_safety_rules()
DRUGS = [
    "gabapentin",
    "levothyroxine",
    "doxycycline",
    "ciprofloxacin",
    "alendronate",
    "ferrous sulfate",
    "zinc",
    "edetate",
    "sodium fluoride",
    "furosemide",
    "omeprazole",
    "paracetamol",
    "pregabalin",
]

times = st.builds(dt.time, st.integers(0, 23), st.integers(0, 59))
persons = st.builds(
    Person,
    age=st.floats(0, 120),
    sex=st.sampled_from(["female", "unspecified"]),
    pregnant=st.booleans(),
    egfr=st.none() | st.floats(0, 200),
    dialysis=st.booleans(),
    conditions=st.lists(st.sampled_from(["bradycardia", "ckd", "asthma", "myasthenia gravis"]), max_size=2).map(tuple),
)
medications = st.lists(
    st.builds(Medication, st.sampled_from(DRUGS), st.lists(times, max_size=3).map(tuple)), max_size=4
)


def product(elemental: float, route: Route = Route.ORAL, doses: int = 1) -> Product:
    return Product("p", "citrate", route, 1, elemental, None, None, doses)


@settings(max_examples=200, deadline=None)
@given(
    persons,
    medications,
    st.sampled_from(["US", "EU"]),
    st.floats(10, 2000),
    st.floats(0, 2000),
    st.sampled_from(list(Route)),
)
def test_more_magnesium_never_makes_the_verdict_milder(person, meds, jurisdiction, low, extra, route):
    # From 10 mg/day up: below it a dose is questioned as a likely unit slip (dose-implausibly-low).
    lower = check_regimen(person, [product(low, route)], meds, jurisdiction, rules=RULES)
    higher = check_regimen(person, [product(low + extra, route)], meds, jurisdiction, rules=RULES)
    assert higher.verdict >= lower.verdict


@settings(max_examples=200, deadline=None)
@given(persons, medications, st.floats(0, 200), st.floats(0, 200), st.floats(1, 800))
def test_lower_egfr_never_makes_the_verdict_milder(person, meds, a, b, elemental):
    worse, better = sorted([a, b])
    at_worse = check_regimen(replace(person, egfr=worse), [product(elemental)], meds, "US", rules=RULES)
    at_better = check_regimen(replace(person, egfr=better), [product(elemental)], meds, "US", rules=RULES)
    assert at_worse.verdict >= at_better.verdict


def _keeps(mg: dt.time, s: Spacing) -> bool:
    """Place magnesium on day 1 and the drug on days 0, 1 and 2, then measure real gaps."""
    mg_at = 1440 + mg.hour * 60 + mg.minute
    for day in range(3):
        drug_at = day * 1440 + s.time.hour * 60 + s.time.minute
        if drug_at >= mg_at and drug_at - mg_at < s.drug_after_mg_min:
            return False
        if drug_at <= mg_at and mg_at - drug_at < s.drug_before_mg_min:
            return False
    return True


windows = st.tuples(st.integers(5 * 4, 11 * 4), st.integers(17 * 4, 23 * 4 + 3)).map(
    lambda w: (dt.time(w[0] // 4, w[0] % 4 * 15), dt.time(w[1] // 4, w[1] % 4 * 15))
)


@settings(max_examples=300, deadline=None)
@given(medications, st.integers(1, 6), windows)
def test_a_proposed_timetable_keeps_every_spacing_rule(meds, doses, window):
    wake, sleep = window
    _, spacings = medication_findings(meds, RULES, takes_oral=True)
    timetable = propose_timetable(doses, spacings, wake, sleep)
    grid = [
        dt.time(m // 60, m % 60) for m in range(wake.hour * 60 + wake.minute, sleep.hour * 60 + sleep.minute + 1, 15)
    ]
    free = [g for g in grid if all(_keeps(g, s) for s in spacings)]
    if timetable.feasible:
        proposed = [d.time for d in timetable.doses]
        assert len(proposed) == doses == len(set(proposed))
        assert all(wake <= p <= sleep for p in proposed)
        assert all(_keeps(p, s) for p in proposed for s in spacings)
    else:
        assert len(free) < doses  # infeasible only when there truly are too few free quarter hours
        assert timetable.reason


@settings(max_examples=100, deadline=None)
@given(st.lists(times, min_size=1, max_size=4), st.integers(2, 4))
def test_doses_are_spread_as_widely_as_the_free_times_allow(drug_times, doses):
    spacings = [Spacing("levothyroxine", tm, 240, 240, "drug-levothyroxine") for tm in drug_times]
    timetable = propose_timetable(doses, spacings)
    if not timetable.feasible:
        return
    minutes = [d.time.hour * 60 + d.time.minute for d in timetable.doses]
    smallest_gap = min(b - a for a, b in zip(minutes, minutes[1:], strict=False))
    free = [m for m in range(7 * 60, 22 * 60 + 1, 15) if all(_keeps(dt.time(m // 60, m % 60), s) for s in spacings)]
    # no other choice of `doses` free times has a wider smallest gap (brute force on small cases)
    if len(free) <= 20:
        best = max(min(b - a for a, b in zip(c, c[1:], strict=False)) for c in combinations(free, doses))
        assert smallest_gap == best
