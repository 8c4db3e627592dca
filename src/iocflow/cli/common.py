"""What every command shares: the error console, failing cleanly, opening the store and the HTTP client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NamedTuple

import typer
from rich.console import Console

from iocflow.exceptions import IocflowError

if TYPE_CHECKING:
    import httpx

    from iocflow.store.store import Store

err = Console(stderr=True, soft_wrap=True, highlight=False)
out = Console(soft_wrap=True, highlight=False)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` as an error and return the exit to raise (exit status 2)."""
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


class Http(NamedTuple):
    """How the ingest commands download: one configured client, and how often to retry."""

    client: httpx.Client
    retries: int


@contextmanager
def open_http() -> Iterator[Http]:
    """A client with the operator's timeout, User-Agent and per-host headers (``IOCFLOW_HTTP_*``)."""
    from iocflow.ingest.fetch import make_client
    from iocflow.settings import get_settings

    settings = get_settings()
    with make_client(timeout=settings.http_timeout, user_agent=settings.user_agent,
                     host_headers=settings.http_headers) as client:
        yield Http(client, settings.http_retries)


@contextmanager
def open_store(database: str | None = None) -> Iterator[Store]:
    """The configured store (``--database`` or ``IOCFLOW_DATABASE_URL``); iocflow errors become a clean exit."""
    from iocflow.settings import get_settings
    from iocflow.store.store import Store  # imported here: `iocflow extract` needs no database stack

    settings = get_settings()
    try:
        store = Store(database or settings.database_url, ttl_overrides=settings.ttl_days)
    except IocflowError as exc:
        raise fail(str(exc)) from None
    try:
        yield store
    except IocflowError as exc:
        raise fail(str(exc)) from None
    finally:
        store.close()
