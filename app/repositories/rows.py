"""Core INSERTs of mapped objects, for rows written once and never changed in the request.

The unit of work (session.add + flush) costs several milliseconds per plan in bookkeeping
(bench/README.md); a plan's rows are inserted and never touched again in the same
transaction, so they are written with one Core statement per table instead. The objects
passed in stay transient: they carry the values and serve the response, the database keeps
the rows.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.orm import Session

from app.db import Base

__all__ = ["insert_rows", "insert_statement", "insert_values", "row_values"]


def insert_rows(session: Session, objects: Sequence[Base]) -> None:
    """Inserts the objects, all of one mapped class, in one statement."""
    if not objects:
        return
    table = _table(objects[0])
    session.execute(insert(table), [_values(table, obj) for obj in objects])


def insert_values(session: Session, entity: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    """Inserts rows given as column values into the table of `entity`, in one statement."""
    if rows:
        session.execute(insert(_table(entity)), rows)


def insert_statement(session: Session, entity: type[Base]) -> PostgresqlInsert | SqliteInsert:
    """An INSERT into the table of `entity` in the session's dialect, for
    `.on_conflict_do_nothing()` (PostgreSQL and SQLite have ON CONFLICT; standard SQL does
    not). Execute it with `row_values(obj)` as parameters, so that it is compiled once."""
    table = _table(entity)
    dialect = session.get_bind().dialect.name
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def row_values(obj: Base) -> dict[str, Any]:
    """The column values of a mapped object, as INSERT parameters."""
    return _values(_table(obj), obj)


def _table(obj: Base | type[Base]) -> Table:
    table = obj.__table__
    assert isinstance(table, Table)
    return table


def _values(table: Table, obj: Base) -> dict[str, Any]:
    # Generated keys (autoincrement=True) are left to the database.
    return {
        column.key: getattr(obj, column.key)
        for column in table.columns
        if column.autoincrement is not True
    }
