"""Engine, sessions, the transaction a request owns, and the declarative base.

A route reads and checks its input first, then opens `Database.transaction()` around its one
use case: the transaction begins at the first statement and commits (or rolls back) when the
block ends, before the response is built, so a 2xx always means committed and no connection or
lock is held while the client sends its body or waits. Services and repositories never commit.
A database that cannot take the request in time answers 503 with `Retry-After`
(`ServiceBusy`), never a 500. Imported only by repositories, services, `deps`, `main`, the CLI
and migrations.
"""

import logging
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from app.errors import ServiceBusy

__all__ = [
    "INBOX_RECEIVERS",
    "Base",
    "Database",
    "UtcDateTime",
    "make_engine",
    "make_session_factory",
]

log = logging.getLogger("sektorbro.db")

# `session.info` key: GLNs of receivers whose inbox the transaction filled (see Database).
INBOX_RECEIVERS = "sektorbro.inbox_receivers"
# Execution option of a connection whose SQLite transaction only reads (see Database).
_READ_ONLY = "sektorbro_read_only"

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


def make_engine(
    database_url: str, *, pool_size: int = 8, timeout: float = 5.0, max_overflow: int = 4
) -> Engine:
    """Builds the engine for SQLite (WAL, foreign keys, busy timeout) or PostgreSQL.

    `pool_size` connections are kept; `max_overflow` more are opened for background tasks
    (timers) when every kept one is in use. A request waits at most `timeout` seconds for a
    connection, and as long for a lock; then it is answered 503 (Database.transaction).
    """
    pool = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": timeout}
    lock_timeout_ms = max(1, round(timeout * 1000))
    # SQL parameters may hold CPR numbers and health text; keep them out of error messages
    # and logs (personal data).
    if not database_url.startswith("sqlite"):
        # No pre-ping: it costs a round trip on every checkout. A connection that broke while
        # idle (a PostgreSQL restart) fails its first statement instead; SQLAlchemy then
        # discards the whole pool, and that one request gets a 503 it may retry.
        engine = create_engine(
            database_url,
            hide_parameters=True,
            connect_args={"options": f"-c lock_timeout={lock_timeout_ms}"},
            **pool,
        )
        event.listen(engine, "connect", _configure_postgresql_connection)
        return engine
    engine = create_engine(
        database_url,
        hide_parameters=True,
        # Routes run in FastAPI's thread pool; the pool hands each connection to one thread
        # at a time, so sqlite3's same-thread guard only gets in the way.
        connect_args={"check_same_thread": False, "timeout": timeout},
        **pool,
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
    cursor.close()


def _begin_sqlite_transaction(connection: Any) -> None:
    # IMMEDIATE takes the write lock up front. A deferred transaction that reads and then
    # writes fails at once with "database is locked" when another writer got in between;
    # busy_timeout cannot help it. One writer at a time is SQLite's model anyway. A
    # transaction that only reads (Database.transaction(read_only=True)) needs no lock in WAL
    # mode and takes none.
    if connection.get_execution_options().get(_READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit (responses are built after it)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


class Database:
    """The store of one process: its engine and the transactions requests and jobs open.

    `sessions` is replaceable (tests bind it to a connection whose outer transaction they roll
    back). `on_inbox_filled` is called after a commit that delivered to receivers' inboxes,
    with their GLNs, so that long polls in this process wake at once (app/delivery/wakeups.py).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        on_inbox_filled: Callable[[Collection[str]], None],
        timeout: float = 5.0,
    ) -> None:
        self.engine = engine
        self.sessions = make_session_factory(engine)
        self.on_inbox_filled = on_inbox_filled
        self.timeout = timeout
        self._read_only_engine = engine.execution_options(**{_READ_ONLY: True})
        # SQLite lets one writer in at a time, and its waiters retry on a timer rather than
        # queue, so a waiter can lose to newcomers again and again. The threads of one
        # process therefore take turns here first: only one per process waits on SQLite.
        self._sqlite_writer = threading.Lock()

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite file."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self, *, read_only: bool = False) -> Iterator[Session]:
        """A session whose transaction commits when the block ends and rolls back if it raises.

        `read_only`: the block only reads, so on SQLite it takes no write lock (nothing it
        does may write). A lock wait that times out, an exhausted pool or a lost connection
        raise ServiceBusy (503, Retry-After) instead of a 500.
        """
        with (
            self._writer_turn(read_only),
            _busy_as_service_busy(),
            self._session(read_only) as session,
        ):
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            receivers = session.info.pop(INBOX_RECEIVERS, None)
        if receivers:
            self.on_inbox_filled(receivers)

    def _session(self, read_only: bool) -> Session:
        if read_only and self.is_sqlite and self.sessions.kw.get("bind") is self.engine:
            # Connects lazily, like any session, and begins without taking the write lock.
            return self.sessions(bind=self._read_only_engine)
        return self.sessions()

    @contextmanager
    def _writer_turn(self, read_only: bool) -> Iterator[None]:
        if read_only or not self.is_sqlite:
            yield
            return
        if not self._sqlite_writer.acquire(timeout=self.timeout):
            raise ServiceBusy("The database is busy with other requests; try again shortly.")
        try:
            yield
        finally:
            self._sqlite_writer.release()

    def dispose(self) -> None:
        """Closes every pooled connection."""
        self.engine.dispose()


@contextmanager
def _busy_as_service_busy() -> Iterator[None]:
    try:
        yield
    except PoolTimeout:
        raise ServiceBusy(
            "Every database connection of this server is in use; try again shortly."
        ) from None
    except DBAPIError as exc:
        if _is_lock_timeout(exc):
            raise ServiceBusy(
                "The database is busy with other requests; try again shortly."
            ) from None
        if exc.connection_invalidated:
            log.warning("database connection lost: %s", type(exc.orig).__name__)
            raise ServiceBusy("The database could not be reached; try again shortly.") from None
        raise


def _is_lock_timeout(exc: DBAPIError) -> bool:
    # SQLite gives up after its busy timeout with SQLITE_BUSY ("database is locked");
    # PostgreSQL after lock_timeout with SQLSTATE 55P03 (lock_not_available).
    if isinstance(exc.orig, sqlite3.OperationalError):
        name = getattr(exc.orig, "sqlite_errorname", "")
        return name in ("SQLITE_BUSY", "SQLITE_LOCKED") or "locked" in str(exc.orig)
    return isinstance(exc.orig, psycopg.errors.LockNotAvailable)
