"""Times in iocflow are aware UTC; this is the one rule for a time that arrives otherwise."""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(moment: datetime) -> datetime:
    """``moment`` as aware UTC: a naive time is taken to be UTC already (feeds, query strings, SQLite)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
