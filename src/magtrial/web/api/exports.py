"""``/trials/{id}/exports/...``: the trial as CSV, FHIR R4 JSON, REDCap (zip) or an iCalendar file.

Each export is built from the record the trial service hands this caller, so a blinded caller
gets a blinded file (no arm, no grouping of packs) without anything here deciding it. Every file
carries the audit head it was made at, also sent as the ``X-Magtrial-Audit-Head`` header.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from fastapi import Query, Response

from magtrial.core.inputs import clock_time
from magtrial.core.record import TrialRecord
from magtrial.errors import ValidationError
from magtrial.service import Context, trials
from magtrial.web.api.auth import Ctx
from magtrial.web.api.errors import ERRORS
from magtrial.web.api.router import api_router

router = api_router(tags=["exports"])
HEAD = "X-Magtrial-Audit-Head"


def _file(record: TrialRecord, body: str | bytes, media_type: str, name: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={HEAD: record.audit_head, "Content-Disposition": f'attachment; filename="{name}"'},
    )


def _doc(media_type: str, text: str, kind: str = "string") -> dict[int | str, dict[str, object]]:
    return {**ERRORS, 200: {"description": text, "content": {media_type: {"schema": {"type": kind}}}}}


def _record(ctx: Context, trial_id: str) -> TrialRecord:
    return trials.record(ctx, trial_id)


@router.get(
    "/trials/{trial_id}/exports/csv",
    response_class=Response,
    responses=_doc("text/csv", "Tidy long table: one row per day, item and version"),
)
def csv_export(ctx: Ctx, trial_id: str) -> Response:
    from magtrial.export.csv_long import long_csv

    record = _record(ctx, trial_id)
    return _file(record, long_csv(record), "text/csv; charset=utf-8", f"{trial_id}_diary.csv")


@router.get(
    "/trials/{trial_id}/exports/fhir",
    response_class=Response,
    responses=_doc("application/fhir+json", "FHIR R4 collection Bundle", "object"),
)
def fhir_export(ctx: Ctx, trial_id: str) -> Response:
    from magtrial.export.fhir import bundle_json, record_to_bundle

    record = _record(ctx, trial_id)
    body = bundle_json(record_to_bundle(record, generated_at=ctx.clock()))
    return _file(record, body, "application/fhir+json", f"{trial_id}_fhir.json")


@router.get(
    "/trials/{trial_id}/exports/redcap",
    response_class=Response,
    responses=_doc("application/zip", "REDCap data file and data dictionary (CSV), zipped"),
)
def redcap_export(ctx: Ctx, trial_id: str) -> Response:
    from magtrial.export.redcap import redcap_data_csv, redcap_dictionary_csv

    record = _record(ctx, trial_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{trial_id}_redcap_data.csv", redcap_data_csv(record))
        z.writestr(f"{trial_id}_redcap_dictionary.csv", redcap_dictionary_csv(record))
    return _file(record, buffer.getvalue(), "application/zip", f"{trial_id}_redcap.zip")


@router.get(
    "/trials/{trial_id}/exports/reminders.ics",
    response_class=Response,
    responses=_doc("text/calendar", "Daily diary and dose reminders in the participant's time zone"),
)
def reminders_export(
    ctx: Ctx,
    trial_id: str,
    diary_time: str = Query("20:00", max_length=5, description="Local time of the diary reminder, HH:MM"),
    dose_time: list[str] | None = Query(
        None, max_length=6, description="Dose times HH:MM (default: the safety timetable stored with the trial)"
    ),
) -> Response:
    from magtrial.export.reminders import reminders_ics

    record = _record(ctx, trial_id)
    doses = [_time(t, "dose_time") for t in dose_time] if dose_time else None
    body = reminders_ics(record, diary_time=_time(diary_time, "diary_time"), dose_times=doses, generated_at=ctx.clock())
    return _file(record, body, "text/calendar; charset=utf-8", f"{trial_id}_reminders.ics")


def _time(value: str, what: str) -> dt.time:
    try:
        return clock_time(value)
    except ValueError as exc:
        raise ValidationError(f"{what} {exc}") from None
