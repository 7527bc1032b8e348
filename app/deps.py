"""Dependency aliases for routes: the session, settings, clock, and who is calling."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.clock import Clock
from app.config import Settings
from app.db import get_session
from app.errors import Forbidden, UnsupportedMediaType
from app.services.api_keys import Caller, authenticate
from app.services.context import RequestContext
from app.xml import XmlRenderer

__all__ = [
    "AdminDep",
    "CallerDep",
    "ClockDep",
    "ContextDep",
    "RawBodyDep",
    "SessionDep",
    "SettingsDep",
    "XmlDep",
    "media_type",
    "require_json_body",
    "wants_xml",
]

# scope="function": commit or roll back when the route returns, before the response is sent,
# so a 2xx is only ever sent for committed work.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


SettingsDep = Annotated[Settings, Depends(_settings)]
ClockDep = Annotated[Clock, Depends(_clock)]

_bearer = HTTPBearer(
    scheme_name="bearer",
    description="An API key from `sektorbro keys create`: `Authorization: Bearer sb_…`.",
    auto_error=False,
)


def _caller(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    return authenticate(session, credentials.credentials if credentials else None)


CallerDep = Annotated[Caller, Depends(_caller)]


def _admin(caller: CallerDep) -> Caller:
    if not caller.is_admin:
        raise Forbidden("This needs an admin key; your key belongs to an organisation.")
    return caller


AdminDep = Annotated[Caller, Depends(_admin)]


def _context(
    request: Request, caller: CallerDep, clock: ClockDep, settings: SettingsDep
) -> RequestContext:
    return RequestContext(
        caller=caller,
        now=clock.now(),
        request_id=request.scope.get("state", {}).get("request_id"),
        patient_key=settings.patient_hash_key.get_secret_value().encode("utf-8"),
    )


ContextDep = Annotated[RequestContext, Depends(_context)]


def _xml(request: Request) -> XmlRenderer:
    renderer: XmlRenderer = request.app.state.xml
    return renderer


XmlDep = Annotated[XmlRenderer, Depends(_xml)]


async def _raw_body(request: Request) -> bytes:
    # Read on the event loop, before the (threaded) route runs; the size limit is enforced
    # by RequestContextMiddleware while the body streams in.
    return await request.body()


RawBodyDep = Annotated[bytes, Depends(_raw_body)]


def media_type(request: Request) -> str:
    """The request body's media type, lower case, without parameters."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def is_json_media_type(value: str) -> bool:
    """`application/json` or any `+json` type."""
    return value == "application/json" or value.endswith("+json")


def is_xml_media_type(value: str) -> bool:
    """`application/xml`, `text/xml` or any `+xml` type."""
    return value in ("application/xml", "text/xml") or value.endswith("+xml")


def wants_xml(request: Request) -> bool:
    """True when the Accept header prefers XML to JSON (JSON when it does not say)."""
    best: dict[str, float] = {}
    for item in request.headers.get("accept", "").split(","):
        name, *params = (part.strip().lower() for part in item.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        kind = "xml" if is_xml_media_type(name) else "json" if is_json_media_type(name) else None
        if kind is not None:
            best[kind] = max(best.get(kind, 0.0), quality)
    return best.get("xml", 0.0) > best.get("json", 0.0)


def require_json_body(request: Request) -> None:
    """415 unless the body is declared as JSON (`application/json` or `+json`)."""
    declared = media_type(request)
    if not is_json_media_type(declared):
        raise UnsupportedMediaType(
            f"This endpoint takes application/json; the request was "
            f"'{declared or 'without a Content-Type'}'."
        )
