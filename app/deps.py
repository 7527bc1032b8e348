"""Dependency aliases for routes: the database, settings, clock, who is calling, the body.

Every dependency here is `async` and cheap: FastAPI runs a plain `def` dependency on the
thread pool, one hand-off per dependency and request. None of them holds a database
connection: a route opens its transaction itself (`with db.transaction() as session:`) once
its input is read and checked, and the caller's key is looked up in a transaction of its own
(or remembered, SEKTORBRO_KEY_CACHE_SECONDS).
"""

import functools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, Literal, ParamSpec, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.clock import Clock
from app.config import Settings
from app.db import Database
from app.delivery.wakeups import InboxWakeups
from app.errors import AuthenticationRequired, Forbidden, UnsupportedMediaType
from app.services.api_keys import Caller, Scope, authenticate, key_digest
from app.services.context import RequestContext
from app.state import AppState, app_state
from app.xml import XmlRenderer

__all__ = [
    "AuditContextDep",
    "CallerDep",
    "ClockDep",
    "ContextDep",
    "DatabaseDep",
    "DirectoryDep",
    "JsonBody",
    "MetricsDep",
    "OrganisationContextDep",
    "ReceiptPosterDep",
    "RequestBody",
    "SettingsDep",
    "WakeupsDep",
    "XmlDep",
    "body_of",
    "in_thread",
    "wants_xml",
]

P = ParamSpec("P")
T = TypeVar("T")


def in_thread(route: Callable[P, T]) -> Callable[P, Coroutine[Any, Any, T]]:
    """Runs a route's body on the thread pool in one hand-off (it does blocking database work).

    FastAPI would run a plain `def` route there too, but then validates and serialises its
    answer in a second hand-off; as a coroutine the answer is serialised on the event loop,
    and a busy thread pool (many waking long polls) does not hold up an answer already made.
    Put it under the route decorator; FastAPI reads the parameters of the wrapped function.
    """

    @functools.wraps(route)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        return await run_in_threadpool(route, *args, **kwargs)

    return run


async def _state(request: Request) -> AppState:
    return app_state(request.app)


StateDep = Annotated[AppState, Depends(_state)]


async def _settings(state: StateDep) -> Settings:
    return state.settings


async def _clock(state: StateDep) -> Clock:
    return state.clock


async def _database(state: StateDep) -> Database:
    return state.db


async def _xml(state: StateDep) -> XmlRenderer:
    return state.xml


async def _wakeups(state: StateDep) -> InboxWakeups:
    return state.wakeups


SettingsDep = Annotated[Settings, Depends(_settings)]
ClockDep = Annotated[Clock, Depends(_clock)]
DatabaseDep = Annotated[Database, Depends(_database)]
XmlDep = Annotated[XmlRenderer, Depends(_xml)]
WakeupsDep = Annotated[InboxWakeups, Depends(_wakeups)]

_bearer = HTTPBearer(
    scheme_name="bearer",
    description="An API key from `sektorbro keys create`: `Authorization: Bearer sb_…`.",
    auto_error=False,
)


async def _caller(
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    if credentials is None or not credentials.credentials:
        raise AuthenticationRequired(
            "Send your API key in the header 'Authorization: Bearer <key>'."
        )
    key = credentials.credentials
    digest = key_digest(key)
    caller = state.callers.get(digest)
    if caller is None:
        caller = await run_in_threadpool(_look_up, state.db, key)
        state.callers.put(digest, caller)
    return caller


def _look_up(database: Database, key: str) -> Caller:
    with database.transaction(read_only=True) as session:
        return authenticate(session, key)


CallerDep = Annotated[Caller, Depends(_caller)]


def _scoped(scope: Scope) -> Callable[..., Coroutine[Any, Any, Caller]]:
    async def require(caller: CallerDep) -> Caller:
        if not caller.has(scope):
            raise Forbidden(
                f"This needs a key with the scope '{scope}' (sektorbro keys create --scope "
                f"{scope}); {_holder(caller)}."
            )
        return caller

    return require


def _holder(caller: Caller) -> str:
    if caller.organisation_gln is not None:
        return f"your key belongs to organisation {caller.organisation_gln}"
    return "your key has the scopes " + ", ".join(sorted(caller.scopes))


DirectoryDep = Annotated[Caller, Depends(_scoped(Scope.DIRECTORY))]
MetricsDep = Annotated[Caller, Depends(_scoped(Scope.METRICS))]


async def _context(request: Request, caller: CallerDep, state: StateDep) -> RequestContext:
    return RequestContext(
        caller=caller,
        now=state.clock.now(),
        request_id=request.scope.get("state", {}).get("request_id"),
        patient_key=state.settings.patient_hash_key.get_secret_value().encode("utf-8"),
    )


ContextDep = Annotated[RequestContext, Depends(_context)]


async def _organisation_context(ctx: ContextDep) -> RequestContext:
    # Sending, receiving and reading messages is an organisation's business. A scoped key
    # reads no organisation's patients (only `audit` reads across them, on its own routes).
    if ctx.caller.organisation_gln is None:
        raise Forbidden(
            f"This is done with an organisation's key; {_holder(ctx.caller)}, and none of "
            "them reads or sends an organisation's messages."
        )
    return ctx


OrganisationContextDep = Annotated[RequestContext, Depends(_organisation_context)]


async def _organisation_or_gateway(ctx: ContextDep) -> RequestContext:
    # Receipts come from the organisations themselves, or from the network gateway (VANS) on
    # their behalf; services/receipts.py checks for whom each may speak.
    if ctx.caller.organisation_gln is None and not ctx.caller.has(Scope.GATEWAY):
        raise Forbidden(
            f"Receipts are posted with an organisation's key or a key with the scope "
            f"'{Scope.GATEWAY}'; {_holder(ctx.caller)}."
        )
    return ctx


ReceiptPosterDep = Annotated[RequestContext, Depends(_organisation_or_gateway)]


async def _audit_context(ctx: ContextDep) -> RequestContext:
    if not ctx.caller.has(Scope.AUDIT):
        raise Forbidden(
            f"The audit trail needs a key with the scope '{Scope.AUDIT}'; {_holder(ctx.caller)}."
        )
    return ctx


AuditContextDep = Annotated[RequestContext, Depends(_audit_context)]

BodyKind = Literal["json", "xml"]


@dataclass(frozen=True, slots=True)
class RequestBody:
    """A request body read in full, with the kind its Content-Type declares."""

    kind: BodyKind
    content: bytes


def body_of(*kinds: BodyKind, what: str) -> Callable[..., Coroutine[Any, Any, RequestBody]]:
    """A dependency that reads the body, in full, if its Content-Type is one of `kinds`
    (`json`: application/json or any +json type; `xml`: application/xml, text/xml or any +xml
    type), and otherwise answers 415 with `what` ("A plan is sent as …"). The key is checked
    first: a caller without a valid key learns nothing about the media type. The body is read
    on the event loop, before any transaction begins; the size and time limits are enforced by
    app/middleware.py while it streams in."""

    async def read(request: Request, _caller: CallerDep) -> RequestBody:
        declared = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        kind = _kind_of(declared)
        if kind is None or kind not in kinds:
            raise UnsupportedMediaType(
                f"{what}; the request was '{declared or 'without a Content-Type'}'."
            )
        return RequestBody(kind, await request.body())

    return read


def _kind_of(media_type: str) -> BodyKind | None:
    if media_type == "application/json" or media_type.endswith("+json"):
        return "json"
    if media_type in ("application/xml", "text/xml") or media_type.endswith("+xml"):
        return "xml"
    return None


JsonBody = Annotated[
    RequestBody, Depends(body_of("json", what="This endpoint takes application/json"))
]


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
        kind = _kind_of(name)
        if kind is not None:
            best[kind] = max(best.get(kind, 0.0), quality)
    return best.get("xml", 0.0) > best.get("json", 0.0)
