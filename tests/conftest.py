"""Shared fixtures: every storage test runs on SQLite and on a fresh PostgreSQL database.

- `backend` is parametrised over both; PostgreSQL is at SEKTORBRO_TEST_POSTGRES_URL (default
  127.0.0.1:5432, database `test`). Unreachable PostgreSQL skips those tests, except under CI
  (the `CI` variable is set), where it fails them.
- The schema is built by `alembic upgrade head`, never `create_all()`.
- Each test runs in one connection and an outer transaction that is rolled back; the app's
  sessions join it through SAVEPOINTs (SQLAlchemy's recipe; app/db.py has the SQLite part).
- The clock is fixed at FROZEN_NOW.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from app.clock import FixedClock
from app.config import Settings
from app.db import make_engine
from app.main import create_app
from app.migrate import upgrade_to_head
from app.state import app_state

POSTGRES_URL = os.environ.get(
    "SEKTORBRO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
FROZEN_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Databases:
    """Creates empty databases of one backend and drops them at the end of the run."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend = backend
        self.folder = folder
        self.created: list[str] = []

    def create(self) -> str:
        name = f"sektorbro_test_{uuid.uuid4().hex[:12]}"
        if self.backend == "sqlite":
            return f"sqlite:///{self.folder / name}.db"
        with _postgres_admin() as admin:
            admin.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        with _postgres_admin() as admin:
            for name in self.created:
                admin.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def _postgres_admin() -> Iterator[Connection]:
    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _require_postgres() -> None:
    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    try:
        psycopg.connect(url.render_as_string(hide_password=False), connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend under test."""
    if request.param == "postgresql":
        _require_postgres()
    name: str = request.param
    return name


@pytest.fixture(scope="session")
def databases(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    factory = Databases(backend, tmp_path_factory.mktemp(backend))
    yield factory
    factory.drop_all()


@pytest.fixture
def blank_database_url(databases: Databases) -> str:
    """A new, empty database (no schema) for this test alone."""
    return databases.create()


@pytest.fixture
def blank_postgresql_url(tmp_path: Path) -> Iterator[str]:
    """A new, empty PostgreSQL database, for behaviour that is PostgreSQL's alone."""
    _require_postgres()
    factory = Databases("postgresql", tmp_path)
    yield factory.create()
    factory.drop_all()


@pytest.fixture(scope="session")
def migrated_engine(databases: Databases) -> Iterator[Engine]:
    """One database per backend and run, at the head revision."""
    engine = make_engine(databases.create())
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(migrated_engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with migrated_engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions that commit to SAVEPOINTs inside the test's transaction."""
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as s:
        yield s


@pytest.fixture
def settings(migrated_engine: Engine) -> Settings:
    # No background timers: they would write outside the test's transaction. Tests call the
    # timer service with a clock of their own.
    return Settings(
        database_url=migrated_engine.url.render_as_string(hide_password=False), run_timers=False
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings, clock=FixedClock(FROZEN_NOW))


@pytest.fixture
def client(app: FastAPI, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """HTTP through the ASGI app; its requests share the test's transaction."""
    with TestClient(app, raise_server_exceptions=False) as test_client:
        app_state(app).db.sessions = session_factory
        yield test_client
