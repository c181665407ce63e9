"""Every API error as ``{"detail": "<one line>"}`` with its 4xx status, decided in one place.

The API's routes use ``ApiRoute``, which wraps each route handler (so it works the same inside
the pages app, whose exception handlers render HTML, and in ``create_api_app``):

- a domain error (``magtrial.errors``) answers its ``.status`` with its message (401 for a bad
  token, 403, 404, 409, 422);
- a request FastAPI cannot validate answers 422 with one line naming the field, in the words the
  CLI uses for the same mistake (``values.average_pain must be a whole number, got '3' (a string)``);
- a body that is not JSON answers 415, one over ``MAX_BODY`` bytes 413 (read no further than that);
- anything else is a bug: logged, and answered 500 without a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from magtrial.core.inputs import one_line
from magtrial.errors import MagtrialError

log = logging.getLogger("magtrial.api")
MAX_BODY = 64 * 1024
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status, headers=headers)


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {"application/json": {"schema": ERROR_SCHEMA}}}
    for status, text in (
        (401, "Missing, unknown, expired or revoked access token"),
        (403, "Your role may not do this, or the trial is still blinded"),
        (404, "No such trial among yours (another person's trial is never revealed)"),
        (409, "Conflicts with the trial's state (e.g. a second entry for a day)"),
        (422, "Invalid input; the message names the field"),
    )
}


class _Errors:
    """The shape ``inputs.one_line`` reads (``.errors()``), over FastAPI's already-collected errors."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self._errors = errors

    def errors(self, include_url: bool = False) -> list[dict[str, Any]]:
        return self._errors


def validation_message(exc: RequestValidationError, body_model: type | None) -> str:
    """One line naming each bad field: body fields by their JSON path, others as 'query parameter X'."""
    errors = []
    for e in exc.errors():
        loc = tuple(e.get("loc", ()))
        where, rest = (loc[0], loc[1:]) if loc else ("body", ())
        if e.get("type") == "json_invalid":
            return f"the body is not valid JSON ({(e.get('ctx') or {}).get('error', 'decode error')})"
        if where == "body" and not rest and e.get("type") == "missing":
            return "the request needs a JSON body"
        if where != "body":  # "query parameter outcome must be ..."
            rest = (f"{where} parameter {'.'.join(map(str, rest))}",)
        errors.append({**e, "loc": rest})
    return one_line(_Errors(errors), body_model or type(None)) or "invalid request"  # type: ignore[arg-type]


async def _read_limited(request: Request) -> bytes | None:
    """The body, or None once it passes ``MAX_BODY`` (the rest is never read)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class ApiRoute(APIRoute):
    """An API route whose errors are JSON one-liners with the right 4xx (see the module docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        body_model = getattr(getattr(self.body_field, "field_info", None), "annotation", None)
        takes_json = self.body_field is not None

        async def route(request: Request) -> Response:
            if request.method in BODY_METHODS:
                too_big = f"the request body is larger than {MAX_BODY // 1024} kB"
                length = request.headers.get("content-length")
                if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
                    return error(413, too_big)
                body = await _read_limited(request)
                if body is None:
                    return error(413, too_big)
                request._body = body  # what Request.body() returns from now on
                content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
                if takes_json and body and not (content_type == "application/json" or content_type.endswith("+json")):
                    return error(
                        415,
                        f"send the body as JSON (Content-Type: application/json), not "
                        f"{content_type or 'no content type'}",
                    )
            try:
                return await handler(request)
            except MagtrialError as exc:
                headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
                return error(exc.status, str(exc), headers)
            except RequestValidationError as exc:
                return error(422, validation_message(exc, body_model))
            except HTTPException as exc:  # FastAPI's own 400 for a body it cannot decode (not UTF-8)
                if exc.status_code == 400:
                    return error(422, "the body is not valid JSON (it is not UTF-8 text)")
                return error(exc.status_code, str(exc.detail))
            except Exception:  # a bug: logged with its traceback, never sent to the client
                log.exception("internal error in %s %s", request.method, request.url.path)
                return error(500, "internal error; it has been logged")

        return route
