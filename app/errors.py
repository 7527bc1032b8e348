"""Expected failures and their RFC 9457 problem+json rendering.

    SektorbroError                 500  internal
    ├── AuthenticationRequired     401  unauthenticated
    ├── Forbidden                  403  forbidden
    ├── NotFound                   404  not_found
    ├── Conflict                   409  conflict
    ├── PayloadTooLarge            413  payload_too_large
    ├── UnsupportedMediaType       415  unsupported_media_type
    ├── ValidationFailed           422  validation_failed   (with `errors`)
    ├── NotReady                   503  not_ready
    └── ServiceBusy                503  busy                (with `Retry-After`)

Services raise these; app/api/problems.py renders them, FastAPI's request validation errors and
Starlette's HTTP errors (404, 405, 408, 413) as `application/problem+json`. Unexpected
exceptions become a generic 500 in app/middleware.py. Error texts never echo submitted values:
a value may be a CPR number or health text (personal data).

Imports nothing from FastAPI or Starlette: the domain and XML layers raise these too.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "AuthenticationRequired",
    "Conflict",
    "FieldError",
    "Forbidden",
    "NotFound",
    "NotReady",
    "PayloadTooLarge",
    "SektorbroError",
    "ServiceBusy",
    "UnsupportedMediaType",
    "ValidationFailed",
    "field_errors",
    "located",
]


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


class ServiceBusy(SektorbroError):
    """The database could not take the request in time (a lock wait on SQLite, every pooled
    connection in use on PostgreSQL, or the database unreachable). Nothing was stored; the same
    request may be sent again after `Retry-After` seconds (RFC 9110 §10.2.3)."""

    status_code = 503
    code = "busy"
    title = "Service busy"

    def __init__(self, detail: str, *, retry_after: int = 1) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


def _summary(errors: Sequence[FieldError]) -> str:
    fields = ", ".join(dict.fromkeys(e.field for e in errors))
    noun = "problem" if len(errors) == 1 else "problems"
    return f"{len(errors)} {noun} with: {fields}."


# Plainer words than pydantic's for the rules integrators meet most.
_PLAIN_MESSAGES = {
    "missing": "This field is required.",
    "extra_forbidden": "This field is not part of the format; remove it.",
    "bool_type": "Give true or false.",
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
