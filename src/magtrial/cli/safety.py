"""``magtrial safety``: check a magnesium regimen against the safety tables, list salt fractions.

A thin adapter: flags or a TOML file become core values, one core function runs, and Rich prints
the report (or ``--json`` prints it as one JSON object). Exit codes let scripts act on the verdict
and never collide with click's usage error (2): see ``EXIT_CODES`` and the command's help.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from magtrial.core.protocol import Product
from magtrial.core.safety import (
    Level,
    Medication,
    SafetyProfile,
    SafetyReport,
    check_regimen,
    parse_med_spec,
    parse_time,
    product_from_dict,
)
from magtrial.data.safety import load_safety_rules
from magtrial.errors import MagtrialError, SafetyInputError

EXIT_INPUT_ERROR = 1  # the CLI's exit for any refused input (MagtrialGroup); click's usage errors exit 2
EXIT_NEEDS_CLINICIAN = 10
EXIT_BLOCKED = 11
EXIT_CODES = {
    Level.OK: 0,
    Level.CAUTION: 0,
    Level.NEEDS_CLINICIAN: EXIT_NEEDS_CLINICIAN,
    Level.BLOCKED: EXIT_BLOCKED,
    Level.STOP: EXIT_BLOCKED,
}
JSON_SCHEMA = "magtrial.safety-check/1"
LEVEL_STYLES = {
    Level.OK: "green",
    Level.CAUTION: "yellow",
    Level.NEEDS_CLINICIAN: "magenta",
    Level.BLOCKED: "bold red",
    Level.STOP: "bold white on red",
}

safety_app = typer.Typer(
    no_args_is_help=True,
    help="Magnesium safety: dose, kidneys, conditions, "
    "drug interactions and a dose timetable, each rule with its source.",
)

Opt = typer.Option


@safety_app.command("check")
def check(
    file: Annotated[
        Path | None,
        Opt(
            "--file",
            "-f",
            help=r"TOML with \[person], [\[product]], [\[medication]] and "
            "jurisdiction (instead of the person and product flags)",
        ),
    ] = None,
    age: Annotated[float | None, Opt(help="Age in years")] = None,
    sex: Annotated[str | None, Opt(help="female, male or unspecified")] = None,
    pregnant: Annotated[bool | None, Opt("--pregnant", help="Currently pregnant")] = None,
    lactating: Annotated[bool | None, Opt("--lactating", help="Currently breastfeeding")] = None,
    egfr: Annotated[float | None, Opt(help="eGFR in mL/min/1.73 m² (leave out if unknown)")] = None,
    dialysis: Annotated[bool | None, Opt("--dialysis", help="On dialysis")] = None,
    condition: Annotated[
        list[str] | None,
        Opt(
            help="A diagnosis, e.g. 'CKD stage 3', 'first-degree AV block', or a "
            "SNOMED CT or ICD-10 code (repeatable); unrecognised ones need a "
            "clinician"
        ),
    ] = None,
    name: Annotated[str | None, Opt(help="Product name")] = None,
    salt: Annotated[str | None, Opt(help="Salt, e.g. citrate (see `magtrial safety salts`)")] = None,
    hydrate: Annotated[str | None, Opt(help="Form, e.g. hexahydrate, or 'unknown'")] = None,
    salt_mg: Annotated[str | None, Opt(help="Salt (compound) mass per unit, e.g. 500 or '0.5 g'")] = None,
    elemental_mg: Annotated[str | None, Opt(help="Elemental Mg per unit (label), e.g. 200 or '4 mmol'")] = None,
    units_per_day: Annotated[float | None, Opt(help="Units (tablets, scoops) per day")] = None,
    doses_per_day: Annotated[int | None, Opt(help="Times a day the units are taken")] = None,
    route: Annotated[
        str | None,
        Opt(help="oral, transdermal-cream, transdermal-oil, transdermal-lotion, foot-soak or bath (any case)"),
    ] = None,
    med: Annotated[list[str] | None, Opt(help="Medicine and times, e.g. gabapentin@08:00,20:00 (repeatable)")] = None,
    jurisdiction: Annotated[str | None, Opt(help="US (IOM, 350 mg UL) or EU (EFSA, 250 mg UL)")] = None,
    wake: Annotated[str, Opt(help="Earliest dose time")] = "07:00",
    sleep: Annotated[str, Opt(help="Latest dose time")] = "22:00",
    as_json: Annotated[bool, Opt("--json", help="Print the report (or the input error) as one JSON object")] = False,
) -> None:
    """Check a person's magnesium regimen: elemental dose, upper limit, kidneys, conditions, medicines.

    Exit codes (distinct from click's usage error, 2):

    \b
      0   ok or caution: the regimen may start
      1   input refused: impossible dose, unknown salt, bad value
      2   usage error: unknown option or wrong option type (click)
      10  needs clinician: may start only with a clinician's acknowledgement
      11  blocked: must not start
    """
    try:
        report, products, medications = _check(
            file,
            {
                "age": age,
                "sex": sex,
                "pregnant": pregnant,
                "lactating": lactating,
                "egfr": egfr,
                "dialysis": dialysis,
                "conditions": condition or None,
            },
            {
                "name": name,
                "salt": salt,
                "hydrate": hydrate,
                "salt_mg_per_unit": salt_mg,
                "elemental_mg_per_unit": elemental_mg,
                "units_per_day": units_per_day,
                "doses_per_day": doses_per_day,
                "route": route,
            },
            med,
            jurisdiction,
            wake,
            sleep,
        )
    except (MagtrialError, OSError) as exc:
        if not as_json:
            raise
        typer.echo(json.dumps({"schema": JSON_SCHEMA, "error": str(exc), "exit_code": EXIT_INPUT_ERROR}))
        raise typer.Exit(EXIT_INPUT_ERROR) from None
    code = EXIT_CODES[report.verdict]
    if as_json:
        typer.echo(json.dumps(report_json(report, products, medications, code), ensure_ascii=False))
    else:
        _print_report(report, products, medications)
    if code:
        raise typer.Exit(code)


def _check(
    file: Path | None,
    person_flags: dict[str, Any],
    product_flags: dict[str, Any],
    med: list[str] | None,
    jurisdiction: str | None,
    wake: str,
    sleep: str,
) -> tuple[SafetyReport, list[Product], list[Medication]]:
    if file is not None:
        used = [k for k, v in {**person_flags, **product_flags}.items() if v is not None]
        if used:
            raise SafetyInputError(
                f"--file cannot be combined with person or product flags ({', '.join(used)}); put them in the file"
            )
        profile, products = _from_file(file, jurisdiction)
    else:
        profile_data: dict[str, Any] = {
            "person": {k: v for k, v in person_flags.items() if v is not None},
            "jurisdiction": jurisdiction or "US",
        }
        profile = SafetyProfile.from_dict(profile_data)
        product_data = {k: v for k, v in product_flags.items() if v is not None}
        product_data.setdefault("name", "magnesium")
        if "salt" not in product_data:
            raise SafetyInputError("give --salt (see `magtrial safety salts`) or --file")
        products = [product_from_dict(product_data, "product")]
    medications = list(profile.medications) + [parse_med_spec(spec) for spec in med or ()]
    report = check_regimen(
        profile.person,
        products,
        medications,
        profile.jurisdiction,
        rules=load_safety_rules(),
        wake=parse_time(wake, "--wake"),
        sleep=parse_time(sleep, "--sleep"),
    )
    return report, products, medications


def report_json(
    report: SafetyReport, products: list[Product], medications: list[Medication], exit_code: int
) -> dict[str, Any]:
    """The machine-readable answer: the report's plain keys, what was checked, and the exit code."""
    return {
        "schema": JSON_SCHEMA,
        **report.as_dict(),
        "may_start": report.may_start,
        "needs_acknowledgement": report.needs_acknowledgement,
        "exit_code": exit_code,
        "products": [
            {k: (v.value if hasattr(v, "value") else v) for k, v in dataclasses.asdict(p).items()} for p in products
        ],
        "medications": [{"name": m.name, "times": [f"{t:%H:%M}" for t in m.times]} for m in medications],
    }


def _from_file(path: Path, jurisdiction: str | None) -> tuple[SafetyProfile, list[Product]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SafetyInputError(f"{path}: not valid TOML ({exc})") from None
    raw_products = data.pop("product", None)
    if isinstance(raw_products, dict):
        raw_products = [raw_products]
    if not raw_products or not isinstance(raw_products, list):
        raise SafetyInputError(f"{path}: needs at least one [[product]] table with name and salt")
    if jurisdiction is not None:
        data["jurisdiction"] = jurisdiction
    profile = SafetyProfile.from_dict(data)
    return profile, [product_from_dict(p, f"product {i}") for i, p in enumerate(raw_products, 1)]


def _print_report(report: SafetyReport, products: list[Product], medications: list[Medication]) -> None:
    console = Console(width=max(Console().width, 100))
    style = LEVEL_STYLES[report.verdict]
    console.print(f"Verdict: [{style}]{report.verdict.value}[/]")
    doses = Table(title="Magnesium per day", title_justify="left")
    for column in ("Product", "Route", "How worked out", "Elemental mg/day", "Counts toward UL"):
        doses.add_column(column)
    for d in report.doses:
        doses.add_row(
            escape(d.product_name),
            d.route,
            escape(d.basis),
            f"{d.elemental_mg_per_day:.1f}",
            "yes" if d.counts_toward_ul else "no (skin)",
        )
    console.print(doses)
    ul = "not determinable" if report.upper_limit_mg is None else f"{report.upper_limit_mg:g} mg/day"
    rda = f"; RDA from all sources incl. food {report.rda_mg:g} mg/day" if report.rda_mg else ""
    console.print(
        f"Total oral elemental magnesium: {report.total_oral_mg:g} mg/day; "
        f"{report.jurisdiction.value} upper limit for supplements: {ul}{rda}"
    )
    findings = Table(title="Findings (most serious first)", title_justify="left", show_lines=True)
    findings.add_column("Level", no_wrap=True)
    findings.add_column("Rule", no_wrap=True)
    findings.add_column("Finding", ratio=3)
    findings.add_column("Source", ratio=2)
    for f in report.by_level():
        findings.add_row(f"[{LEVEL_STYLES[f.level]}]{f.level.value}[/]", f.rule_id, escape(f.message), escape(f.source))
    console.print(findings)
    timetable = report.timetable
    if timetable is None:
        console.print("No timetable: no magnesium is taken by mouth.")
        return
    if not timetable.feasible:
        console.print(f"[bold red]No dose times work:[/] {escape(timetable.reason)}")
    else:
        rows = [(d.time, escape(d.label)) for d in timetable.doses]
        rows += [(t, f"[dim]{escape(m.name)} (your medicine)[/]") for m in medications for t in m.times]
        title = f"Dose times ({timetable.wake:%H:%M}-{timetable.sleep:%H:%M})"
        times = Table(title=title, title_justify="left")
        times.add_column("Time", no_wrap=True)
        times.add_column("What")
        for time, label in sorted(rows, key=lambda r: r[0]):
            times.add_row(f"{time:%H:%M}", label)
        console.print(times)
    for c in timetable.constraints:
        console.print(f"  - {escape(c)}")


@safety_app.command("salts")
def salts() -> None:
    """List elemental magnesium per salt and hydrate, with each figure's source."""
    table = Table(title="Elemental magnesium by salt", title_justify="left", show_lines=True)
    table.add_column("Salt", no_wrap=True)
    table.add_column("Form", no_wrap=True)
    table.add_column("% Mg", justify="right")
    table.add_column("Formula")
    table.add_column("Source", ratio=3)
    table.add_column("Note", ratio=2)
    for s in load_safety_rules().salts:
        for f in s.forms:
            table.add_row(s.key, f.form, f"{f.percent:.1f}", escape(f.formula), escape(f.source), escape(f.note))
    Console(width=max(Console().width, 120)).print(table)
    typer.echo("Use the label's elemental mg when it is given; these fractions convert a salt mass.")


def register(app: typer.Typer) -> None:
    """Add ``magtrial safety ...`` to the root app."""
    app.add_typer(safety_app, name="safety")
