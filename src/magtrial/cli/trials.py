"""CLI: init and trial ...: each command parses input and calls one service method."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from magtrial.cli.common import KEY_OPTION, console, open_context, parse_date, unlock_key
from magtrial.core import allocation as alloc
from magtrial.core.protocol import Protocol, blinding_limitations
from magtrial.core.safety.profile import parse_med_spec
from magtrial.errors import ValidationError

trial_app = typer.Typer(no_args_is_help=True, help="Create, inspect, unblind and verify trials.")
SAFETY_KEYS = ("person", "medication", "medications", "jurisdiction")


def register(app: typer.Typer) -> None:
    from magtrial.cli.demo import demo

    app.command("demo")(demo)
    app.add_typer(trial_app, name="trial")


def load_trial_file(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a trial TOML into protocol keys and the safety profile (person, medications)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationError(f"no such file: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{path} is not valid TOML: {exc}") from None
    safety = {key: data.pop(key) for key in SAFETY_KEYS if key in data}
    return data, safety


@trial_app.command("create")
def create(
    ctx: typer.Context,
    file: Path | None = typer.Option(
        None,
        "--file",
        "-f",
        help=r"Trial TOML: protocol keys, \[product], optional \[person] and [\[medication]] for the safety check.",
    ),
    participant: str | None = typer.Option(None, help="Pseudonym (never a real name)."),
    condition: str | None = typer.Option(None, help="crps-1, painful-diabetic-neuropathy, ..."),
    product: str | None = typer.Option(None, "--product", help="Product name as on the label."),
    salt: str | None = typer.Option(None, help="Salt form, e.g. citrate, oxide, glycinate."),
    elemental_mg: float | None = typer.Option(None, help="Elemental magnesium per unit (label)."),
    salt_mg: float | None = typer.Option(None, help="Salt mass per unit, when the label gives no elemental mg."),
    units_per_day: float | None = typer.Option(None),
    doses_per_day: int | None = typer.Option(None),
    route: str | None = typer.Option(None, help="oral, transdermal-cream, transdermal-oil, foot-soak, ..."),
    comparator: str | None = typer.Option(None, help="matched-placebo, vehicle-cream, no-treatment"),
    blinding: str | None = typer.Option(None, help="blinded or open"),
    design: str | None = typer.Option(None, help="paired (AB/BA per cycle) or counterbalanced (ABBA/BAAB)"),
    run_in_days: int | None = typer.Option(None),
    period_days: int | None = typer.Option(None),
    washout_days: int | None = typer.Option(None),
    cycles: int | None = typer.Option(None),
    carryover_days: int | None = typer.Option(None),
    start: str | None = typer.Option(None, help="Start date YYYY-MM-DD (default today)."),
    timezone: str | None = typer.Option(None, help="IANA time zone of the participant."),
    age: int | None = typer.Option(None, help="Safety: the person's age in years."),
    sex: str | None = typer.Option(None, help="Safety: female or male."),
    egfr: float | None = typer.Option(None, help="Safety: eGFR, mL/min/1.73 m2."),
    med: list[str] = typer.Option([], "--med", help='Safety, repeatable: "gabapentin@08:00,20:00".'),
    jurisdiction: str | None = typer.Option(None, help="Safety: upper limits of US (IOM) or EU (EFSA)."),
    acknowledge: bool = typer.Option(
        False, "--clinician-ack", help="Clinician acknowledges 'needs clinician' findings."
    ),
    pharmacist: str | None = typer.Option(
        None, help="Pharmacist account whose key seals the allocation (default: the only one with a key)."
    ),
) -> None:
    """Create a trial: validate, safety-check, draw and seal the allocation, publish its commitment."""
    from magtrial.service import trials

    data, safety = load_trial_file(file) if file else ({}, {})
    product_flags = {
        "name": product,
        "salt": salt,
        "elemental_mg_per_unit": elemental_mg,
        "salt_mg_per_unit": salt_mg,
        "units_per_day": units_per_day,
        "doses_per_day": doses_per_day,
        "route": route,
    }
    data.setdefault("product", {}).update({k: v for k, v in product_flags.items() if v is not None})
    flags = {
        "condition": condition,
        "comparator": comparator,
        "blinding": blinding,
        "design": design,
        "run_in_days": run_in_days,
        "period_days": period_days,
        "washout_days": washout_days,
        "cycles": cycles,
        "carryover_days": carryover_days,
        "start_date": start,
        "timezone": timezone,
    }
    data.update({k: v for k, v in flags.items() if v is not None})
    who = participant or data.pop("participant", None)
    data.pop("participant", None)
    if not who:
        raise ValidationError("give the participant's pseudonym with --participant (or participant = in the file)")
    protocol = Protocol.from_dict(data)
    person = {k: v for k, v in {"age": age, "sex": sex, "egfr": egfr}.items() if v is not None}
    if person:
        safety.setdefault("person", {}).update(person)
    if med:
        safety["medication"] = [
            *safety.get("medication", []),
            *({"name": m.name, "times": [f"{t:%H:%M}" for t in m.times]} for m in map(parse_med_spec, med)),
        ]
    if jurisdiction:
        safety["jurisdiction"] = jurisdiction
    rec = trials.create_trial(
        open_context(ctx), protocol, who, safety, clinician_ack=acknowledge, pharmacist=pharmacist
    )
    print_safety(rec.stored_safety)
    console.print(
        f"Created trial [bold]{rec.trial_id}[/] for {rec.participant}: {protocol.cycles} cycles of "
        f"{protocol.period_days}-day periods from {rec.start_date} to {rec.schedule.end}."
    )
    console.print(
        f"Allocation sealed to the pharmacist's and the clinic's emergency key. "
        f"Published commitment (SHA-256): [bold]{rec.commitment}[/]"
    )
    from magtrial.core.creation import past_start_warning, timezone_note

    if warning := past_start_warning(rec):
        console.print(f"[yellow]Warning:[/] {warning}")
    console.print(timezone_note(rec))
    for note in blinding_limitations(protocol):
        console.print(f"[yellow]Note:[/] {note}")


@trial_app.command("list")
def list_trials(ctx: typer.Context) -> None:
    """Your trials (a participant's own, a clinician's participants', a pharmacist's)."""
    from magtrial.service import trials

    table = Table("trial", "participant", "status", "start", "flags")
    for t in trials.list_trials(open_context(ctx)):
        status = t["status"] + (" (simulated)" if t["simulated"] else "")
        table.add_row(t["id"], t["participant"], status, str(t["start"]), str(t["flags"]))
    console.print(table)


@trial_app.command("show")
def show(ctx: typer.Context, trial: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Protocol, calendar (periods and packs; arms only once unblinded) and commitment."""
    from magtrial.service import trials

    rec = trials.record(open_context(ctx), trial)
    if as_json:
        periods = [
            {
                "period": p.number,
                "pack": p.pack,
                "start": p.start.isoformat(),
                "end": p.end.isoformat(),
                **({"arm": rec.allocation.arm_of_period(p.number).value} if rec.allocation else {}),
            }
            for p in rec.schedule.periods
        ]
        print(
            json.dumps(
                {
                    "trial": rec.trial_id,
                    "status": rec.status,
                    "commitment": rec.commitment,
                    "protocol": rec.protocol.to_dict(),
                    "periods": periods,
                    "flags": list(rec.flags),
                    "audit_head": rec.audit_head,
                },
                indent=2,
            )
        )
        return
    p = rec.protocol
    console.print(f"[bold]{rec.trial_id}[/] ({rec.status}) participant {rec.participant}, {p.condition.value}")
    console.print(
        f"{p.product.name} ({p.product.salt}, {p.product.route.value}) vs {p.comparator.value}, "
        f"{p.blinding.value}, {p.design.value} design"
    )
    console.print(f"Commitment: {rec.commitment}")
    table = Table("period", "pack", "cycle", "from", "to", "counts from", *(["arm"] if rec.allocation else []))
    for per in rec.schedule.periods:
        arm = [rec.allocation.arm_of_period(per.number).value] if rec.allocation else []
        table.add_row(
            str(per.number), str(per.pack), str(per.cycle), str(per.start), str(per.end), str(per.analysis_start), *arm
        )
    console.print(table)
    for flag in rec.flags:
        console.print(f"[bold red]FLAG:[/] {flag}")


@trial_app.command("today")
def today(
    ctx: typer.Context, trial: str, date: str | None = typer.Option(None, help="Another day (YYYY-MM-DD).")
) -> None:
    """What to take today (pack number, never the arm)."""
    from magtrial.service import trials

    plan = trials.today(open_context(ctx), trial, parse_date(date))
    console.print(f"{plan.date}: {plan.instruction()}")


@trial_app.command("unblind")
def unblind(
    ctx: typer.Context,
    trial: str,
    key: Path = KEY_OPTION,
    reason: str = typer.Option("", help="Required before the end (e.g. a medical emergency)."),
) -> None:
    """Open the allocation with an unblinding key, reveal it (audited), check it against the commitment."""
    from magtrial.service import unblinding

    c = open_context(ctx)
    allocation = unblinding.unblind(c, trial, unlock_key(ctx, key), reason)
    check = unblinding.verify_commitment(c, trial)
    console.print(f"Unblinded {trial}: sequence {allocation.letters} (A = magnesium, B = comparator)")
    console.print(f"Commitment {'verifies' if check.ok else 'DOES NOT VERIFY'}: {check.commitment}")


@trial_app.command("verify")
def verify(
    ctx: typer.Context,
    trial: str,
    commitment: str | None = typer.Option(None, help="Verify offline: the published commitment."),
    sequence: str | None = typer.Option(None, help="Verify offline: revealed sequence, e.g. ABBAABBA."),
    salt: str | None = typer.Option(None, help="Verify offline: revealed salt."),
    design: str = typer.Option("paired", help="Verify offline: the design."),
) -> None:
    """Re-verify a trial's allocation commitment (from the database, or offline from revealed values)."""
    from magtrial.service import unblinding

    if commitment or sequence or salt:
        if not (commitment and sequence and salt):
            raise ValidationError("offline verification needs --commitment, --sequence and --salt")
        ok = alloc.verify_commitment(commitment, trial, design, alloc.parse_sequence(sequence), salt)
    else:
        check = unblinding.verify_commitment(open_context(ctx), trial)
        if check.ok is None:
            console.print(
                f"{trial} is still blinded. Published commitment: {check.commitment}. "
                "It can be verified once the trial is unblinded."
            )
            return
        ok = check.ok
        console.print(
            f"Revealed: sequence {check.sequence}, salt {check.salt}; published commitment {check.commitment}"
        )
    console.print("Commitment verifies." if ok else "[bold red]Commitment does NOT verify.[/]")
    if not ok:
        raise typer.Exit(2)


@trial_app.command("amend")
def amend(
    ctx: typer.Context,
    trial: str,
    set_: list[str] = typer.Option(..., "--set", help="key=value, repeatable, e.g. carryover_days=4."),
    reason: str = typer.Option(..., help="Why the protocol changes (audited)."),
) -> None:
    """Amend a protocol setting (audited with old and new values and the reason)."""
    from magtrial.service import trials

    changes: dict[str, Any] = {}
    for item in set_:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"--set takes key=value, got {item!r}")
        try:
            changes[key.strip()] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            changes[key.strip()] = value
    new = trials.amend_protocol(open_context(ctx), trial, changes, reason)
    console.print(f"Amended {trial}: " + ", ".join(f"{k} = {new.to_dict().get(k)}" for k in changes))


@trial_app.command("packs")
def packs(ctx: typer.Context, trial: str, key: Path = KEY_OPTION) -> None:
    """Pharmacist only, with the pharmacist key: which arm goes in each numbered pack (audited)."""
    from magtrial.service import unblinding

    table = Table("pack", "contents")
    for number, arm in unblinding.packs(open_context(ctx), trial, unlock_key(ctx, key)):
        table.add_row(str(number), arm)
    console.print(table)


def print_safety(stored: dict) -> None:
    """The safety result a trial stored: verdict, findings most serious first, proposed dose times."""
    console.print(
        f"Safety check: [bold]{stored['verdict']}[/] (oral elemental magnesium "
        f"{stored['total_oral_mg']:g} mg/day; upper limit {stored['upper_limit_mg'] or 'not set'} mg/day)"
        + (" - acknowledged by the clinician" if stored["clinician_acknowledged"] else "")
    )
    for f in stored["findings"]:
        console.print(f"  {f['level']:>15}  {f['rule_id']}: {f['message']}")
    if stored["timetable"]:
        console.print("  Magnesium times: " + ", ".join(stored["timetable"]))
