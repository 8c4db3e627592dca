"""``iocflow export FORMAT``: the same exports as the API, straight from the store to a file."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from iocflow.cli.common import err, fail, open_store
from iocflow.exceptions import InvalidParameter

Database = Annotated[str | None, typer.Option("--database", help="SQLAlchemy URL; default IOCFLOW_DATABASE_URL or ./data/iocflow.db.")]


def register(app: typer.Typer) -> None:
    app.command("export")(export_command)


def export_command(
    format_name: Annotated[str, typer.Argument(metavar="FORMAT", help="stix, misp, cef, openioc, sigma or xdr.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of standard output.")] = None,
    types: Annotated[str | None, typer.Option("--type", help="Comma-separated types.")] = None,
    confidence: Annotated[str | None, typer.Option(help="Minimum confidence: low, medium or high.")] = None,
    category: Annotated[str | None, typer.Option(help="Comma-separated source categories.")] = None,
    feed: Annotated[str | None, typer.Option(help="Comma-separated source names.")] = None,
    industry: Annotated[str | None, typer.Option(help="Comma-separated industries.")] = None,
    since: Annotated[datetime | None, typer.Option(help="Last seen at or after (UTC).")] = None,
    until: Annotated[datetime | None, typer.Option(help="Last seen before (UTC).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many indicators.")] = 1_000_000,
    include_expired: bool = False,
    include_allowlisted: bool = False,
    database: Database = None,
) -> None:
    """Export indicators (the filters of /api/v1/iocs) as STIX 2.1, MISP, CEF, OpenIOC, Sigma or an XDR body."""
    from iocflow.export.formats import FORMATS
    from iocflow.store.filters import IndicatorQuery

    fmt = FORMATS.get(format_name.lower())
    if fmt is None:
        raise fail(f"unknown format {format_name!r}; known: {', '.join(FORMATS)}")
    now = datetime.now(UTC)
    try:
        query = IndicatorQuery.parse(types=types, min_confidence=confidence, categories=category, feeds=feed,
                                     industries=industry, since=since, until=until, include_expired=include_expired,
                                     include_allowlisted=include_allowlisted, now=now)
    except InvalidParameter as exc:
        valid = next((v for k, v in exc.details.items() if k.startswith("valid_")), None)
        raise fail(f"{exc}" + (f"; valid: {', '.join(map(str, valid))}" if isinstance(valid, list) else "")) from None
    with open_store(database) as store:
        target = output.open("wb") if output else sys.stdout.buffer
        try:
            for chunk in fmt.render(store.iter_indicators(query, limit=limit), now):
                target.write(chunk)
        finally:
            if output:
                target.close()
    if output:
        err.print(f"wrote {fmt.name} export to {output}")
