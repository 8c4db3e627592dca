"""The store under test: every test runs on SQLite and on a real PostgreSQL.

PostgreSQL tests use a schema of their own per test run (``iocflow_test_<pid>_<random>``,
dropped at the end), so runs never see each other's data; each test starts
from empty tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from iocflow.store.store import Store
from tests.services import empty_tables, postgres_schema, postgres_url


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    url, why = postgres_url()
    if url is None:
        pytest.skip(why)
    with postgres_schema(url) as scoped:
        yield scoped


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty, migrated store on each backend."""
    if request.param == "sqlite":
        st = Store(f"sqlite:///{tmp_path / 'iocflow.db'}")
        st.upgrade()
    else:
        st = Store(request.getfixturevalue("postgres_schema_url"))
        empty_tables(st)
    try:
        yield st
    finally:
        st.close()
