"""Render the report context to HTML (Jinja2) and PDF (WeasyPrint).

One template serves both: the PDF is the HTML laid out by WeasyPrint with the print rules in the
same stylesheet, so the two cannot disagree. Autoescaping is on; only the charts, which we draw
ourselves, are marked safe.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, Literal

from magtrial.core.record import TrialRecord
from magtrial.errors import ValidationError
from magtrial.report.build import build_context
from magtrial.report.pdf import TEMPLATES, pdf_from_html

__all__ = ["TEMPLATES", "html_from_context", "pdf_from_html", "render_html", "render_pdf", "write_report"]


@cache
def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(
    record: TrialRecord,
    *,
    analysis: Any = None,
    safety: Any = None,
    evidence: Any = None,
    pooled: Any = None,
    generated_at: dt.datetime | None = None,
    chart_cache: Path | None = None,
) -> str:
    """The report as one self-contained HTML page (charts inline as SVG; kept in ``chart_cache`` if given)."""
    context = build_context(
        record,
        analysis=analysis,
        safety=safety,
        evidence=evidence,
        pooled=pooled,
        generated_at=generated_at,
        chart_cache=chart_cache,
    )
    return html_from_context(context)


def html_from_context(context: dict[str, Any]) -> str:
    from markupsafe import Markup

    charts = {name: Markup(svg) for name, svg in context["charts"].items()}
    return _environment().get_template("report.html.j2").render(**{**context, "charts": charts})


def render_pdf(record: TrialRecord, *, lay_out: Callable[[str], bytes] = pdf_from_html, **inputs: Any) -> bytes:
    """The same report laid out as a PDF (by ``lay_out``: in this process, or a ``pdf_process.PdfProcess``);
    ``inputs`` are ``render_html``'s (analysis, safety, evidence, pooled, generated_at, chart_cache)."""
    return lay_out(render_html(record, **inputs))


def write_report(
    record: TrialRecord,
    path: str | Path,
    fmt: Literal["html", "pdf"] = "html",
    lay_out: Callable[[str], bytes] | None = None,
    **inputs: Any,
) -> Path:
    """Write the report to ``path`` as HTML or PDF; ``inputs`` are render_html's (analysis, ..., chart_cache)."""
    path = Path(path)
    if fmt == "pdf":
        path.write_bytes(render_pdf(record, **inputs, lay_out=lay_out or pdf_from_html))
    elif fmt == "html":
        path.write_text(render_html(record, **inputs), encoding="utf-8")
    else:
        raise ValidationError(f"report format must be html or pdf, got {fmt!r}")
    return path
