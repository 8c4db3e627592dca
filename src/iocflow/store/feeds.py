"""Configured feeds: what to fetch, in which format, how often, and how the last run went (``Store.feeds`` etc.)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from iocflow.exceptions import AlreadyExists, NotFound, StoreError
from iocflow.store.models import FeedRow
from iocflow.store.vocabulary import Reliability, SourceCategory


@dataclass(frozen=True, slots=True)
class FeedConfig:
    name: str
    url: str
    format: str
    interval_minutes: int
    category: SourceCategory
    reliability: Reliability
    enabled: bool = True
    last_run_at: datetime | None = None
    last_status: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    def due(self, now: datetime) -> bool:
        """Enabled, and never run or run at least one interval ago."""
        if not self.enabled:
            return False
        return self.last_run_at is None or now - self.last_run_at >= timedelta(minutes=self.interval_minutes)


def _config(row: FeedRow) -> FeedConfig:
    return FeedConfig(row.name, row.url, row.format, row.interval_minutes, SourceCategory(row.category),
                      Reliability(row.reliability), row.enabled, row.last_run_at, row.last_status, row.etag,
                      row.last_modified)


def list_feeds(session: Session) -> list[FeedConfig]:
    return [_config(r) for r in session.scalars(select(FeedRow).order_by(FeedRow.name))]


def get_feed(session: Session, name: str) -> FeedConfig | None:
    row = session.get(FeedRow, name)
    return _config(row) if row is not None else None


def add_feed(session: Session, config: FeedConfig) -> None:
    if config.interval_minutes < 1:
        raise StoreError("a feed's interval is at least one minute")
    if session.get(FeedRow, config.name) is not None:
        raise AlreadyExists(f"a feed named {config.name!r} already exists")
    session.execute(insert(FeedRow), [{
        "name": config.name, "url": config.url, "format": config.format,
        "interval_minutes": config.interval_minutes, "category": config.category.value,
        "reliability": config.reliability.value, "enabled": config.enabled,
    }])


def remove_feed(session: Session, name: str) -> None:
    if session.execute(delete(FeedRow).where(FeedRow.name == name)).rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"no feed named {name!r}")


def record_run(session: Session, name: str, *, at: datetime, status: str, etag: str | None = None,
               last_modified: str | None = None, keep_validators: bool = False) -> None:
    """Remember a run; the HTTP validators are kept for the next conditional GET."""
    values: dict[str, object] = {"last_run_at": at, "last_status": status}
    if not keep_validators:
        values |= {"etag": etag, "last_modified": last_modified}
    if session.execute(update(FeedRow).where(FeedRow.name == name).values(**values)).rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"no feed named {name!r}")
