"""CLI: init, trial ..., diary ..., audit ...: each command parses input and calls one service method."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from pathlib import Path
from typing import Any

import typer
from rich.panel import Panel
from rich.table import Table

from magtrial.cli.common import console, open_database, open_service
from magtrial.core import allocation as alloc
from magtrial.core.diary import SIDE_EFFECTS, DiaryValues, DoseTaken
from magtrial.core.protocol import Protocol, blinding_limitations
from magtrial.core.safety.profile import parse_med_spec
from magtrial.errors import ValidationError
from magtrial.service import Role, TrialService
from magtrial.service.safety import review_entry

trial_app = typer.Typer(no_args_is_help=True, help="Create, inspect, unblind and verify trials.")
diary_app = typer.Typer(no_args_is_help=True, help="Daily diary: add, correct, void, list (append-only).")
audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit trail.")
SAFETY_KEYS = ("person", "medication", "medications", "jurisdiction")


def register(app: typer.Typer) -> None:
    from magtrial.cli.demo import demo

    app.command("init")(init)
    app.command("demo")(demo)
    app.add_typer(trial_app, name="trial")
    app.add_typer(diary_app, name="diary")
    app.add_typer(audit_app, name="audit")


def init(ctx: typer.Context) -> None:
    """Create (or upgrade) the database and show where it is."""
    db = open_database(ctx)
    console.print(f"Database ready: [bold]{db.engine.url.render_as_string(hide_password=True)}[/]")


def _parse_date(value: str | None, what: str = "date") -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{what} must be YYYY-MM-DD, got {value!r}") from None


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
        help="Trial TOML: protocol keys, [product], optional [person] and [[medication]] for the safety check.",
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
) -> None:
    """Create a trial: validate, safety-check, draw and seal the allocation, publish its commitment."""
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
    rec = open_service(ctx).create_trial(protocol, who, safety, clinician_ack=acknowledge)
    print_safety(rec.extra["safety"])
    console.print(
        f"Created trial [bold]{rec.trial_id}[/] for {rec.participant}: {protocol.cycles} cycles of "
        f"{protocol.period_days}-day periods from {rec.start_date} to {rec.schedule.end}."
    )
    console.print(f"Allocation sealed. Published commitment (SHA-256): [bold]{rec.commitment}[/]")
    for note in blinding_limitations(protocol):
        console.print(f"[yellow]Note:[/] {note}")


@trial_app.command("list")
def list_trials(ctx: typer.Context) -> None:
    """Trials in this database."""
    table = Table("trial", "participant", "status", "start", "flags")
    for t in open_service(ctx).list_trials():
        table.add_row(t["id"], t["participant"], t["status"], str(t["start"]), str(t["flags"]))
    console.print(table)


@trial_app.command("show")
def show(ctx: typer.Context, trial: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Protocol, calendar (periods and packs; arms only once unblinded) and commitment."""
    rec = open_service(ctx).record(trial)
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
    plan = open_service(ctx, Role.PATIENT).today(trial, _parse_date(date))
    console.print(f"{plan.date}: {plan.instruction()}")


@trial_app.command("unblind")
def unblind(ctx: typer.Context, trial: str, reason: str = typer.Option("", help="Required before the end.")) -> None:
    """Reveal the allocation (audited) and check it against the published commitment."""
    svc = open_service(ctx)
    allocation = svc.unblind(trial, reason)
    check = svc.verify_commitment(trial)
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
    if commitment or sequence or salt:
        if not (commitment and sequence and salt):
            raise ValidationError("offline verification needs --commitment, --sequence and --salt")
        ok = alloc.verify_commitment(commitment, trial, design, alloc.parse_sequence(sequence), salt)
    else:
        check = open_service(ctx).verify_commitment(trial)
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
    changes: dict[str, Any] = {}
    for item in set_:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"--set takes key=value, got {item!r}")
        try:
            changes[key.strip()] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            changes[key.strip()] = value
    new = open_service(ctx).amend_protocol(trial, changes, reason)
    console.print(f"Amended {trial}: " + ", ".join(f"{k} = {new.to_dict().get(k)}" for k in changes))


@trial_app.command("packs")
def packs(ctx: typer.Context, trial: str) -> None:
    """Pharmacist only: which arm goes in each numbered pack."""
    svc = open_service(ctx, Role.PHARMACIST)
    table = Table("pack", "contents")
    for number, arm in svc.packs(trial):
        table.add_row(str(number), arm)
    console.print(table)


def _values(
    avg: int, worst: int | None, sleep: int, dose: str, side_effect: list[str], other: str, rescue: str, note: str
) -> DiaryValues:
    try:
        dose_taken = DoseTaken(dose)
    except ValueError:
        raise ValidationError(f"--dose must be full, partial or none; got {dose!r}") from None
    return DiaryValues(
        average_pain=avg,
        worst_pain=avg if worst is None else worst,
        sleep_interference=sleep,
        dose_taken=dose_taken,
        side_effects=frozenset(side_effect),
        side_effect_other=other,
        rescue_medication=rescue,
        note=note,
    )


_AVG = typer.Option(..., "--avg", help="Average pain today, 0-10.")
_WORST = typer.Option(None, "--worst", help="Worst pain today, 0-10 (default = average).")
_SLEEP = typer.Option(0, "--sleep", help="How much pain disturbed sleep, 0-10.")
_DOSE = typer.Option("full", "--dose", help="Dose taken: full, partial or none.")
_SIDE = typer.Option([], "--side-effect", help=f"Repeatable: {', '.join(SIDE_EFFECTS)}.")


@diary_app.command("add")
def diary_add(
    ctx: typer.Context,
    trial: str,
    date: str = typer.Option(None, help="Day (default today)."),
    avg: int = _AVG,
    worst: int | None = _WORST,
    sleep: int = _SLEEP,
    dose: str = _DOSE,
    side_effect: list[str] = _SIDE,
    other: str = "",
    rescue: str = "",
    note: str = "",
) -> None:
    """Record a day's diary (one current entry per day)."""
    svc = open_service(ctx, Role.PATIENT)
    day = _parse_date(date) or svc.today(trial).date
    version = svc.add_entry(trial, day, _values(avg, worst, sleep, dose, side_effect, other, rescue, note))
    console.print(f"Saved {day}{' (flagged late)' if version.late else ''}.")
    _print_alerts(svc, trial, day)


@diary_app.command("correct")
def diary_correct(
    ctx: typer.Context,
    trial: str,
    date: str = typer.Option(..., help="Day to correct."),
    reason: str = typer.Option(..., help="Why the entry changes."),
    avg: int = _AVG,
    worst: int | None = _WORST,
    sleep: int = _SLEEP,
    dose: str = _DOSE,
    side_effect: list[str] = _SIDE,
    other: str = "",
    rescue: str = "",
    note: str = "",
) -> None:
    """Correct a day: a new version with a reason; the old one stays in the history."""
    svc = open_service(ctx, Role.PATIENT)
    day = _parse_date(date)
    version = svc.correct_entry(trial, day, _values(avg, worst, sleep, dose, side_effect, other, rescue, note), reason)
    console.print(f"Corrected {day} (version {version.version}).")
    _print_alerts(svc, trial, day)


@diary_app.command("void")
def diary_void(ctx: typer.Context, trial: str, date: str = typer.Option(...), reason: str = typer.Option(...)) -> None:
    """Mark a day's entry as entered in error (kept in the history)."""
    svc = open_service(ctx, Role.PATIENT)
    day = _parse_date(date)
    version = svc.void_entry(trial, day, reason)
    console.print(f"Voided {day} (version {version.version}, entered in error).")


@diary_app.command("list")
def diary_list(ctx: typer.Context, trial: str, history: bool = typer.Option(False, help="Show every version.")) -> None:
    """Current entries (or the full version history)."""
    svc = open_service(ctx, Role.PATIENT)
    rec = svc.record(trial)
    rows = rec.versions if history else tuple(rec.current().values())
    table = Table(
        "day",
        "period",
        "avg",
        "worst",
        "sleep",
        "dose",
        "side effects",
        *(["version", "kind", "reason"] if history else []),
        "late",
    )
    for v in rows:
        plan = rec.schedule.day(v.day)
        where = f"{plan.period}" if plan.period else plan.kind.value
        vals = v.values
        cells = (
            [
                str(vals.average_pain),
                str(vals.worst_pain),
                str(vals.sleep_interference),
                vals.dose_taken.value,
                ", ".join(sorted(vals.side_effects)),
            ]
            if vals
            else ["-", "-", "-", "-", "entered in error"]
        )
        extra = [str(v.version), v.kind.value, v.reason] if history else []
        table.add_row(str(v.day), where, *cells, *extra, "late" if v.late else "")
    console.print(table)


def _print_alerts(svc: TrialService, trial: str, day: dt.date) -> None:
    for finding in review_entry(svc, trial, day):
        if finding.urgent:
            console.print(
                Panel(
                    f"{finding.message}\n\nYour clinician has been flagged. Source: {finding.source}",
                    title="STOP and seek care",
                    style="bold red",
                )
            )
        else:
            console.print(f"[yellow]{finding.level.value}:[/] {finding.message}")


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


@audit_app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Recompute the whole hash chain; name the first row edited, deleted or reordered."""
    check = open_service(ctx).verify_audit()
    if check.ok:
        console.print(f"Audit chain intact: {check.events} events, head {check.head_hash}")
        return
    console.print(f"[bold red]Audit chain broken:[/] {check.problem}")
    raise typer.Exit(2)


@audit_app.command("show")
def audit_show(ctx: typer.Context, trial: str) -> None:
    """A trial's audit events (allocation details sealed for blinded viewers)."""
    table = Table("#", "when (UTC)", "who", "role", "action", "what", "why")
    for e in open_service(ctx).audit_trail(trial):
        table.add_row(str(e.seq), e.at[:19], e.actor, e.role, e.action, e.entity_id, e.reason)
    console.print(table)
