"""Protocol validation: each rule gives a message a clinician can act on; TOML round-trips."""

import datetime as dt
import tomllib

import pytest

from magtrial.core.protocol import Blinding, Comparator, Protocol, Route, blinding_limitations
from magtrial.errors import ProtocolError
from tests.helpers import sample_protocol


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"period_days": 2}, "period length must be 3-84"),
        ({"cycles": 0}, "cycles must be 1-12"),
        ({"cycles": 13}, "cycles must be 1-12"),
        ({"washout_days": 7}, "shorter than a period"),
        ({"run_in_days": -1}, "run-in"),
        ({"carryover_days": 6}, "carry-over window"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"comparator": Comparator.NONE}, "cannot be blinded"),
        ({"comparator": Comparator.VEHICLE}, "vehicle-cream comparator only fits a transdermal"),
    ],
)
def test_invalid_protocols_are_refused_with_a_reason(changes, message):
    with pytest.raises(ProtocolError, match=message):
        sample_protocol(**changes)


def test_foot_soak_cannot_be_blinded_and_says_so():
    base = sample_protocol(comparator=Comparator.NONE, blinding=Blinding.OPEN)
    soak = base.product.__class__(name="Epsom soak", salt="sulfate-heptahydrate", route=Route.FOOT_SOAK)
    with pytest.raises(ProtocolError, match="cannot be blinded"):
        base.with_changes(product=soak, blinding=Blinding.BLINDED)
    open_soak = base.with_changes(product=soak)
    assert any("Open design" in n for n in blinding_limitations(open_soak))


def test_oral_product_needs_elemental_or_salt_mass():
    with pytest.raises(ProtocolError, match="elemental mg per unit"):
        Protocol.from_dict({"condition": "crps-1", "product": {"name": "Mg", "salt": "oxide"}})


def test_toml_protocol_round_trips():
    text = """
condition = "painful-diabetic-neuropathy"
comparator = "matched-placebo"
design = "counterbalanced"
period_days = 10
washout_days = 2
cycles = 4
start_date = "2026-03-02"
timezone = "Europe/Berlin"
[product]
name = "Mg glycinate"
salt = "glycinate"
salt_mg_per_unit = 500
units_per_day = 2
"""
    p = Protocol.from_dict(tomllib.loads(text))
    assert p.start_date == dt.date(2026, 3, 2) and p.product.salt_mg_per_unit == 500
    assert Protocol.from_dict(p.to_dict()) == p


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"condition": "migraine", "product": {"name": "x", "salt": "oxide", "elemental_mg_per_unit": 1}},
            "condition must be one of",
        ),
        (
            {"condition": "crps-1", "product": {"name": "x", "salt": "oxide", "elemental_mg_per_unit": 1}, "colour": 1},
            "unknown key colour; allowed keys: condition, product, comparator",
        ),
        (
            {"condition": "crps-1", "product": {"name": "x", "salt": "oxide", "elemental_mg_per_unit": -5}},
            "must be positive",
        ),
        (
            {
                "condition": "crps-1",
                "product": {"name": "x", "salt": "oxide", "elemental_mg_per_unit": 1},
                "cycles": "four",
            },
            "cycles must be a whole number, got 'four'",
        ),
        ({"condition": "crps-1"}, r"\[product\] table"),
    ],
)
def test_bad_protocol_files_name_the_problem(data, message):
    with pytest.raises(ProtocolError, match=message):
        Protocol.from_dict(data)
