"""Bulk INSERT and UPDATE-by-id at the driver level, for the ingest hot path.

SQLAlchemy's per-row parameter processing cost more than SQLite's own work in
a bulk ingest, so the writer hands whole batches to the DB-API ``executemany``
with values already in the driver's form. The conversion rules live here and
only here, and they reproduce what the SQLAlchemy column types store (so rows
written either way read back the same): on SQLite a time is the naive-UTC
``YYYY-MM-DD HH:MM:SS.ffffff`` string of SQLAlchemy's DATETIME and JSON is
text; PostgreSQL takes aware datetimes and JSON text as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import BigInteger, ColumnElement, Integer, String, Table, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from iocflow.store.models import JsonList, UtcDateTime


def _sqlite_time() -> Callable[[datetime | None], str | None]:
    """A converter with a memo: a batch shares a handful of distinct times (its ``now``, a feed's dates)."""
    memo: dict[datetime, str] = {}

    def convert(value: datetime | None) -> str | None:
        if value is None:
            return None
        text = memo.get(value)
        if text is None:
            text = memo[value] = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        return text

    return convert


def _json(value: object) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _parameters(table: Table, columns: Sequence[str], sqlite: bool, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Each row's values in ``columns`` order, converted where the driver needs it."""
    time = _sqlite_time()
    converters: list[tuple[int, Callable[[Any], Any]]] = []
    for i, name in enumerate(columns):
        column_type = table.c[name].type
        if isinstance(column_type, UtcDateTime) and sqlite:
            converters.append((i, time))
        elif type(column_type) is type(JsonList):
            converters.append((i, _json))
    getter = itemgetter(*columns)
    params = []
    for row in rows:
        values = list(getter(row))
        for i, convert in converters:
            values[i] = convert(values[i])
        params.append(tuple(values))
    return params


def _is_sqlite(session: Session) -> bool:
    return session.connection().dialect.name == "sqlite"


def _pg_arrays(session: Session, table: Table, columns: Sequence[str]) -> str:
    """``unnest(%s::type[], ...)``: one array parameter per column, typed from the table."""
    dialect = session.connection().dialect
    return ", ".join(f"%s::{table.c[c].type.compile(dialect=dialect)}[]" for c in columns)


def matching(session: Session, column: ColumnElement[Any], ids: Sequence[str] | Sequence[int]) -> ColumnElement[bool]:
    """``column IN ids`` as each database plans it best.

    PostgreSQL gets ``= ANY(array)``: with a long ``IN`` list and statistics
    that lag a fast-growing table, its planner chose sequential scans and a
    bulk ingest slowed down quadratically; the array form keeps index scans.
    """
    if _is_sqlite(session):
        return column.in_(ids)
    element = column.type if isinstance(column.type, Integer | BigInteger) else String()
    return column == any_(bindparam(None, list(ids), type_=ARRAY(element)))


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """``INSERT`` every row (all rows have the same keys).

    SQLite takes an executemany (one prepared statement, no round trips);
    PostgreSQL takes one statement over ``unnest`` of per-column arrays, since
    its executemany is a round trip per row.
    """
    if not rows:
        return
    columns = list(rows[0])
    sqlite = _is_sqlite(session)
    params = _parameters(table, columns, sqlite, rows)
    connection = session.connection()
    if sqlite:
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join(['?'] * len(columns))})"
        connection.exec_driver_sql(sql, params)  # type: ignore[arg-type]
        return
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({_pg_arrays(session, table, columns)})"
    connection.exec_driver_sql(sql, tuple(list(col) for col in zip(*params, strict=True)))


def update_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]], *, key: str = "id") -> None:
    """``UPDATE`` every row by its ``key`` column (all rows have the same keys); same strategy as ``insert_rows``."""
    if not rows:
        return
    columns = [c for c in rows[0] if c != key]
    ordered = [*columns, key]
    sqlite = _is_sqlite(session)
    params = _parameters(table, ordered, sqlite, rows)
    connection = session.connection()
    if sqlite:
        assignments = ", ".join(f"{c} = ?" for c in columns)
        connection.exec_driver_sql(f"UPDATE {table.name} SET {assignments} WHERE {key} = ?", params)  # type: ignore[arg-type]
        return
    assignments = ", ".join(f"{c} = v.{c}" for c in columns)
    sql = (f"UPDATE {table.name} AS t SET {assignments} FROM unnest({_pg_arrays(session, table, ordered)}) "
           f"AS v({', '.join(ordered)}) WHERE t.{key} = v.{key}")
    connection.exec_driver_sql(sql, tuple(list(col) for col in zip(*params, strict=True)))
