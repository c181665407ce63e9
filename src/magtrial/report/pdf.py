"""Lay HTML out as a PDF with WeasyPrint, importing nothing else of magtrial.

Kept apart from ``render`` (which pulls in the report builder, and through it numpy and scipy) so
that ``pdf_process`` can import WeasyPrint in a process of its own while the command line reads the
trial and analyses it (issue 13).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"


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
