"""RFC 9457 `application/problem+json` answers for every error.

The error tree is in app/errors.py (no FastAPI there); this module renders it, FastAPI's
request validation errors and Starlette's HTTP errors (404, 405, 408, 413).
"""

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.errors import FieldError, PayloadTooLarge, SektorbroError, ValidationFailed, field_errors
from app.state import app_state

__all__ = [
    "PROBLEM_JSON",
    "problem_from_error",
    "register_exception_handlers",
]

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:sektorbro:problem:"


def _problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """Renders one RFC 9457 problem document."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": request.scope.get("state", {}).get("request_id"),
    }
    if errors:
        body["errors"] = [{"field": e.field, "rule": e.rule, "message": e.message} for e in errors]
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def problem_from_error(request: Request, exc: Exception) -> JSONResponse:
    """Renders a SektorbroError as its problem document."""
    assert isinstance(exc, SektorbroError)
    return _problem_response(
        request,
        status=exc.status_code,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        errors=exc.errors,
        headers=exc.headers,
    )


def _request_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem_from_error(request, ValidationFailed(field_errors(exc.errors())))


_HTTP_PROBLEMS = {
    404: ("not_found", "Not found", "There is no such resource."),
    405: ("method_not_allowed", "Method not allowed", "This resource does not take {method}."),
    408: (
        "request_timeout",
        "Request timeout",
        "The request body did not arrive within {body_timeout:g} seconds; send it again.",
    ),
}


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    settings = app_state(request.app).settings
    if exc.status_code == 413:
        return problem_from_error(request, PayloadTooLarge(settings.max_body_bytes))
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        # FastAPI decodes the JSON of a body it validates itself (a pydantic parameter) and
        # answers bytes that are not UTF-8 with a bare 400; every other JSON route, and this
        # one for any other broken JSON, answers 422 `json_invalid`.
        return problem_from_error(request, _not_utf8(exc.__cause__))
    code, title, detail = _HTTP_PROBLEMS.get(
        exc.status_code, ("http_error", str(exc.detail), str(exc.detail))
    )
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return _problem_response(
        request,
        status=exc.status_code,
        code=code,
        title=title,
        detail=detail.format(method=request.method, body_timeout=settings.body_timeout),
        headers=headers,
    )


def _not_utf8(error: UnicodeDecodeError) -> ValidationFailed:
    return ValidationFailed(
        [
            FieldError(
                "body",
                "json_invalid",
                f"The body is not valid JSON: it is not UTF-8 (byte {error.start}).",
            )
        ]
    )


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE")


def _allowed_methods(request: Request) -> list[str]:
    # RFC 9110 §15.5.6: a 405 lists every method of the resource. Starlette names only the
    # methods of the first route that matched the path (here GET of GET/PUT), so ask every
    # route, for each method, whether it takes the path in full. (The OpenAPI paths would
    # leave out /openapi.json and /docs.)
    methods = {
        method
        for method in _METHODS
        for route in request.app.router.routes
        if route.matches({**request.scope, "method": method})[0] is Match.FULL
    }
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def register_exception_handlers(app: FastAPI) -> None:
    """Makes every error answer application/problem+json."""
    app.add_exception_handler(SektorbroError, problem_from_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
