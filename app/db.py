"""Engine, sessions and the declarative base.

The request owns the transaction: `get_session` commits when the route returned and rolls back
when it raised, *before* the response is sent (FastAPI's function-scoped dependency), so a 2xx
always means committed. Services and repositories never commit. Imported only by repositories,
services, `deps`, `main`, the CLI and migrations.
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

__all__ = ["Base", "UtcDateTime", "get_session", "make_engine", "make_session_factory"]

# Stable constraint names on SQLite and PostgreSQL alike, so migrations can name them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both databases (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use the Clock")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def make_engine(database_url: str, *, pool_size: int = 10) -> Engine:
    """Builds the engine for SQLite (WAL, foreign keys, busy timeout) or PostgreSQL."""
    # SQL parameters may hold CPR numbers and health text; keep them out of error messages
    # and logs (DEVELOPERS.md, personal data).
    if not database_url.startswith("sqlite"):
        engine = create_engine(
            database_url, hide_parameters=True, pool_size=pool_size, pool_pre_ping=True
        )
        event.listen(engine, "connect", _configure_postgresql_connection)
        return engine
    engine = create_engine(
        database_url,
        hide_parameters=True,
        # Routes run in FastAPI's thread pool; the pool hands each connection to one thread
        # at a time, so sqlite3's same-thread guard only gets in the way.
        connect_args={"check_same_thread": False},
    )
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _configure_postgresql_connection(dbapi_connection: Any, _record: Any) -> None:
    # Stored documents are mostly ASCII: bytea's escape format sends them nearly as they are,
    # where the default hex format doubles them; psycopg reads either. An inbox page carries
    # about 500 kB of them (bench/inbox.py: a millisecond of CPU per page).
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET bytea_output = 'escape'")
    dbapi_connection.commit()


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy's documented pysqlite recipe: switch off pysqlite's own transaction handling
    # so that SAVEPOINTs (test isolation, nested units of work) behave.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power failure, and a
    # 2xx answer promises the message is stored. (~1,400 vs more tx/s; architecture.md.)
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _begin_sqlite_transaction(connection: Any) -> None:
    # IMMEDIATE takes the write lock up front. A deferred transaction that reads and then
    # writes fails at once with "database is locked" when another writer got in between;
    # busy_timeout cannot help it. One writer at a time is SQLite's model anyway.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit (responses are built after it)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def get_session(request: Request) -> Iterator[Session]:
    """Yields the request's session; commits if the route returned, rolls back if it raised."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()
