"""Bulk INSERT and UPDATE-by-id at the driver level, for the ingest hot path.

SQLAlchemy's per-row parameter processing cost more than SQLite's own work in
a bulk ingest, so the writer hands whole batches to the DB-API ``executemany``
with values already in the driver's form. The conversion rules live here and
only here, and they reproduce what the SQLAlchemy column types store (so rows
written either way read back the same): on SQLite a time is the naive-UTC
``YYYY-MM-DD HH:MM:SS.ffffff`` string of SQLAlchemy's DATETIME and JSON is
text; PostgreSQL takes aware datetimes and JSON text as they are. New rows'
keys are known without reading them back, and id lookups bind one list, so a
batch costs a handful of statements whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import BigInteger, ColumnElement, Integer, String, Table, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from iocflow.store.models import JsonList, UtcDateTime


def _sqlite_times(column: Sequence[datetime | None]) -> list[str | None]:
    """SQLAlchemy's SQLite DATETIME text for each time; a batch shares a handful of distinct times, converted once."""
    text = {
        value: None if value is None else value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        for value in set(column)
    }
    return list(map(text.__getitem__, column))


def _json_texts(column: Sequence[object]) -> list[str | None]:
    dumps = orjson.dumps
    return [None if value is None else dumps(value).decode() for value in column]


def _json(value: object) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _columns(table: Table, names: Sequence[str], sqlite: bool, rows: Sequence[dict[str, Any]]) -> list[Sequence[Any]]:
    """The rows' values column by column, in ``names`` order, converted where the driver needs it.

    Column-wise, the conversions run as a few C-level passes instead of one Python call per value.
    """
    getter = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    columns: list[Sequence[Any]] = list(zip(*map(getter, rows), strict=True))
    for i, name in enumerate(names):
        column_type = table.c[name].type
        if isinstance(column_type, UtcDateTime) and sqlite:
            columns[i] = _sqlite_times(columns[i])
        elif type(column_type) is type(JsonList):
            columns[i] = _json_texts(columns[i])
    return columns


def _is_sqlite(session: Session) -> bool:
    return session.connection().dialect.name == "sqlite"


def _pg_arrays(session: Session, table: Table, columns: Sequence[str]) -> str:
    """``unnest(%s::type[], ...)``: one array parameter per column, typed from the table."""
    dialect = session.connection().dialect
    return ", ".join(f"%s::{table.c[c].type.compile(dialect=dialect)}[]" for c in columns)


def matching(session: Session, column: ColumnElement[Any], ids: Sequence[str] | Sequence[int]) -> ColumnElement[bool]:
    """``column IN ids`` as each database plans it best, with one bound parameter however many ids.

    PostgreSQL gets ``= ANY(array)``: with a long ``IN`` list and statistics
    that lag a fast-growing table, its planner chose sequential scans and a
    bulk ingest slowed down quadratically; the array form keeps index scans.
    SQLite gets ``IN (SELECT value FROM json_each(list))``: an ``IN`` list of
    literal parameters was compiled afresh for every statement and cost more
    than the index lookups it asked for.
    """
    if _is_sqlite(session):
        listed = func.json_each(bindparam(None, _json(list(ids)), type_=String())).table_valued("value")
        return column.in_(select(listed.c.value))
    element = column.type if isinstance(column.type, Integer | BigInteger) else String()
    return column == any_(bindparam(None, list(ids), type_=ARRAY(element)))


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """``INSERT`` every row (all rows have the same keys).

    SQLite takes an executemany (one prepared statement, no round trips);
    PostgreSQL takes a ``COPY``: its executemany is a round trip per row, and
    an ``INSERT`` over ``unnest`` of per-column arrays spent most of a bulk
    ingest in the driver's Python array encoder.
    """
    if rows:
        _insert(session, table, rows)


def insert_keyed(session: Session, table: Table, rows: Sequence[dict[str, Any]], *, natural: str,
                 key: str = "pk") -> dict[Any, int]:
    """``insert_rows``, returning the row key each row got, by its ``natural`` column.

    PostgreSQL: the keys are drawn from the key's sequence first, in the rows'
    order, and written with the rows (``COPY`` returns nothing). The rows go
    to ``COPY`` sorted by ``natural``: a writer inserting a row another
    uncommitted writer inserted waits for it, and writers that all insert in
    one order cannot wait on each other in a cycle (the later one fails on the
    unique index instead, and is retried). SQLite's executemany cannot
    return rows either, but an integer primary key it assigns is one more than
    the largest in the table, so one executemany by one connection gets
    consecutive keys ending at ``last_insert_rowid()``. That is checked on the
    first row, and the keys are read back if it does not hold.
    """
    if not rows:
        return {}
    naturals = [row[natural] for row in rows]
    connection = session.connection()
    if not _is_sqlite(session):
        order = sorted(range(len(rows)), key=naturals.__getitem__)
        if key in rows[0]:  # the rows bring their own keys
            _insert(session, table, [rows[i] for i in order])
            return {row[natural]: row[key] for row in rows}
        sequence = f"pg_get_serial_sequence('{table.name}', '{key}')"
        keys = list(connection.exec_driver_sql(f"SELECT nextval({sequence}) FROM generate_series(1, {len(rows)})").scalars())
        _insert(session, table, [rows[i] for i in order], keys={key: [keys[i] for i in order]})
        return dict(zip(naturals, keys, strict=True))
    _insert(session, table, rows)
    last = connection.exec_driver_sql("SELECT last_insert_rowid()").scalar_one()
    first = last - len(rows) + 1
    check = f"SELECT {key} FROM {table.name} WHERE {natural} = ?"
    if connection.exec_driver_sql(check, (naturals[0],)).scalar() == first:
        return dict(zip(naturals, range(first, last + 1), strict=True))
    lookup = select(table.c[natural], table.c[key]).where(matching(session, table.c[natural], naturals))
    return dict(connection.execute(lookup).all())  # type: ignore[arg-type]


def _insert(session: Session, table: Table, rows: Sequence[dict[str, Any]],
            keys: dict[str, list[int]] | None = None) -> None:
    """The rows, plus ``keys`` (a key column's values, one per row) when the caller chose them."""
    names = list(rows[0])
    sqlite = _is_sqlite(session)
    columns = _columns(table, names, sqlite, rows)
    # A column that is NULL in every row is left out (it is NULL by omission, with no server default):
    # binding a None costs the sqlite3 module more than binding a string, and feed rows leave most
    # optional columns empty.
    kept = [i for i, (name, column) in enumerate(zip(names, columns, strict=True))
            if column.count(None) < len(column) or table.c[name].server_default is not None]
    names = [names[i] for i in kept]
    columns = [columns[i] for i in kept]
    for name, values in (keys or {}).items():
        names.append(name)
        columns.append(values)
    connection = session.connection()
    if sqlite:
        sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join(['?'] * len(names))})"
        connection.exec_driver_sql(sql, list(zip(*columns, strict=True)))  # type: ignore[arg-type]
        return
    sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    raw = connection.connection.dbapi_connection
    assert raw is not None
    driver_error = connection.dialect.loaded_dbapi.Error
    try:
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            for values in zip(*columns, strict=True):
                copy.write_row(values)
    except driver_error as exc:  # as SQLAlchemy's own statements raise it (IntegrityError: the batch is retried)
        raise DBAPIError.instance(sql, None, exc, driver_error) from exc


def update_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]], *, key: str = "id") -> None:
    """``UPDATE`` every row by its ``key`` column (all rows have the same keys).

    SQLite takes an executemany; PostgreSQL one ``UPDATE ... FROM unnest`` of per-column arrays.
    """
    if not rows:
        return
    names = [c for c in rows[0] if c != key]
    ordered = [*names, key]
    sqlite = _is_sqlite(session)
    columns = _columns(table, ordered, sqlite, rows)
    connection = session.connection()
    if sqlite:
        assignments = ", ".join(f"{c} = ?" for c in names)
        connection.exec_driver_sql(f"UPDATE {table.name} SET {assignments} WHERE {key} = ?",  # type: ignore[arg-type]
                                   list(zip(*columns, strict=True)))
        return
    assignments = ", ".join(f"{c} = v.{c}" for c in names)
    sql = (f"UPDATE {table.name} AS t SET {assignments} FROM unnest({_pg_arrays(session, table, ordered)}) "
           f"AS v({', '.join(ordered)}) WHERE t.{key} = v.{key}")
    connection.exec_driver_sql(sql, tuple(list(column) for column in columns))
