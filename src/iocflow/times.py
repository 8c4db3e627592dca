"""Times in iocflow are aware UTC; this is the one rule for a time that arrives otherwise."""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(moment: datetime) -> datetime:
    """``moment`` as aware UTC: a naive time is taken to be UTC already (feeds, query strings, SQLite)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso_z(moment: datetime) -> str:
    """``moment`` in ISO 8601 UTC with a ``Z``, the form the JSON responses write (orjson's ``OPT_UTC_Z``)."""
    return as_utc(moment).isoformat().replace("+00:00", "Z")
