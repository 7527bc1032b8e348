"""The outermost layer of every request: request id, access log, metrics, body limits (size
and time), client disconnects, and the generic 500.

Pure ASGI (no BaseHTTPMiddleware), so it adds little latency and sees exceptions that no
handler took. The access log names the route template, never the URL: query strings may carry
a CPR number (`GET /v1/messages?patient_cpr=`).

A client that goes away before its response is complete is no error of ours: it is logged at
INFO as `client_disconnected`, counted under status 499 (nginx's "client closed request"), and
sent nothing more. Uvicorn reports it as an `http.disconnect` from `receive` (Starlette's
`ClientDisconnect` in a route reading its body, or FastAPI's 400 for a body it parses itself)
and drops what is sent afterwards; other ASGI servers raise `OSError` from `send` (ASGI 2.4),
or anyio's closed/broken stream errors.
"""

import asyncio
import logging
import re
import time
import traceback
import uuid

import anyio
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import problem_from_error
from app.errors import PayloadTooLarge, SektorbroError
from app.metrics import HttpMetrics

__all__ = ["RequestContextMiddleware"]

log = logging.getLogger("sektorbro.http")

# A caller-supplied X-Request-ID is kept only when it is plainly an id.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

# The status a request is counted and logged under when its client disconnected (nginx).
CLIENT_CLOSED_REQUEST = 499

# What `send` raises when the client is gone (only from `send`: elsewhere an OSError is a bug).
_SEND_DISCONNECTS = (OSError, anyio.ClosedResourceError, anyio.BrokenResourceError)


class RequestContextMiddleware:
    def __init__(
        self, app: ASGIApp, *, metrics: HttpMetrics, max_body_bytes: int, body_timeout: float
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False
        response_complete = False
        disconnected = False  # the client went away before its response was complete

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started, response_complete, disconnected
            if disconnected:
                return  # nobody is listening: not even an error response is sent
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message.setdefault("headers", []).append(
                    (b"x-request-id", request_id.encode("ascii"))
                )
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Set before the send: from then on, uvicorn answers `receive` with
                # http.disconnect although the client is still there.
                response_complete = True
            try:
                await send(message)
            except _SEND_DISCONNECTS:
                disconnected = True
                raise  # stops the app; handled below

        def heard(message: Message) -> Message:
            nonlocal disconnected
            if message["type"] == "http.disconnect" and not response_complete:
                disconnected = True
            return message

        received = 0
        body_complete = False
        body_deadline = asyncio.get_running_loop().time() + self.body_timeout

        async def receive_within_limit() -> Message:
            # Bodies without Content-Length are counted as they stream in, and the whole body
            # must arrive within body_timeout: a client that trickles its body would otherwise
            # keep a request open for as long as it likes. Both errors surface where the route
            # reads its body and are rendered by app/api/problems.py (Starlette's exception,
            # since FastAPI turns any other error in its own body parsing into a 400).
            nonlocal received, body_complete
            if body_complete:
                return heard(await receive())  # after the body: only the disconnect is left
            try:
                async with asyncio.timeout_at(body_deadline):
                    message = heard(await receive())
            except TimeoutError:
                raise StarletteHTTPException(408, headers={"Connection": "close"}) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise StarletteHTTPException(413)
                body_complete = not message.get("more_body", False)
            return message

        try:
            if _declared_length(scope) > self.max_body_bytes:
                # Refused before a byte of the body is read.
                response = problem_from_error(Request(scope), PayloadTooLarge(self.max_body_bytes))
                await response(scope, receive, send_with_request_id)
            else:
                await self.app(scope, receive_within_limit, send_with_request_id)
        except Exception as exc:
            if disconnected or isinstance(exc, ClientDisconnect):
                disconnected = True  # the client's doing, not a bug: no stack, no 500
            else:
                _log_unhandled(exc, request_id)
                if response_started:
                    raise
                unexpected = SektorbroError(
                    "Something went wrong on our side. Quote the request id when you report it."
                )
                response = problem_from_error(Request(scope), unexpected)
                await response(scope, receive, send_with_request_id)
        finally:
            route = _route_template(scope)
            seconds = time.perf_counter() - started
            if disconnected:
                status = CLIENT_CLOSED_REQUEST
                log.info(
                    "client_disconnected %s %s %s request_id=%s",
                    scope["method"],
                    route,
                    "during the response" if response_started else "before the response",
                    request_id,
                )
            self.metrics.observe(
                method=scope["method"], route=route, status=status, seconds=seconds
            )
            log.info(
                "%s %s %d %.1fms request_id=%s",
                scope["method"],
                route,
                status,
                seconds * 1000,
                request_id,
            )


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(candidate):
                return candidate
    return uuid.uuid4().hex


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


def _route_template(scope: Scope) -> str:
    # The router puts the matched API route in the scope. FastAPI's documentation routes
    # (/docs, /redoc, /openapi.json) leave only their endpoint there; their paths are fixed.
    # Unmatched paths share one label so that scanners cannot blow up the cardinality.
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    if "endpoint" in scope:
        return str(scope["path"])
    return "unmatched"


def _log_unhandled(exc: Exception, request_id: str) -> None:
    # The exception's message is left out on purpose: it can quote submitted values (pydantic,
    # database drivers), and those may be CPR numbers or health text. Class and stack suffice
    # to find the bug; the request id ties it to the caller's report.
    stack = "".join(traceback.format_tb(exc.__traceback__))
    log.error(
        "unhandled %s.%s request_id=%s\n%s",
        type(exc).__module__,
        type(exc).__qualname__,
        request_id,
        stack,
    )
