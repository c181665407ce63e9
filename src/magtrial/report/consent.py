"""The frozen consent page: exactly what the participant agreed to, as HTML stored byte-for-byte, and as PDF.

The HTML is made once, at signing, and stored; the PDF is laid out on demand from those stored bytes
by the report's WeasyPrint path, so the two cannot differ and nothing is re-rendered from live data.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"


@cache
def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )


def consent_html(
    *, trial_id: str, version: int, text: str, typed_name: str, meaning: str, signed_at: dt.datetime, account: str
) -> str:
    """The signed page as one self-contained HTML document (escaped; paragraphs kept)."""
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return (
        _environment()
        .get_template("consent.html.j2")
        .render(
            trial_id=trial_id,
            version=version,
            paragraphs=paragraphs,
            typed_name=typed_name,
            meaning=meaning,
            signed_at=signed_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            account=account,
        )
    )


def consent_pdf(html: str) -> bytes:
    from magtrial.report.render import pdf_from_html

    return pdf_from_html(html)
