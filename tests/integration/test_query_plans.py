"""The inbox and the acknowledgement timer read their partial indexes on both databases.

A partial index is used only for a query that repeats the index's WHERE with the same values
inline (app/orm.py); a query that sent them as parameters would sort every open delivery of a
receiver instead (bench/inbox.py). These tests ask each database's planner.
"""

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from psycopg import sql
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from app.repositories import DeliveryRepository
from tests.conftest import FROZEN_NOW
from tests.factories import ODENSE_KOMMUNE

PSYCOPG_PARAMETER = re.compile(r"%\((\w+)\)s")
POSTGRESQL_TYPES = {str: "text", int: "integer", datetime: "timestamptz"}


@contextmanager
def statements_of(connection: Connection) -> Iterator[list[tuple[str, Any]]]:
    """Collects the SQL and parameters the connection sends while inside."""
    sent: list[tuple[str, Any]] = []

    def collect(conn: Connection, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", collect)
    try:
        yield sent
    finally:
        event.remove(connection, "before_cursor_execute", collect)


def plan_of(session: Session, query: Callable[[DeliveryRepository], object]) -> str:
    """The database's plan for the first statement `query` sends."""
    connection = session.connection()
    with statements_of(connection) as sent:
        query(DeliveryRepository(session))
    statement, parameters = sent[0]
    if connection.dialect.name == "postgresql":
        return _generic_postgresql_plan(connection, statement, parameters)
    rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
    return "\n".join(str(row[-1]) for row in rows)


def _generic_postgresql_plan(connection: Connection, statement: str, parameters: Any) -> str:
    """The plan PostgreSQL keeps for the statement once psycopg prepares it (after five runs):
    a generic plan, made without the parameters' values."""
    names = list(dict.fromkeys(PSYCOPG_PARAMETER.findall(statement)))
    numbered = PSYCOPG_PARAMETER.sub(lambda m: f"${names.index(m[1]) + 1}", statement)
    types = [POSTGRESQL_TYPES[type(parameters[name])] for name in names]
    # An empty table is cheapest to scan whole; forbid that so the planner shows which index
    # it can use.
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    connection.exec_driver_sql(f"PREPARE planned ({', '.join(types)}) AS {numbered}")
    try:
        # EXPLAIN takes no parameters of its own: the values are written in as literals.
        arguments = sql.SQL(", ").join(sql.Literal(parameters[name]) for name in names)
        explain = sql.SQL("EXPLAIN EXECUTE planned ({})").format(arguments)
        with connection.begin_nested():
            dbapi = connection.connection.dbapi_connection
            rows = connection.exec_driver_sql(explain.as_string(dbapi))
            return "\n".join(str(row[0]) for row in rows)
    finally:  # prepared statements outlive the transaction, on a pooled connection
        connection.exec_driver_sql("DEALLOCATE planned")


def test_an_inbox_page_reads_the_index_of_open_deliveries(session: Session) -> None:
    plan = plan_of(
        session, lambda deliveries: deliveries.inbox(ODENSE_KOMMUNE, after=None, limit=51)
    )

    assert "ix_deliveries_open" in plan, plan


def test_a_later_inbox_page_reads_the_index_of_open_deliveries(session: Session) -> None:
    after = (FROZEN_NOW, "00000000-0000-0000-0000-000000000000")

    plan = plan_of(
        session, lambda deliveries: deliveries.inbox(ODENSE_KOMMUNE, after=after, limit=51)
    )

    assert "ix_deliveries_open" in plan, plan


def test_the_acknowledgement_timer_reads_the_index_of_deliveries_awaiting_a_receipt(
    session: Session,
) -> None:
    cutoff = FROZEN_NOW - timedelta(minutes=30)

    plan = plan_of(
        session, lambda deliveries: deliveries.awaiting_receipt(sent_before=cutoff, limit=500)
    )

    assert "ix_deliveries_awaiting_receipt" in plan, plan
