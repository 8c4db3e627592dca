"""What every command shares: the error console, failing cleanly, opening the store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from iocflow.exceptions import IocflowError

if TYPE_CHECKING:
    from iocflow.store.store import Store

err = Console(stderr=True, soft_wrap=True, highlight=False)
out = Console(soft_wrap=True, highlight=False)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` as an error and return the exit to raise (exit status 2)."""
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


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
