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

__all__ = [
    "AdminDep",
    "CallerDep",
    "ClockDep",
    "SessionDep",
    "SettingsDep",
    "require_json_body",
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


def require_json_body(request: Request) -> None:
    """415 unless the body is declared as JSON (`application/json` or `+json`)."""
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType(
            f"This endpoint takes application/json; the request was "
            f"'{media_type or 'without a Content-Type'}'."
        )
