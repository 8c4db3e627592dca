"""Real PostgreSQL and Redis servers for the tests.

The URLs come from ``IOCFLOW_TEST_POSTGRES_URL`` / ``IOCFLOW_TEST_REDIS_URL``,
else the servers on loopback that the development machines and CI run. On a
machine with neither, the fixtures try to install and start them from Debian's
packages (``apt-get install -y postgresql redis-server``, as root); failing
that, the tests that need them are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
_INSTALLED_POSTGRES_URL = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/postgres"


def _listening(url: str, default_port: int) -> bool:
    parts = urlsplit(url.replace("+psycopg", ""))
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def _run(*command: str) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=600, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _apt_install(package: str) -> bool:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return False
    return _run("apt-get", "install", "-y", package) or (_run("apt-get", "update") and _run("apt-get", "install", "-y", package))


def _wait(url: str, port: int, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _listening(url, port):
            return True
        time.sleep(0.5)
    return False


@functools.cache
def postgres_url() -> tuple[str | None, str]:
    """A reachable PostgreSQL URL, or ``None`` and why not."""
    url = os.environ.get("IOCFLOW_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    if _listening(url, 5432):
        return url, ""
    if "IOCFLOW_TEST_POSTGRES_URL" in os.environ:
        return None, f"IOCFLOW_TEST_POSTGRES_URL={url} is not reachable"
    if shutil.which("pg_ctlcluster") is None and not _apt_install("postgresql"):
        return None, "no PostgreSQL on 127.0.0.1:5432 and it could not be installed (needs root and apt-get)"
    _run("sh", "-c", "pg_ctlcluster $(ls /etc/postgresql | head -1) main start")
    if not _wait(_INSTALLED_POSTGRES_URL, 5432):
        return None, "PostgreSQL was installed but did not start"
    _run("su", "postgres", "-c", "psql -c \"ALTER USER postgres PASSWORD 'postgres'\"")
    return _INSTALLED_POSTGRES_URL, ""


@functools.cache
def redis_url() -> tuple[str | None, str]:
    """A reachable Redis URL, or ``None`` and why not."""
    url = os.environ.get("IOCFLOW_TEST_REDIS_URL", DEFAULT_REDIS_URL)
    if _listening(url, 6379):
        return url, ""
    if "IOCFLOW_TEST_REDIS_URL" in os.environ:
        return None, f"IOCFLOW_TEST_REDIS_URL={url} is not reachable"
    if shutil.which("redis-server") is None and not _apt_install("redis-server"):
        return None, "no Redis on 127.0.0.1:6379 and it could not be installed (needs root and apt-get)"
    _run("redis-server", "--daemonize", "yes", "--save", "", "--appendonly", "no")
    if not _wait(DEFAULT_REDIS_URL, 6379):
        return None, "Redis was installed but did not start"
    return DEFAULT_REDIS_URL, ""


@contextlib.contextmanager
def postgres_schema(url: str, prefix: str = "iocflow_test") -> Iterator[str]:
    """A schema of its own on the PostgreSQL at ``url``, migrated: its scoped URL, the schema dropped at the end."""
    import secrets

    from sqlalchemy import create_engine, text

    from iocflow.store.store import Store

    schema = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    try:
        store = Store(scoped)
        store.upgrade()
        store.close()
        yield scoped
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def empty_tables(store: object) -> None:
    """Delete every row of a PostgreSQL store's tables (a schema shared by a module's tests starts each empty)."""
    from sqlalchemy import text

    from iocflow.store.models import Base

    with store.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f"TRUNCATE {', '.join(t.name for t in Base.metadata.sorted_tables)} CASCADE"))

