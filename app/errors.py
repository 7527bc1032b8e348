"""Expected failures and their RFC 9457 problem+json rendering.

    SektorbroError                 500  internal
    ├── AuthenticationRequired     401  unauthenticated
    ├── Forbidden                  403  forbidden
    ├── NotFound                   404  not_found
    ├── Conflict                   409  conflict
    ├── PayloadTooLarge            413  payload_too_large
    ├── UnsupportedMediaType       415  unsupported_media_type
    ├── ValidationFailed           422  validation_failed   (with `errors`)
    └── NotReady                   503  not_ready

Services raise these; the handlers below turn them, FastAPI's request validation errors and
Starlette's HTTP errors (404, 405, 413) into `application/problem+json`. Unexpected exceptions
become a generic 500 in app/middleware.py. Error texts never echo submitted values: a value may
be a CPR number or health text (DEVELOPERS.md, personal data).
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

__all__ = [
    "PROBLEM_JSON",
    "AuthenticationRequired",
    "Conflict",
    "FieldError",
    "Forbidden",
    "NotFound",
    "NotReady",
    "PayloadTooLarge",
    "SektorbroError",
    "UnsupportedMediaType",
    "ValidationFailed",
    "field_errors",
    "located",
    "problem_from_error",
    "register_exception_handlers",
]

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:sektorbro:problem:"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One broken rule: where (`field`, a dotted path or an XPath), which rule, in plain words."""

    field: str
    rule: str
    message: str


class SektorbroError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal error"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)
        self.headers = headers or {}


class AuthenticationRequired(SektorbroError):
    status_code = 401
    code = "unauthenticated"
    title = "Authentication required"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(SektorbroError):
    status_code = 403
    code = "forbidden"
    title = "Not allowed"


class NotFound(SektorbroError):
    status_code = 404
    code = "not_found"
    title = "Not found"


class Conflict(SektorbroError):
    status_code = 409
    code = "conflict"
    title = "Conflict"


class PayloadTooLarge(SektorbroError):
    status_code = 413
    code = "payload_too_large"
    title = "Payload too large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"The body is larger than {limit} bytes.", headers={"Connection": "close"})


class UnsupportedMediaType(SektorbroError):
    status_code = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


class ValidationFailed(SektorbroError):
    status_code = 422
    code = "validation_failed"
    title = "The request is not valid"

    def __init__(self, errors: Sequence[FieldError], detail: str | None = None) -> None:
        super().__init__(detail or _summary(errors), errors=errors)


@contextmanager
def located(locate: Callable[[str], str]) -> Iterator[None]:
    """Names the fields of 422s raised inside in the caller's notation (`locate` turns a
    dotted JSON path into it, e.g. the XPath of an element of XML input)."""
    try:
        yield
    except ValidationFailed as exc:
        raise ValidationFailed(
            [FieldError(locate(e.field), e.rule, e.message) for e in exc.errors]
        ) from None


class NotReady(SektorbroError):
    status_code = 503
    code = "not_ready"
    title = "Service not ready"


def _summary(errors: Sequence[FieldError]) -> str:
    fields = ", ".join(dict.fromkeys(e.field for e in errors))
    noun = "problem" if len(errors) == 1 else "problems"
    return f"{len(errors)} {noun} with: {fields}."


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


# Plainer words than pydantic's for the rules integrators meet most.
_PLAIN_MESSAGES = {
    "missing": "This field is required.",
    "extra_forbidden": "This field is not part of the format; remove it.",
}
_REQUEST_PARTS = {"body", "query", "path", "header", "cookie"}


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and part.startswith("<") and part.endswith(">")


def field_errors(
    errors: Sequence[Any], locate: Callable[[tuple[str | int, ...]], str] | None = None
) -> list[FieldError]:
    """Turns pydantic error dicts into FieldErrors with dotted paths (`patient.cpr`).

    `locate` names a location in the caller's own notation instead (an XPath for XML input).
    """
    result = []
    for error in errors:
        # Union tags such as `<text>` (app/domain/text.py) are not part of the JSON path.
        loc = [part for part in error["loc"] if not _is_union_tag(part)]
        if loc and loc[0] in _REQUEST_PARTS:
            loc = loc[1:]
        rule = error["type"]
        if rule == "json_invalid":
            field = "body"
            message = f"The body is not valid JSON: {error['ctx']['error']}."
        else:
            dotted = ".".join(str(part) for part in loc) or "body"
            field = locate(tuple(loc)) if locate else dotted
            message = _PLAIN_MESSAGES.get(rule, error["msg"])
        result.append(FieldError(field=field, rule=rule, message=message))
    return result


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
}


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 413:
        return problem_from_error(
            request, PayloadTooLarge(request.app.state.settings.max_body_bytes)
        )
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
        detail=detail.format(method=request.method),
        headers=headers,
    )


def _allowed_methods(request: Request) -> list[str]:
    # RFC 9110 §15.5.6: a 405 lists every method of the resource. Starlette names only the
    # methods of the first route that matched the path (here GET of GET/PUT), so ask the
    # app's own description of its paths.
    methods: set[str] = set()
    for template, operations in request.app.openapi()["paths"].items():
        if compile_path(template)[0].fullmatch(request.url.path):
            methods |= {method.upper() for method in operations}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def register_exception_handlers(app: FastAPI) -> None:
    """Makes every error answer application/problem+json."""
    app.add_exception_handler(SektorbroError, problem_from_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
