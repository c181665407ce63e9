"""Render the report context to HTML (Jinja2) and PDF (WeasyPrint).

One template serves both: the PDF is the HTML laid out by WeasyPrint with the print rules in the
same stylesheet, so the two cannot disagree. Autoescaping is on; only the charts, which we draw
ourselves, are marked safe.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any, Literal

from magtrial.core.record import TrialRecord
from magtrial.errors import ValidationError
from magtrial.report.build import build_context

TEMPLATES = Path(__file__).parent / "templates"


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


def _weasyprint():
    """Import WeasyPrint, silencing only its notice that HarfBuzz-Subset is missing (CI installs it)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*HarfBuzz-Subset.*", category=DeprecationWarning)
        import weasyprint
    return weasyprint


@cache
def _harfbuzz_subset() -> bool:
    import ctypes.util

    return ctypes.util.find_library("harfbuzz-subset") is not None


def pdf_from_html(html: str) -> bytes:
    """Lay the HTML out as a PDF.

    WeasyPrint subsets fonts with HarfBuzz when ``libharfbuzz-subset0`` is installed; without it
    the fontTools fallback takes about 2 s, so the fonts are then embedded whole instead (a larger
    file, about 0.8 MB, but within the render budget).
    """
    document = _weasyprint().HTML(string=html, base_url=str(TEMPLATES))
    return document.write_pdf(full_fonts=not _harfbuzz_subset())


def render_pdf(
    record: TrialRecord,
    *,
    analysis: Any = None,
    safety: Any = None,
    evidence: Any = None,
    pooled: Any = None,
    generated_at: dt.datetime | None = None,
    chart_cache: Path | None = None,
) -> bytes:
    """The same report laid out as a PDF."""
    return pdf_from_html(
        render_html(
            record,
            analysis=analysis,
            safety=safety,
            evidence=evidence,
            pooled=pooled,
            generated_at=generated_at,
            chart_cache=chart_cache,
        )
    )


def write_report(record: TrialRecord, path: str | Path, fmt: Literal["html", "pdf"] = "html", **inputs: Any) -> Path:
    """Write the report to ``path`` as HTML or PDF; ``inputs`` are render_html's (analysis, ..., chart_cache)."""
    path = Path(path)
    if fmt == "pdf":
        path.write_bytes(render_pdf(record, **inputs))
    elif fmt == "html":
        path.write_text(render_html(record, **inputs), encoding="utf-8")
    else:
        raise ValidationError(f"report format must be html or pdf, got {fmt!r}")
    return path
