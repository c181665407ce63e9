"""Small builders shared by tests."""

from magtrial.core.protocol import Condition, Product, Protocol


def sample_protocol(**changes: object) -> Protocol:
    product = Product(name="Magnesium citrate 100 mg", salt="citrate", elemental_mg_per_unit=100.0, units_per_day=2)
    base = Protocol(
        condition=Condition.CRPS1, product=product, period_days=7, cycles=3, run_in_days=3, carryover_days=2
    )
    return base.with_changes(**changes) if changes else base


ADULT = {"person": {"age": 45, "sex": "female", "egfr": 90}, "jurisdiction": "US"}

KEY_PASSPHRASE = "correct horse battery staple"


def setup_clinic(run, keys_dir) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Through the CLI: the first account (dr-lee), a pharmacist (ph-ann), both unblinding keys."""
    run("init")
    run("user", "add", "ph-ann", "--role", "pharmacist")
    pharm, emergency = keys_dir / "ph-ann.key", keys_dir / "clinic-emergency.key"
    run("--user", "ph-ann", "keys", "create", "--purpose", "pharmacist", "-o", pharm)
    run("keys", "create", "--purpose", "emergency", "-o", emergency)
    return {"pharmacist": str(pharm), "emergency": str(emergency)}


def run_demo(run, tmp_path):  # type: ignore[no-untyped-def]
    """Run ``magtrial demo`` on a database of its own; return its trial id and a runner acting as its clinician."""
    import re

    url = f"sqlite:///{tmp_path / 'demo-run.sqlite3'}"
    out = run("--db", url, "demo").output
    trial = re.search(r"Trial (mt-[0-9a-f]+)", out).group(1)

    def as_clinician(*args, ok=True):  # type: ignore[no-untyped-def]
        return run("--db", url, "--user", "demo-clinician", *args, ok=ok)

    return trial, as_clinician, out
