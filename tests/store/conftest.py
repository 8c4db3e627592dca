"""The store under test: every test runs on SQLite and on a real PostgreSQL.

PostgreSQL tests use a schema of their own per test run (``iocflow_test_<pid>_<random>``,
dropped at the end), so runs never see each other's data; each test starts
from empty tables.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from iocflow.store.models import Base
from iocflow.store.store import Store
from tests.services import postgres_url


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    url, why = postgres_url()
    if url is None:
        pytest.skip(why)
    schema = f"iocflow_test_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    scoped = f"{url}{separator}options=-csearch_path%3D{schema}"
    store = Store(scoped)
    store.upgrade()
    store.close()
    try:
        yield scoped
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty, migrated store on each backend."""
    if request.param == "sqlite":
        st = Store(f"sqlite:///{tmp_path / 'iocflow.db'}")
        st.upgrade()
    else:
        st = Store(request.getfixturevalue("postgres_schema_url"))
        with st.engine.begin() as conn:
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} CASCADE"))
    try:
        yield st
    finally:
        st.close()
