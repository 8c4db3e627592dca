"""What readers of the store get back: frozen records with enum fields, never ORM rows.

The API, the exporters, TAXII, the CLI and (soon) the console all read through
``Store``'s methods and receive these types, so none of them sees a session,
a row object or a string where the store knows a closed vocabulary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from iocflow.store.vocabulary import (
    Confidence,
    IndicatorType,
    Reliability,
    Reputation,
    Severity,
    SourceCategory,
    SourceKind,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SourceRef:
    """The source (and article, when there is one) of an indicator's most recent sighting."""

    feed_name: str
    category: SourceCategory
    article_id: str | None
    article_title: str | None
    article_url: str | None
    context: str | None


@dataclass(frozen=True, slots=True)
class IndicatorRecord:
    """One indicator as every reader sees it (the feed, the exporters, TAXII, lookup)."""

    id: str  # UUIDv5 of "type:value": stable across stores and exports, so re-exports update, never duplicate
    type: IndicatorType
    value: str
    confidence: Confidence
    severity: Severity
    reputation: Reputation
    first_seen: datetime
    last_seen: datetime
    expires_at: datetime | None
    tags: tuple[str, ...]
    techniques: tuple[str, ...]  # ATT&CK IDs
    industries: tuple[str, ...]
    indicator_class: str | None
    comment: str | None
    source: SourceRef | None  # the most recent sighting's source and article
    #: Admiralty A-F of the most reliable source; F, "cannot be judged", when unknown.
    reliability: Reliability = Reliability.F
    allowlisted: bool = False
    allowlist_reason: str | None = None
    source_count: int = 0  # distinct sources that reported it
    sighting_count: int = 0  # reports in all (a source that reports it again in another article counts again)


@dataclass(frozen=True, slots=True)
class Sighting:
    """One source's report of an indicator (the lookup lists them, newest first)."""

    source_id: str
    feed_name: str
    category: SourceCategory
    kind: SourceKind
    reliability: Reliability
    first_seen: datetime
    last_seen: datetime
    malware: str | None
    context: str | None
    article_id: str | None


@dataclass(frozen=True, slots=True)
class IndicatorDetail:
    """An indicator with every sighting of it."""

    record: IndicatorRecord
    sightings: tuple[Sighting, ...]


@dataclass(frozen=True, slots=True)
class ArticleSource:
    name: str
    category: SourceCategory


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    """A report indicators were extracted from, with how many distinct indicators came from it."""

    id: str
    title: str | None
    url: str | None
    published_at: datetime | None
    ingested_at: datetime
    source: ArticleSource | None
    techniques: tuple[str, ...]
    industries: tuple[str, ...]
    indicator_count: int


@dataclass(frozen=True, slots=True)
class SourceCount:
    source: str
    category: SourceCategory
    indicators: int


@dataclass(frozen=True, slots=True)
class Stats:
    """Counts over the whole store; ``by_day`` counts indicators by the day (UTC) they were last seen."""

    by_type: dict[IndicatorType, int]
    by_source: tuple[SourceCount, ...]
    by_day: dict[str, int]
    allowlisted: int
    expired: int
    articles: int

    @property
    def total(self) -> int:
        return sum(self.by_type.values())


@dataclass(frozen=True, slots=True)
class AllowlistEntry:
    """One of the operator's allowlist entries (the bundled lists are not entries)."""

    value: str
    reason: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing: its items, the total when it was asked for, and the cursor to the next page."""

    items: Sequence[T]
    next_cursor: str | None = None
    total: int | None = field(default=None)
