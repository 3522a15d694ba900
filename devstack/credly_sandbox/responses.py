"""Credly's envelopes: a request's JSON body read, a `data` answer and an error written."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from devstack.credly_sandbox.model import ApiError

STATUS_MESSAGES = {
    401: "Unauthorized",
    404: "Not found",
    405: "Method not allowed",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
}


def envelope_error(
    status: int, message: str | None = None, headers: dict | None = None
) -> Response:
    """Credly's error shape; clients should depend on data.message only."""
    text = message or STATUS_MESSAGES.get(status, "Error")
    return JSONResponse({"data": {"message": text}}, status_code=status, headers=headers)


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, "Request body is not valid JSON") from None


def data(payload: Any, status: int = 200, **extra: Any) -> JSONResponse:
    return JSONResponse({"data": payload, **extra}, status_code=status)
