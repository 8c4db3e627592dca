"""Connecting to the store: one engine per database URL, SQLite tuned for one writer.

SQLite runs in WAL mode (readers never block the writer, which the API and an
ingest run need at the same time), with foreign keys on and ``synchronous=
NORMAL`` (durable at every checkpoint, safe under WAL). PostgreSQL needs
nothing special. The schema is owned by Alembic: ``upgrade()`` brings any
database to the current revision.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from iocflow.exceptions import StoreError, Unavailable

_MIGRATIONS = Path(__file__).with_name("migrations")
#: orjson for the JSON columns: the stdlib encoder was a tenth of a bulk ingest's time.
_JSON = {"json_serializer": lambda obj: orjson.dumps(obj).decode(), "json_deserializer": orjson.loads}


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: random-UUID keys touch index pages all over
    # Checkpoint (and fsync) every 256 MiB of WAL rather than every 4 MiB: a bulk ingest rewrites the same
    # random-key index pages in every batch, and a checkpoint copies each page once however often the WAL
    # holds it (at 4 MiB a third of a large ingest went to checkpoints; 256 MiB took about a quarter off the
    # commit time 64 MiB left).
    # Readers are unaffected, and the WAL is truncated back to 64 MiB afterwards.
    cursor.execute("PRAGMA wal_autocheckpoint=65536")
    cursor.execute("PRAGMA journal_size_limit=67108864")
    cursor.close()


def _cheap_sqlite_binding() -> None:
    """Bind ``None`` and ``bool`` through registered adapters, to the same NULL and 0/1 as without them.

    The sqlite3 module binds int, float, str and bytes directly; anything else, ``None`` included, goes
    through its adapter protocol, whose failed lookups cost about 0.2 us per value: with a dozen empty
    columns per row that was several percent of a bulk ingest. A registered adapter is one dict hit.
    """
    sqlite3.register_adapter(type(None), {}.get)  # a C-level callable that returns None
    sqlite3.register_adapter(bool, int)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created on first use."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"invalid database URL {url!r}: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        _cheap_sqlite_binding()
        engine = create_engine(parsed, **_JSON)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_pre_ping=True, **_JSON)
    raise StoreError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql+psycopg://")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session], *, write: bool = False) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back whole on any error.

    A ``write`` transaction reads what it is about to change (an ingest batch), so on SQLite it begins
    with ``BEGIN IMMEDIATE``: it takes the database's one write lock before its first read (waiting up
    to the busy timeout) and keeps it to the end, so concurrent writers' read-modify-writes run one
    after the other. (Left to itself, the driver begins a transaction only at the first INSERT or
    UPDATE: the reads before it saw whatever was committed then, and another writer could commit in
    between.) Readers are not held up: WAL readers never wait for the writer. PostgreSQL writers lock
    the rows they read instead (``writer.record``).
    """
    with factory() as session, session.begin():
        if write:
            connection = session.connection()
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
        yield session


def alembic_config(engine: Engine) -> object:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database's schema to ``revision`` (idempotent)."""
    from alembic import command

    try:
        command.upgrade(alembic_config(engine), revision)  # type: ignore[arg-type]
    except SQLAlchemyError as exc:
        raise Unavailable(f"cannot migrate the database: {exc}") from exc


def has_schema(engine: Engine) -> bool:
    """Whether the database holds iocflow's tables; a database that cannot be reached raises SQLAlchemyError."""
    return inspect(engine).has_table("indicators")


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest migration this version of iocflow ships."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(_MIGRATIONS)).get_current_head()
    assert head is not None
    return head
