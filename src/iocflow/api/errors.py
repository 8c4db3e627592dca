"""The error envelope, and the one place where every failure becomes one.

Every error response is ``{"error": {"code", "message", "details", "request_id"}}``
with the status of its code. Domain errors (``IocflowError``) carry no HTTP
status; they are mapped here. Unexpected exceptions are caught by the
outermost middleware (``middleware.py``) and become a 500 with no trace of
their internals (the trace goes to the server log with the request id).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from iocflow.api.middleware import BodyTooLarge
from iocflow.exceptions import (
    AlreadyExists,
    ExtractError,
    FeedError,
    InvalidCursor,
    InvalidParameter,
    IocflowError,
    NotFound,
    SchemaMissing,
    StoreError,
    Unavailable,
)

log = logging.getLogger("iocflow.api")

_STATUS_CODES = {
    400: "invalid_parameter",
    401: "missing_api_key",
    403: "insufficient_scope",
    404: "not_found",
    405: "method_not_allowed",
    409: "already_exists",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limit_exceeded",
    500: "internal_error",
}


class ApiError(Exception):
    """An error the API answers with; ``code`` is the stable, documented identifier."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}


def request_id(request: Request) -> str:
    return getattr(request.state, "request_id", "") or ""


def envelope(request: Request, status: int, code: str, message: str, details: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> Response:
    body = {"error": {"code": code, "message": message, "details": details or {}, "request_id": request_id(request)}}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


#: Each domain error's status and code, by class; the most specific class in an error's MRO wins.
_DOMAIN: dict[type[IocflowError], tuple[int, str]] = {
    NotFound: (404, "not_found"),
    AlreadyExists: (409, "already_exists"),
    Unavailable: (503, "store_unavailable"),
    InvalidCursor: (400, "invalid_parameter"),
    InvalidParameter: (400, "invalid_parameter"),
    ExtractError: (400, "invalid_input"),
    FeedError: (400, "invalid_input"),
    StoreError: (400, "invalid_parameter"),
    IocflowError: (400, "invalid_parameter"),
}
CURSOR_MESSAGE = "cursor must be the next_cursor of a previous page"
UNAVAILABLE_MESSAGE = "the database is unavailable; try again shortly"


def domain_error_response(exc: IocflowError) -> tuple[int, str, str, dict[str, Any]]:
    """The status, code, message and details the API answers ``exc`` with."""
    status, code = next(_DOMAIN[cls] for cls in type(exc).__mro__ if cls in _DOMAIN)
    if isinstance(exc, InvalidCursor):
        return status, code, CURSOR_MESSAGE, {"parameter": "cursor"}
    if isinstance(exc, Unavailable) and not isinstance(exc, SchemaMissing):
        # The driver's reason names hosts and ports: the server log has it (under the request id), clients not.
        return status, code, UNAVAILABLE_MESSAGE, {}
    return status, code, str(exc), dict(getattr(exc, "details", None) or {})


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into the envelope."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return envelope(request, exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"location": ".".join(str(p) for p in err.get("loc", ())), "message": err.get("msg", ""),
             "type": err.get("type", "")}
            for err in exc.errors()
        ]
        first = problems[0] if problems else {"location": "", "message": "invalid request"}
        message = f"{first['location']}: {first['message']}" if first["location"] else first["message"]
        return envelope(request, 400, "invalid_parameter", message, {"errors": problems})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if isinstance(exc.__cause__, BodyTooLarge):
            raise exc.__cause__  # FastAPI reports a body it could not read as a 400; the middleware answers 413
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return envelope(request, exc.status_code, code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(IocflowError)
    async def domain_error(request: Request, exc: IocflowError) -> Response:
        status, code, message, details = domain_error_response(exc)
        if status >= 500:
            log.warning("%s %s: %s (request %s)", request.method, request.url.path, exc, request_id(request))
        return envelope(request, status, code, message, details)
