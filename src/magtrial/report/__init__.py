"""The clinician report: one Jinja2 template rendered to HTML and, through WeasyPrint, to PDF.

build_context(record, analysis=None, safety=None, evidence=None) -> dict   (report.build)
render_html(record, ...) -> str, render_pdf(record, ...) -> bytes          (report.render)
"""
