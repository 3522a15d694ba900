"""The FastAPI app: Credly's /v1 routes (credly_routes), Basic auth, the fault layer
(middleware) and the /_sandbox controls (control_routes), on one Sandbox (state)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from devstack.credly_sandbox.control_routes import add_control_routes
from devstack.credly_sandbox.credly_routes import add_credly_routes
from devstack.credly_sandbox.middleware import SandboxMiddleware
from devstack.credly_sandbox.model import ApiError
from devstack.credly_sandbox.responses import STATUS_MESSAGES, envelope_error
from devstack.credly_sandbox.state import Sandbox, Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    """Build the app; the SQLite state is opened here and closed at shutdown."""
    sandbox = Sandbox(settings)
    store = sandbox.store

    async def close_store(app: FastAPI):
        yield
        store.close()

    app = FastAPI(
        title="Credly sandbox",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
        lifespan=close_store,
    )
    app.state.sandbox = sandbox
    app.add_middleware(SandboxMiddleware, sandbox=sandbox)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        headers = {"WWW-Authenticate": 'Basic realm="Credly"'} if exc.status == 401 else None
        return envelope_error(exc.status, exc.message, headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return envelope_error(exc.status_code, STATUS_MESSAGES.get(exc.status_code, exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return envelope_error(422, "Invalid request")

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return envelope_error(500)

    add_credly_routes(app, sandbox)
    add_control_routes(app, sandbox)
    return app
