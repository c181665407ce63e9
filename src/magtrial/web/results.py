"""After unblinding: the analysis, its charts and the downloadable report and exports of one trial.

These read the record the service hands out; a blinded record has no allocation, so ``analyze``
refuses it and the pages show no comparison between packs.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from fastapi.responses import Response

from magtrial.core.record import TrialRecord
from magtrial.errors import NotFound, ValidationError
from magtrial.web.security import DOCUMENT_CSP, IMAGE_CSP

CHARTS = ("timeseries", "posterior")


def analysis_of(record: TrialRecord) -> tuple[Any, str]:
    """The analysis (or None) and, when there is none, the reason in plain words."""
    if record.blinded:
        return None, "The trial is still blinded: results appear after unblinding."
    from magtrial.core.analysis import analyze

    try:
        return analyze(record), ""
    except ValidationError as exc:
        return None, f"No estimate yet: {exc}"


def chart_response(record: TrialRecord, name: str) -> Response:
    """One chart of an unblinded trial as an SVG image (its inline styles allowed, scripts not)."""
    if record.blinded or name not in CHARTS:
        raise NotFound("no such chart")
    from magtrial.report.build import draw_charts

    analysis, _ = analysis_of(record)
    svg = draw_charts(record, analysis).get(name)
    if svg is None:
        raise NotFound("no such chart")
    return Response(
        svg, media_type="image/svg+xml", headers={"Content-Security-Policy": IMAGE_CSP, "Cache-Control": "no-store"}
    )


def attachment(body: bytes | str, media_type: str, filename: str, csp: str = DOCUMENT_CSP) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Security-Policy": csp,
            "Cache-Control": "no-store",
        },
    )


def report_response(record: TrialRecord, fmt: str, pooled: Any) -> Response:
    from magtrial.data.evidence import load_evidence
    from magtrial.report.build import record_safety
    from magtrial.report.render import pdf_from_html, render_html

    analysis, _ = analysis_of(record)
    html = render_html(record, analysis=analysis, safety=record_safety(record), evidence=load_evidence(), pooled=pooled)
    if fmt == "pdf":
        return attachment(pdf_from_html(html), "application/pdf", f"{record.trial_id}-report.pdf")
    return Response(
        html, media_type="text/html", headers={"Content-Security-Policy": DOCUMENT_CSP, "Cache-Control": "no-store"}
    )


def export_response(record: TrialRecord, fmt: str) -> Response:
    if fmt == "csv":
        from magtrial.export.csv_long import long_csv

        return attachment(long_csv(record), "text/csv", f"{record.trial_id}-diary.csv")
    if fmt == "fhir":
        from magtrial.export.fhir import bundle_json, record_to_bundle

        return attachment(
            bundle_json(record_to_bundle(record)), "application/fhir+json", f"{record.trial_id}-fhir.json"
        )
    if fmt == "redcap":
        from magtrial.export.redcap import redcap_data_csv, redcap_dictionary_csv

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(f"{record.trial_id}-redcap-data.csv", redcap_data_csv(record))
            z.writestr(f"{record.trial_id}-redcap-dictionary.csv", redcap_dictionary_csv(record))
        return attachment(buffer.getvalue(), "application/zip", f"{record.trial_id}-redcap.zip")
    raise NotFound(f"no export format {fmt!r} (csv, fhir or redcap)")


def reminders_response(record: TrialRecord) -> Response:
    from magtrial.export.reminders import reminders_ics

    return attachment(reminders_ics(record), "text/calendar", f"{record.trial_id}-reminders.ics")
