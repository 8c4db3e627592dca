"""``iocflow export FORMAT``: the same exports as the API, straight from the store to a file."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from iocflow.cli.common import err, fail, open_store
from iocflow.times import as_utc

Database = Annotated[str | None, typer.Option("--database", help="SQLAlchemy URL; default IOCFLOW_DATABASE_URL or ./data/iocflow.db.")]


def register(app: typer.Typer) -> None:
    app.command("export")(export_command)


def _list(raw: str | None) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in (raw or "").split(",") if part.strip())


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
    from iocflow.export.records import items, pages
    from iocflow.store.queries import IndicatorFilter
    from iocflow.store.vocabulary import Confidence, IndicatorType

    fmt = FORMATS.get(format_name.lower())
    if fmt is None:
        raise fail(f"unknown format {format_name!r}; known: {', '.join(FORMATS)}")
    kinds = _list(types)
    if bad := [k for k in kinds if k not in {t.value for t in IndicatorType}]:
        raise fail(f"unknown type {', '.join(bad)}")
    if confidence is not None and confidence.lower() not in {c.value for c in Confidence}:
        raise fail(f"confidence must be low, medium or high, not {confidence!r}")
    now = datetime.now(UTC)
    filters = IndicatorFilter(
        types=kinds, min_confidence=confidence.lower() if confidence else None, categories=_list(category),
        feeds=tuple(f.strip() for f in (feed or "").split(",") if f.strip()), industries=_list(industry),
        since=as_utc(since) if since else None,
        until=as_utc(until) if until else None,
        include_expired=include_expired, include_allowlisted=include_allowlisted, now=now,
    )
    with open_store(database) as store:
        target = output.open("wb") if output else sys.stdout.buffer
        try:
            for chunk in fmt.render(items(pages(store, filters, limit=limit)), now):
                target.write(chunk)
        finally:
            if output:
                target.close()
    if output:
        err.print(f"wrote {fmt.name} export to {output}")
