"""A client that disconnects mid-request (app/middleware.py): logged at INFO as
`client_disconnected` without a stack, counted under status 499, and sent nothing.

Driven at the ASGI level, as a server would: `receive` answers `http.disconnect` while the
route reads its body (what uvicorn does when the connection closes), or `send` raises as an
ASGI 2.4 server does on a closed connection."""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import anyio
import pytest
from fastapi import Body, FastAPI, Request
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from app.metrics import HttpMetrics
from app.middleware import CLIENT_CLOSED_REQUEST, RequestContextMiddleware
from app.state import app_state

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]

REQUEST_ID = "disconnect-test-1"
LOGGER = "sektorbro.http"


class Item(BaseModel):
    name: str


def tiny_app(metrics: HttpMetrics) -> FastAPI:
    """An app with the middleware where create_app puts it (inside Starlette's 500 layer)."""
    app = FastAPI()
    app.add_middleware(
        RequestContextMiddleware, metrics=metrics, max_body_bytes=1_000_000, body_timeout=5
    )

    @app.post("/raw/{item_id}")
    async def raw(item_id: str, request: Request) -> dict[str, int]:
        return {"length": len(await request.body())}  # Starlette raises ClientDisconnect

    @app.post("/model")
    async def model(item: Annotated[Item, Body()]) -> Item:
        return item  # FastAPI reads the body itself (and makes a disconnect a 400)

    @app.get("/big")
    async def big() -> dict[str, str]:
        return {"text": "x" * 10_000}

    return app


def scope_of(method: str, path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"x-request-id", REQUEST_ID.encode()),
            *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


def leaving_after(*chunks: bytes) -> Receive:
    """A client that sends these parts of its body (announcing more) and then disconnects."""
    pending = [{"type": "http.request", "body": c, "more_body": True} for c in chunks]

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    return receive


def staying(body: bytes) -> Receive:
    """A client that sends its whole body and then waits for the answer."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # never disconnects
        raise AssertionError("unreachable")

    return receive


class Server:
    """The server's side of `send`: records what was sent; raises `error` once it is set."""

    def __init__(self, error: BaseException | None = None, fail_from: int = 0) -> None:
        self.sent: list[Message] = []
        self.error = error
        self.fail_from = fail_from

    async def send(self, message: Message) -> None:
        if self.error is not None and len(self.sent) >= self.fail_from:
            raise self.error
        self.sent.append(message)


def call(app: Any, scope: dict[str, Any], receive: Receive, server: Server) -> None:
    asyncio.run(app(scope, receive, server.send))


def requests_counted(registry: CollectorRegistry, method: str, route: str, status: int) -> float:
    value = registry.get_sample_value(
        "sektorbro_http_requests_total", {"method": method, "route": route, "status": str(status)}
    )
    return value or 0.0


def disconnect_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == LOGGER and r.getMessage().startswith("client_disconnected")
    ]


@pytest.fixture
def metrics() -> HttpMetrics:
    return HttpMetrics()


@pytest.fixture
def middleware(metrics: HttpMetrics) -> FastAPI:
    return tiny_app(metrics)


def assert_counted_as_499(metrics: HttpMetrics, method: str, route: str) -> None:
    assert requests_counted(metrics.registry, method, route, CLIENT_CLOSED_REQUEST) == 1
    samples = [
        s
        for family in metrics.registry.collect()
        for s in family.samples
        if s.name == "sektorbro_http_requests_total"
    ]
    assert [s.labels["status"] for s in samples] == ["499"]


def assert_logged_once_without_stack(
    caplog: pytest.LogCaptureFixture, method: str, route: str
) -> None:
    [record] = disconnect_records(caplog)
    assert record.levelno == logging.INFO
    assert record.exc_info is None
    message = record.getMessage()
    assert f"{method} {route} " in message
    assert f"request_id={REQUEST_ID}" in message
    assert "Traceback" not in message
    assert "File " not in message
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


class TestWhileReadingTheBody:
    def test_a_route_reading_its_body_logs_a_disconnect_at_info(
        self,
        middleware: FastAPI,
        metrics: HttpMetrics,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        server = Server()
        caplog.set_level(logging.INFO, logger=LOGGER)

        call(middleware, scope_of("POST", "/raw/42"), leaving_after(b'{"na'), server)

        assert_logged_once_without_stack(caplog, "POST", "/raw/{item_id}")
        assert_counted_as_499(metrics, "POST", "/raw/{item_id}")
        assert server.sent == []

    def test_a_body_fastapi_parses_is_no_400_either(
        self,
        middleware: FastAPI,
        metrics: HttpMetrics,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        server = Server()
        caplog.set_level(logging.INFO, logger=LOGGER)

        call(
            middleware,
            scope_of("POST", "/model", {"content-type": "application/json"}),
            leaving_after(b'{"na', b'me": '),
            server,
        )

        assert_logged_once_without_stack(caplog, "POST", "/model")
        assert_counted_as_499(metrics, "POST", "/model")
        assert server.sent == []

    def test_a_client_that_stays_gets_its_answer(
        self, middleware: FastAPI, metrics: HttpMetrics
    ) -> None:
        server = Server()

        call(
            middleware,
            scope_of("POST", "/model", {"content-type": "application/json"}),
            staying(b'{"name": "x"}'),
            server,
        )

        assert server.sent[0]["status"] == 200
        assert json.loads(server.sent[1]["body"]) == {"name": "x"}
        assert requests_counted(metrics.registry, "POST", "/model", 200) == 1


class TestWhileSendingTheResponse:
    @pytest.mark.parametrize(
        "error",
        [OSError("connection closed"), anyio.ClosedResourceError(), anyio.BrokenResourceError()],
        ids=["OSError", "ClosedResourceError", "BrokenResourceError"],
    )
    @pytest.mark.parametrize("fail_from", [0, 1], ids=["start", "body"])
    def test_a_send_to_a_closed_connection_is_a_disconnect(
        self,
        middleware: FastAPI,
        metrics: HttpMetrics,
        caplog: pytest.LogCaptureFixture,
        error: BaseException,
        fail_from: int,
    ) -> None:
        server = Server(error, fail_from=fail_from)
        caplog.set_level(logging.INFO, logger=LOGGER)

        call(middleware, scope_of("GET", "/big"), staying(b""), server)  # nothing escapes

        assert_logged_once_without_stack(caplog, "GET", "/big")
        assert_counted_as_499(metrics, "GET", "/big")
        assert len(server.sent) == fail_from  # no error response follows

    def test_an_oserror_of_the_route_itself_is_still_a_500(
        self, metrics: HttpMetrics, caplog: pytest.LogCaptureFixture
    ) -> None:
        app = tiny_app(metrics)

        @app.get("/broken")
        async def broken() -> None:
            raise OSError("disk full")

        server = Server()
        caplog.set_level(logging.INFO, logger=LOGGER)

        call(app, scope_of("GET", "/broken"), staying(b""), server)

        assert server.sent[0]["status"] == 500
        assert requests_counted(metrics.registry, "GET", "/broken", 500) == 1
        assert disconnect_records(caplog) == []
        assert [r.levelno for r in caplog.records if r.getMessage().startswith("unhandled")] == [
            logging.ERROR
        ]


class TestTheService:
    def test_a_plan_whose_client_leaves_mid_body_is_a_499_not_a_500(
        self,
        client: TestClient,
        hospital: dict[str, str],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        app: Any = client.app
        metrics = app_state(app).metrics
        headers = {**hospital, "content-type": "application/json", "content-length": "5000"}
        server = Server()
        caplog.set_level(logging.INFO, logger=LOGGER)

        call(app, scope_of("POST", "/v1/plans", headers), leaving_after(b'{"letter_id": '), server)

        assert_logged_once_without_stack(caplog, "POST", "/v1/plans")
        assert requests_counted(metrics.registry, "POST", "/v1/plans", 499) == 1
        assert requests_counted(metrics.registry, "POST", "/v1/plans", 500) == 0
        assert server.sent == []

    def test_a_search_whose_client_leaves_mid_body_is_a_499_not_a_400(
        self,
        client: TestClient,
        hospital: dict[str, str],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        app: Any = client.app
        metrics = app_state(app).metrics
        headers = {**hospital, "content-type": "application/json", "content-length": "100"}
        server = Server()
        caplog.set_level(logging.INFO, logger=LOGGER)

        call(
            app,
            scope_of("POST", "/v1/messages/search", headers),
            leaving_after(b'{"patient_cpr": "25'),
            server,
        )

        assert_logged_once_without_stack(caplog, "POST", "/v1/messages/search")
        assert requests_counted(metrics.registry, "POST", "/v1/messages/search", 499) == 1
        assert requests_counted(metrics.registry, "POST", "/v1/messages/search", 400) == 0
        assert server.sent == []
