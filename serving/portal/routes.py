"""Add the portal and the access workflow to the data service's FastAPI application."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from security.authz import Refused
from serving.portal import access, api, pages

if TYPE_CHECKING:
    from serving.api.app import Service


def install(app: FastAPI, running: Callable[[], Service]) -> None:
    """The /v1 access endpoints, the /portal pages and their stylesheet; errors of the workflow
    answered with the data service's error body (400 naming the field, 403 with the rule, 404)."""
    from serving.api.app import Failure, error_response  # the application module calls install

    app.mount("/portal/static", StaticFiles(directory=pages.STATIC), name="portal-static")
    app.include_router(api.router(running))
    app.include_router(pages.router(running))

    @app.exception_handler(access.AccessError)
    async def _bad(_request: Request, exc: access.AccessError) -> JSONResponse:
        return error_response(Failure(400, "bad_parameter", exc.message, exc.parameter))

    @app.exception_handler(access.NotFound)
    async def _missing(_request: Request, exc: access.NotFound) -> JSONResponse:
        return error_response(Failure(404, "not_found", str(exc)))

    @app.exception_handler(Refused)
    async def _refused(_request: Request, exc: Refused) -> JSONResponse:
        return error_response(Failure(403, "refused", str(exc)))
