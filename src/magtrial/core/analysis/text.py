"""Plain-language wording of an analysis result, careful never to overstate.

Rules: describe the diary ("in your diary, pain was on average ... lower on ... packs"), give the
probabilities as probabilities, state the randomization test's floor, and end with what the result
is not (proof). There is no blinded wording: a blinded record is never analysed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from magtrial.core.analysis.result import AnalysisResult, EffectSummary


def _pct(p: float) -> str:
    if p < 0.01:
        return "under 1%"
    if p > 0.99:
        return "over 99%"
    return f"{100 * p:.0f}%"


def signed(x: float, digits: int = 2) -> str:
    """``+1.23`` / ``-1.23``, and ``0.00`` rather than ``-0.00`` or ``+0.00`` for a value that rounds to 0."""
    text = f"{x:+.{digits}f}"
    return text[1:] if float(text) == 0 else text


def _pts(x: float) -> str:
    x = abs(x)
    return f"{x:.1f} point" + ("" if round(x, 1) == 1.0 else "s")


def _direction(e: EffectSummary, first: str, second: str) -> str:
    if abs(e.mean) < 0.05:
        return f"about the same on {first} as on {second}"
    word = "lower" if e.mean < 0 else "higher"
    return f"on average {_pts(e.mean)} {word} on {first} than on {second}"


def plain_text(r: AnalysisResult) -> str:
    e, what = r.effect, r.outcome.label
    first, second = "magnesium packs", "comparator packs"
    mcid = _pts(r.mcid)
    parts = [
        f"In your diary, {what} was {_direction(e, first, second)} "
        f"(95% credible interval for the difference: {signed(e.lower)} to {signed(e.upper)} points, "
        f"from {e.n_days} days that count).",
    ]
    parts.append(
        f"Given your diary and the model, the probability of any benefit (lower {what} on magnesium) "
        f"is {_pct(e.p_lower)}; of a benefit of at least {mcid} it is {_pct(e.p_mcid)}; of a worsening "
        f"of at least {mcid} it is {_pct(e.p_harm)}."
    )
    if r.full_dose is not None:
        f = r.full_dose
        parts.append(
            f"Counting only days with the full dose ({f.n_days} days), the difference was "
            f"{signed(f.mean, 1)} points ({signed(f.lower)} to {signed(f.upper)})."
        )
    t = r.randomization
    parts.append(
        f"An exact randomization test gave a one-sided p-value of {t.p_lower:.3g}; with this design "
        f"it cannot go below {t.min_p_lower:.3g}, so on its own it can only ever be weak evidence."
    )
    parts.append(
        "This describes your own data during this trial, not proof that the treatment works or does "
        "not work; discuss it with your clinician before changing anything."
    )
    return " ".join(parts)


def _orders(t: Any) -> str:
    if not t.n_possible or t.n_sequences == t.n_possible:
        return f"{t.n_sequences} possible orders"
    return f"{t.n_sequences} of {t.n_possible} possible orders leave diary days in both groups"


def summary_rows(r: AnalysisResult) -> list[dict[str, Any]]:
    e, lab = r.effect, r.labels
    diff = f"{lab.first} minus {lab.second}"
    rows: list[tuple[str, float | int | None, str]] = [
        (f"Mean difference ({diff}), points", e.mean, signed(e.mean)),
        ("95% credible interval, lower", e.lower, signed(e.lower)),
        ("95% credible interval, upper", e.upper, signed(e.upper)),
        (f"P(lower on {lab.first})", e.p_lower, f"{e.p_lower:.3f}"),
        (f"P(at least {r.mcid:.2g} lower on {lab.first})", e.p_mcid, f"{e.p_mcid:.3f}"),
        (f"P(at least {r.mcid:.2g} higher on {lab.first})", e.p_harm, f"{e.p_harm:.3f}"),
        ("Threshold (MCID), points", r.mcid, f"{r.mcid:.2f} ({r.mcid_rule})"),
        (f"Mean on {lab.first}", r.group_means[0], f"{r.group_means[0]:.2f}"),
        (f"Mean on {lab.second}", r.group_means[1], f"{r.group_means[1]:.2f}"),
        ("Analysis days", e.n_days, str(e.n_days)),
        ("Day-to-day autocorrelation (posterior mean)", e.rho, f"{e.rho:.2f}"),
        ("Residual SD (posterior mean), points", e.sigma, f"{e.sigma:.2f}"),
    ]
    f = r.full_dose
    if f is not None:
        rows += [
            ("Full-dose days only: mean difference", f.mean, signed(f.mean)),
            ("Full-dose days only: 95% interval, lower", f.lower, signed(f.lower)),
            ("Full-dose days only: 95% interval, upper", f.upper, signed(f.upper)),
        ]
    t = r.randomization
    rows += [
        ("Randomization test, one-sided p", t.p_lower, f"{t.p_lower:.4f}"),
        ("Randomization test, two-sided p", t.p_two_sided, f"{t.p_two_sided:.4f}"),
        ("Smallest attainable one-sided p", t.min_p_lower, f"{t.min_p_lower:.4f} ({_orders(t)})"),
    ]
    return [{"quantity": q, "value": v, "display": d} for q, v, d in rows]
