"""The transaction a request owns (app/db.py): a database that cannot take it in time is a
ServiceBusy (503 with Retry-After), never a generic error; a read-only transaction on SQLite
takes no write lock; a commit that filled inboxes wakes their polls."""

import threading
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from app.db import INBOX_RECEIVERS, Database, make_engine
from app.errors import ServiceBusy
from app.migrate import upgrade_to_head
from tests.factories import ODENSE_KOMMUNE

TIMEOUT = 0.3


@pytest.fixture
def engine(blank_database_url: str) -> Iterator[Engine]:
    engine = make_engine(blank_database_url, pool_size=1, max_overflow=0, timeout=TIMEOUT)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


def database(engine: Engine, woken: list[Collection[str]] | None = None) -> Database:
    return Database(engine, on_inbox_filled=(woken if woken is not None else []).append)


def test_a_request_that_finds_no_free_connection_is_told_the_service_is_busy(
    engine: Engine,
) -> None:
    db = database(engine)
    with db.transaction() as holding:
        holding.execute(text("SELECT 1"))
        with pytest.raises(ServiceBusy) as busy, db.transaction() as waiting:
            waiting.execute(text("SELECT 1"))
    assert busy.value.status_code == 503
    assert busy.value.headers["Retry-After"] == "1"


def test_a_lock_held_longer_than_the_timeout_is_answered_busy(
    engine: Engine, blank_database_url: str
) -> None:
    # A second engine: another process holding the lock the request needs.
    other = make_engine(blank_database_url, timeout=TIMEOUT)
    try:
        with database(other).transaction() as holding:
            holding.execute(text("UPDATE alembic_version SET version_num = version_num"))
            with pytest.raises(ServiceBusy), database(engine).transaction() as waiting:
                waiting.execute(text("UPDATE alembic_version SET version_num = version_num"))
    finally:
        other.dispose()


def test_a_read_only_transaction_on_sqlite_takes_no_write_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'embedded.db'}"
    writer, reader = make_engine(url, timeout=TIMEOUT), make_engine(url, timeout=TIMEOUT)
    upgrade_to_head(writer)
    try:
        with database(writer).transaction() as writing:
            writing.execute(text("UPDATE alembic_version SET version_num = version_num"))
            with database(reader).transaction(read_only=True) as reading:
                assert reading.execute(text("SELECT count(*) FROM alembic_version")).scalar()
    finally:
        writer.dispose()
        reader.dispose()


def test_a_commit_that_filled_inboxes_names_their_receivers(engine: Engine) -> None:
    woken: list[Collection[str]] = []
    with database(engine, woken).transaction() as session:
        session.info[INBOX_RECEIVERS] = {ODENSE_KOMMUNE}
    assert woken == [{ODENSE_KOMMUNE}]


def test_a_rolled_back_transaction_wakes_nobody(engine: Engine) -> None:
    woken: list[Collection[str]] = []

    def failing_use_case() -> None:
        with database(engine, woken).transaction() as session:
            session.info[INBOX_RECEIVERS] = {ODENSE_KOMMUNE}
            raise RuntimeError("the use case failed")

    with pytest.raises(RuntimeError):
        failing_use_case()
    assert woken == []


def test_the_session_is_back_in_the_pool_after_the_transaction(engine: Engine) -> None:
    db = database(engine)
    with db.transaction() as session:
        session.execute(text("SELECT 1"))
    done = threading.Event()

    def use_the_only_connection() -> None:
        with db.transaction() as again:
            again.execute(text("SELECT 1"))
        done.set()

    thread = threading.Thread(target=use_the_only_connection)
    thread.start()
    thread.join(timeout=5)
    assert done.is_set()
