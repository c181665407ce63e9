"""A router whose routes answer errors as JSON one-liners (``errors.ApiRoute``); every API module uses it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from magtrial.web.api.errors import ApiRoute


def api_router(**kwargs: Any) -> APIRouter:
    return APIRouter(route_class=ApiRoute, **kwargs)
