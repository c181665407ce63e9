"""CLI: the blinding check and adaptive stopping (``magtrial stopping``; ``plan --adaptive``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from magtrial.cli.common import KEY_OPTION, console, open_context, unlock_key
from magtrial.errors import ProtocolError, ValidationError

if TYPE_CHECKING:
    from magtrial.core.planning import DesignSpec
    from magtrial.core.stopping import StoppingRule

blinding_app = typer.Typer(no_args_is_help=True, help="The blinding check: which pack held magnesium, by guess.")
stopping_app = typer.Typer(no_args_is_help=True, help="Adaptive stopping: the protocol's rule after each cycle.")


def register(app: typer.Typer) -> None:
    app.add_typer(blinding_app, name="blinding")
    app.add_typer(stopping_app, name="stopping")


@blinding_app.command("guess")
def guess(
    ctx: typer.Context,
    trial: str,
    pack: int = typer.Option(..., "--pack", help="The pack (period) that has ended."),
    answer: str = typer.Option(..., "--answer", help="this (this pack held magnesium), other, or dont-know."),
) -> None:
    """Participant: after a period ends, which pack do you think held magnesium? (kept as given, audited)"""
    from magtrial.service import blinding_check  # services load the database layer: only when a command runs

    stored = blinding_check.record_guess(open_context(ctx), trial, pack, answer)
    console.print(f"Pack {stored.period}: {stored.guess.label.lower()}. Thank you; the answer is kept as given.")


@blinding_app.command("show")
def show(ctx: typer.Context, trial: str, as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """The answers by pack; Bang's blinding index per arm once the trial is unblinded."""
    from magtrial.service import blinding_check

    view = blinding_check.check(open_context(ctx), trial)
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "trial": trial,
                    "answers": [{"pack": a.period, "guess": a.guess.value} for a in view.answers],
                    "bang_index": None
                    if view.indices is None
                    else [
                        {"arm": i.arm, "correct": i.correct, "incorrect": i.incorrect, "dont_know": i.dont_know}
                        | {"estimate": i.estimate, "se": i.se}
                        for i in view.indices
                    ],
                }
            )
        )
        return
    console.print(view.text)


@stopping_app.command("check")
def check(ctx: typer.Context, trial: str, key: Path = KEY_OPTION) -> None:
    """Pharmacist, with the pharmacist key: evaluate the stopping rule for each completed cycle (audited).

    Prints only "continue" or "trial complete", the same words whichever way the rule stopped.
    """
    from magtrial.service import stopping

    result = stopping.evaluate(open_context(ctx), trial, unlock_key(ctx, key))
    console.print(f"{trial}: {result.cycles_evaluated} cycle(s) evaluated. {result.message}")


@stopping_app.command("status")
def status(ctx: typer.Context, trial: str) -> None:
    """What anyone on the trial may see: continue or trial complete."""
    from magtrial.service import stopping

    result = stopping.status(open_context(ctx), trial)
    console.print(f"{trial}: {result.message}")


@stopping_app.command("reasons")
def reasons(ctx: typer.Context, trial: str, key: Path = KEY_OPTION) -> None:
    """The sealed reasons (benefit or futility, with the probabilities): the pharmacist, or anyone once unblinded."""
    from magtrial.service import stopping

    table = Table("cycle", "reason", "P(benefit)", "P(futility)")
    for d in stopping.open_reasons(open_context(ctx), trial, unlock_key(ctx, key)):
        table.add_row(str(d["cycle"]), str(d["reason"]), f"{d['p_benefit']:.3f}", f"{d['p_futility']:.3f}")
    console.print(table)


def parse_rule(items: list[str]) -> StoppingRule:
    """``--stopping key=value`` options (the protocol's ``[stopping]`` keys) into a rule."""
    from magtrial.core.inputs import validate
    from magtrial.core.stopping import StoppingRule

    values: dict[str, float | int] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise ValidationError(f"--stopping takes key=value (e.g. benefit_probability=0.97), got {item!r}")
        try:
            values[name.strip()] = int(value) if name.strip() == "min_cycles" else float(value)
        except ValueError:
            raise ValidationError(f"--stopping {name.strip()} must be a number, got {value!r}") from None
    return validate(StoppingRule, values, ProtocolError, where="stopping")


def print_adaptive(spec: DesignSpec, rule: StoppingRule, trials: int, as_json: bool) -> None:
    """``magtrial plan --adaptive``: the rule beside the fixed design, for the first number of cycles."""
    from magtrial.core.planning import plan_adaptive

    with console.status("Simulating the adaptive rule", spinner="dots") if not as_json else _Quiet():
        result = plan_adaptive(spec, rule, trials)
    if as_json:
        console.print_json(json.dumps({"rule": rule.to_dict(), "designs": result.summary}))
        return
    console.print(result.text)


class _Quiet:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
