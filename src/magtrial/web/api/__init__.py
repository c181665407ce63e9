"""The JSON API under ``/api/v1``: the same services, roles and blinding as the pages and the CLI.

``router`` is mounted by the web app (``magtrial.web.app.create_app``) and by ``create_api_app``,
which serves the API alone (tests, the load benchmark). Either factory puts the ``Database`` on
``app.state.db`` (and may put a clock on ``app.state.clock``); callers authenticate with
``Authorization: Bearer <token>`` (``magtrial token create``). Docs at ``/api/v1/docs``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse

from magtrial.settings import Settings
from magtrial.store.db import Database
from magtrial.web.api import amendments, analysis, audit, checkin, diary, exports, safety, tokens, trials
from magtrial.web.api.router import api_router

PREFIX = "/api/v1"
DOCS_URL, OPENAPI_URL = f"{PREFIX}/docs", f"{PREFIX}/openapi.json"

TITLE = "magtrial API"

router = api_router(prefix=PREFIX)
for _module in (trials, diary, safety, analysis, exports, audit, tokens):
    router.include_router(_module.router)
router.include_router(checkin.router)  # blinding check and adaptive stopping
router.include_router(amendments.router)  # amendments from the next period


@functools.cache
def openapi_schema() -> dict[str, Any]:
    """The API's own schema (its routes only), whichever app serves it."""
    return get_openapi(title=TITLE, version="1", description=__doc__, routes=router.routes)


@router.get("/openapi.json", include_in_schema=False)
def _openapi() -> JSONResponse:
    return JSONResponse(openapi_schema())


@router.get("/docs", include_in_schema=False)
def _docs() -> HTMLResponse:
    """Swagger UI (its script and style from the CDN FastAPI names); the page's own CSP allows exactly that."""
    page = get_swagger_ui_html(openapi_url=OPENAPI_URL, title=f"{TITLE}: docs")
    html = bytes(page.body).decode()
    inline = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in inline)
    cdn = " ".join(sorted({m.group(1) for m in re.finditer(r'(?:src|href)="(https://[^/"]+)/', html)}))
    page.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src {cdn} {hashes}; style-src {cdn}; img-src 'self' data: https:; "
        "connect-src 'self'; frame-ancestors 'none'"
    )
    return page


def create_api_app(settings_or_db: Settings | Database | None = None) -> FastAPI:
    """An app serving only the API, on a ``Database`` (not closed here) or on the settings' database."""
    owned = not isinstance(settings_or_db, Database)
    db = settings_or_db if isinstance(settings_or_db, Database) else Database((settings_or_db or Settings()).url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            db.dispose()

    if owned:
        db.migrate()
    # The router serves its own docs and schema (so the pages app has them too).
    app = FastAPI(title=TITLE, version="1", docs_url=None, openapi_url=None, redoc_url=None, lifespan=lifespan)
    app.state.db = db
    app.include_router(router)
    return app


__all__ = ["DOCS_URL", "OPENAPI_URL", "PREFIX", "create_api_app", "router"]
