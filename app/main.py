"""The app factory. Nothing is built at import time: `create_app(settings)` builds the app
and its typed state (app/state.py), and its lifespan opens and closes the database, the inbox
wake-ups and the timers. `sektorbro serve` runs `uvicorn --factory
app.main:create_served_app`.
"""

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from functools import partial
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from pydantic import TypeAdapter
from sqlalchemy.engine import make_url

from app import __version__
from app.api import api_router
from app.api.problems import PROBLEM_JSON, register_exception_handlers
from app.clock import Clock, SystemClock
from app.config import Settings
from app.db import Database, make_engine
from app.delivery.ack_timers import ack_timer_job
from app.delivery.periodic import Periodic
from app.delivery.wakeups import InboxWakeups
from app.domain.notices import Notice
from app.metrics import HttpMetrics
from app.middleware import RequestContextMiddleware
from app.migrate import head_revision
from app.services.api_keys import CallerCache
from app.state import AppState
from app.xml import XmlRenderer, XsdRegistry

__all__ = ["create_app", "create_served_app"]

DESCRIPTION = """
Sektorbro carries genoptræningsplaner, rehabilitation notices and correspondence letters
between hospitals, kommuner and GPs, as MedCom XML, and tracks every delivery.

**Authentication.** Every call except `/healthz`, `/readyz` and the documentation needs
`Authorization: Bearer <API key>`. A key belongs to one organisation (its GLN) or is an admin
key; create keys with `sektorbro keys create`.

**Errors.** Every error is `application/problem+json` (RFC 9457) with `type`, `title`,
`status`, `detail`, `instance` and `request_id`. A 422 also lists `errors`, each with the
`field` (a dotted path such as `patient.cpr`), the `rule` and a plain-language `message`.
Bodies larger than the configured limit get 413; a body in the wrong media type gets 415.
"""


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """Builds the Sektorbro app for these settings (from the environment if not given)."""
    settings = settings or Settings()
    _configure_logging(settings)
    metrics = HttpMetrics(settings.prometheus_multiproc_dir)

    # Templates are compiled here once; XSDs once per worker thread, on first use.
    state = AppState(
        settings=settings,
        clock=clock or SystemClock(),
        metrics=metrics,
        xml=XmlRenderer(XsdRegistry()),
        callers=CallerCache(ttl=settings.key_cache_seconds),
        wakeups=InboxWakeups(
            listen_conninfo=None if settings.is_sqlite else _libpq_url(settings.database_url),
            recheck_seconds=settings.poll_recheck,
        ),
        expected_revision=head_revision(),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One thread per pooled connection: a request's database work never waits in its
        # thread for a connection, and no more threads than connections hold the GIL.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.db_pool_size
        engine = make_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            timeout=settings.db_timeout,
        )
        state.database = Database(
            engine, on_inbox_filled=state.wakeups.notify, timeout=settings.db_timeout
        )
        await state.wakeups.start()
        timers = None
        if settings.run_timers:
            job = ack_timer_job(state.database.sessions, state.xml, state.clock, settings)
            periodic = Periodic("ack timers", job, interval=settings.timer_interval)
            timers = asyncio.create_task(periodic.run_in_background())
        try:
            yield
        finally:
            if timers is not None:
                timers.cancel()
                with suppress(asyncio.CancelledError):
                    await timers
            await state.wakeups.stop()
            state.database.dispose()
            state.database = None

    app = FastAPI(
        title="Sektorbro",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "plans", "description": "Genoptræningsplaner: submit, check, read."},
            {"name": "inbox", "description": "What a receiver has to fetch and acknowledge."},
            {"name": "messages", "description": "Tracking of messages and their deliveries."},
            {"name": "directory", "description": "Who sends and receives, and how."},
            {"name": "operations", "description": "Health, readiness and metrics."},
        ],
    )
    app.state.sektorbro = state
    app.openapi = partial(_openapi, app)  # type: ignore[method-assign]
    register_exception_handlers(app)
    app.add_middleware(
        RequestContextMiddleware,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        body_timeout=settings.body_timeout,
    )
    app.include_router(api_router)
    return app


def create_served_app() -> FastAPI:
    """What `sektorbro serve` runs in each worker process: `create_app()` from the
    environment, with everything built so far moved out of the garbage collector's way, so
    that a full collection does not walk it again in the middle of a request (plans at 8
    connections: p99 121 -> 63 ms, bench/README.md). Not in `create_app`: a test process
    builds many apps, and would keep every one of them."""
    app = create_app()
    gc.collect()
    gc.freeze()
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's spec, with every error response documented as application/problem+json."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = FastAPI.openapi(app)
    _add_body_schemas(schema)
    # FastAPI files a response `model` under the route's media type (application/json);
    # our errors are sent as application/problem+json (errors.py).
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[0] in "45" and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
    return schema


def _add_body_schemas(schema: dict[str, Any]) -> None:
    # Routes that read their body themselves (JSON or XML, with our own error paths) name its
    # model by reference; models that no response uses are added to the components here.
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    notice = TypeAdapter(Notice).json_schema(ref_template="#/components/schemas/{model}")
    components.update(notice.pop("$defs", {}))
    components["Notice"] = notice


def _libpq_url(database_url: str) -> str:
    """The SQLAlchemy URL as psycopg's own connection string (for LISTEN)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


def _configure_logging(settings: Settings) -> None:
    logger = logging.getLogger("sektorbro")
    logger.setLevel(settings.log_level)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
