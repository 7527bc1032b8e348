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
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.orm import Session

from app.db import Base

__all__ = [
    "insert_rows",
    "insert_statement",
    "insert_values",
    "row_values",
    "unnest_parameters",
    "unnested_insert",
    "values_insert",
    "values_parameters",
]


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
    return {column.key: getattr(obj, column.key) for column in _columns(table)}


def unnested_insert(entity: type[Base], *, source: str = "") -> str:
    """PostgreSQL: `INSERT INTO table (columns) SELECT … FROM [source,] unnest(…)` of the
    table's columns (generated keys left out), one array parameter per column, named
    `<table>_<column>`: rows of any number in one statement whose text never changes (so
    psycopg prepares it once). `source`, e.g. a CTE of zero or one row, gates the insert."""
    table = _table(entity)
    arrays = ", ".join(
        f"CAST(:{table.name}_{column.key} AS {type_}[])" for column, type_ in _pg_types(table)
    )
    return _insert_select(table, f"unnest({arrays})", source)


def values_insert(entity: type[Base], *, rows: int, source: str = "") -> str:
    """PostgreSQL: as `unnested_insert`, but for `rows` rows given one parameter per value,
    `<table>_<row>_<column>`. For rows that carry documents: psycopg sends a bytes parameter
    as it is (binary), where it writes an array of them out as text, escaping every byte
    (0.3 ms for two 10 kB documents)."""
    table = _table(entity)
    # One row of casts, with {row} left to fill in per row.
    cells = ", ".join(
        f"CAST(:{table.name}_{{row}}_{column.key} AS {type_})" for column, type_ in _pg_types(table)
    )
    values = ", ".join(f"({cells.format(row=row)})" for row in range(rows))
    return _insert_select(table, f"(VALUES {values})", source)


def _insert_select(table: Table, rows: str, source: str) -> str:
    names = ", ".join(column.key for column in _columns(table))
    gate = f"{source}, " if source else ""
    return f"INSERT INTO {table.name} ({names}) SELECT r.* FROM {gate}{rows} AS r({names})"


def _pg_types(table: Table) -> list[tuple[Any, str]]:
    # The inserted columns with their PostgreSQL type names, for the casts of the parameters.
    dialect = PGDialect()  # type: ignore[no-untyped-call]
    return [(column, column.type.compile(dialect=dialect)) for column in _columns(table)]


def values_parameters(entity: type[Base], rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The parameters of `values_insert` for these rows (column values)."""
    table = _table(entity)
    return {
        f"{table.name}_{index}_{c.key}": row[c.key]
        for index, row in enumerate(rows)
        for c in _columns(table)
    }


def unnest_parameters(entity: type[Base], rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The array parameters of `unnested_insert` for these rows (column values)."""
    table = _table(entity)
    return {f"{table.name}_{c.key}": [row[c.key] for row in rows] for c in _columns(table)}


def _columns(table: Table) -> list[Any]:
    return [column for column in table.columns if column.autoincrement is not True]
