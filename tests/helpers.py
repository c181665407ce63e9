"""Small builders shared by tests."""

from magtrial.core.protocol import Condition, Product, Protocol


def sample_protocol(**changes: object) -> Protocol:
    product = Product(name="Magnesium citrate 100 mg", salt="citrate", elemental_mg_per_unit=100.0, units_per_day=2)
    base = Protocol(condition=Condition.CRPS1, product=product, period_days=7, cycles=3, run_in_days=3,
                    carryover_days=2)
    return base.with_changes(**changes) if changes else base


ADULT = {"person": {"age": 45, "sex": "female", "egfr": 90}, "jurisdiction": "US"}
