"""The one place API errors are shaped: `{"error": {"code", "message", "details"}}` with a fitting 4xx."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import Unauthorized
from core.errors import (
    Conflict,
    CoreError,
    Expired,
    ExternalPermanent,
    ExternalTransient,
    Forbidden,
    IntegrationDisabled,
    Invalid,
    NotFound,
    RiskDenied,
)

log = structlog.get_logger("api")

HTTP_STATUS: dict[type[CoreError], int] = {
    Unauthorized: 401,
    NotFound: 404,
    Invalid: 422,
    Forbidden: 403,
    Expired: 409,
    Conflict: 409,
    RiskDenied: 403,
    IntegrationDisabled: 503,
    ExternalTransient: 503,
    ExternalPermanent: 502,
}
"""The HTTP status of each core error; a subclass not listed takes its nearest listed base's, CoreError 400."""


def http_status(exc: CoreError) -> int:
    return next((HTTP_STATUS[kind] for kind in type(exc).__mro__ if kind in HTTP_STATUS), 400)


def error_response(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status)


_MESSAGES = {
    "extra_forbidden": "unknown field; remove it",
    "model_attributes_type": "expected a JSON object (send Content-Type: application/json)",
    "dict_type": "expected a JSON object (send Content-Type: application/json)",
}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def _core_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CoreError)
    request.state.error_code = exc.code  # the metrics middleware labels the error with it
    return error_response(http_status(exc), exc.code, exc.message, exc.details)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = []
    for error in exc.errors():
        kind = error.get("type", "")
        if kind == "json_invalid":
            return error_response(422, "invalid_json", "the request body is not valid JSON: "
                                  f"{error.get('ctx', {}).get('error', 'parse error')}")
        message = _MESSAGES.get(kind, str(error.get("msg")).removeprefix("Value error, "))
        details.append({"field": _field(tuple(error.get("loc", ()))), "message": message})
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
    return error_response(422, "invalid", f"invalid request: {summary}", details)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 401: "unauthorized"}
    return error_response(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("api.unhandled", path=request.url.path, exc_info=exc)
    return error_response(500, "internal", "something went wrong on our side; the error was logged")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CoreError, _core_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
