"""The app factory: settings in, a FastAPI app out; nothing is created at import time.

Pages call the services only (``magtrial.service``), acting as the logged-in account, and map the
domain errors to a page with the status and the reason; no traceback ever reaches a browser.
The JSON API (``magtrial.web.api``) is included when present and answers errors as JSON.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from magtrial.errors import MagtrialError
from magtrial.service.context import Clock, utcnow
from magtrial.settings import Settings
from magtrial.store.db import Database
from magtrial.web.deps import LoginRequired
from magtrial.web.pages import make_templates, render
from magtrial.web.security import SecurityHeaders

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("magtrial.web")


def create_app(settings: Settings | None = None, *, database: Database | None = None, clock: Clock = utcnow) -> FastAPI:
    """The web app on ``database`` (default: the settings' URL, migrated on start-up)."""
    settings = settings or Settings()
    owned = database is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            app.state.db.dispose()

    app = FastAPI(title="magtrial", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    if database is None:
        database = Database(settings.url)
        database.migrate()
    app.state.settings, app.state.db, app.state.clock = settings, database, clock
    app.state.templates = make_templates()
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _error_pages(app)

    from magtrial.web.routes import auth, clinic, participant, pharmacy, setup

    for module in (auth, participant, clinic, setup, pharmacy):
        app.include_router(module.router)
    from magtrial.web.routes import consent  # consent, withdrawal and erasure

    app.include_router(consent.router)
    from magtrial.web.routes import clinic_records  # co-interventions, measurements, late entries

    app.include_router(clinic_records.router)
    from magtrial.web.routes import checkin  # blinding check and adaptive stopping

    app.include_router(checkin.router)
    from magtrial.web.routes import amendments  # amendments, protocol document, timeline

    app.include_router(amendments.router)
    if importlib.util.find_spec("magtrial.web.api") is not None:
        from magtrial.web import api

        if hasattr(api, "router"):
            app.include_router(api.router)
    return app


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_pages(app: FastAPI) -> None:
    def page(request: Request, status: int, message: str) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": message}, status_code=status)
        return render(request, "error.html", {"status": status, "message": message}, status=status)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(MagtrialError)
    async def domain_error(request: Request, exc: MagtrialError) -> Response:
        if exc.status >= 500:
            log.error("integrity problem: %s", exc)
        return page(request, exc.status, str(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_input(request: Request, exc: RequestValidationError) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": exc.errors()}, status_code=422)
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors())
        return page(request, 422, f"some answers are missing or not valid ({problems})")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = "no such page" if exc.status_code == 404 else str(exc.detail)
        return page(request, exc.status_code, message)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:
        log.exception("internal error")
        return page(request, 500, "something went wrong on our side; it has been logged. Please try again later.")
