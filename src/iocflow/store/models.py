"""The store's tables (SQLAlchemy 2), identical on SQLite and PostgreSQL.

An indicator is identified by ``indicator_id(type, value)`` (a UUIDv5, the
``id`` column), so finding one by value is one unique-index lookup and no index
on long URL values is needed. Rows are stored under an integer key (``pk``)
that grows with insertion, and sightings point at that key: a batch of new
indicators and their sightings then lands in the index pages at the end of each
tree instead of dirtying one random page per row per index, which halved the
cost of a large ingest. Every time column is timezone-aware UTC on both
databases (``UtcDateTime``); list columns are JSON (JSONB on PostgreSQL).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from iocflow.times import as_utc


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime everywhere (SQLite keeps no zone; this puts it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps UTC times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else as_utc(value)


#: Ids are UUIDv5 strings (``records.uuid5``); a fixed-width string is as fast on SQLite and portable.
Uuid36 = String(36)
JsonList = JSON().with_variant(JSONB(), "postgresql")
"""A JSON column (lists and objects), JSONB on PostgreSQL."""


class Base(DeclarativeBase):
    pass


class SourceRow(Base):
    """A feed, an article source or a pushing tool."""

    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(Uuid36, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    reliability: Mapped[str] = mapped_column(String(1))
    url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ArticleRow(Base):
    """A report that indicators were extracted from."""

    __tablename__ = "articles"

    id: Mapped[str] = mapped_column(Uuid36, primary_key=True)
    source_id: Mapped[str | None] = mapped_column(ForeignKey("sources.id"), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ingested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    text_sha256: Mapped[str | None] = mapped_column(String(64))
    techniques: Mapped[list[str]] = mapped_column(JsonList, default=list)
    industries: Mapped[list[str]] = mapped_column(JsonList, default=list)


RowKey = BigInteger().with_variant(Integer(), "sqlite")  # SQLite's rowid alias must be INTEGER


class IndicatorRow(Base):
    """One indicator, deduplicated by (type, value); its summary fields derive from its sightings."""

    __tablename__ = "indicators"
    # One secondary index beside the id, the feed's keyset order: every index is paid on each ingested row.
    __table_args__ = (Index("ix_indicators_last_seen_pk", "last_seen", "pk"),)

    pk: Mapped[int] = mapped_column(RowKey, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(Uuid36, unique=True)
    type: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    confidence: Mapped[str] = mapped_column(String(8))
    severity: Mapped[str] = mapped_column(String(8))
    reputation: Mapped[str] = mapped_column(String(12))
    reliability: Mapped[str] = mapped_column(String(1))
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    tags: Mapped[list[str]] = mapped_column(JsonList, default=list)
    industries: Mapped[list[str]] = mapped_column(JsonList, default=list)
    techniques: Mapped[list[str]] = mapped_column(JsonList, default=list)
    indicator_class: Mapped[str | None] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)
    source_count: Mapped[int] = mapped_column(Integer, default=0)
    sighting_count: Mapped[int] = mapped_column(Integer, default=0)
    allowlisted: Mapped[bool] = mapped_column(Boolean, default=False)
    allowlist_reason: Mapped[str | None] = mapped_column(Text)


#: ``sightings.article_id`` of a sighting with no article (a feed row, a push): part of the unique key, so not NULL.
NO_ARTICLE = ""


class SightingRow(Base):
    """One source reporting one indicator (per article, for articles); re-reports update it."""

    __tablename__ = "sightings"
    __table_args__ = (
        UniqueConstraint("indicator_pk", "source_id", "article_id", name="uq_sightings_indicator_source_article"),
        # Feed sightings have no article: a partial index skips them (most rows) on both databases.
        Index("ix_sightings_article_id", "article_id", sqlite_where=text("article_id != ''"),
              postgresql_where=text("article_id != ''")),
    )

    pk: Mapped[int] = mapped_column(RowKey, primary_key=True, autoincrement=True)
    indicator_pk: Mapped[int] = mapped_column(ForeignKey("indicators.pk", ondelete="CASCADE"))
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    #: An ``articles.id``, or ``NO_ARTICLE``; not a foreign key, since "no article" is not a row.
    article_id: Mapped[str] = mapped_column(Uuid36, default=NO_ARTICLE)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    extraction_confidence: Mapped[str] = mapped_column(String(8))
    confidence: Mapped[str] = mapped_column(String(8))
    confidence_rank: Mapped[int] = mapped_column(Integer)
    reliability: Mapped[str] = mapped_column(String(1))
    severity: Mapped[str | None] = mapped_column(String(8))
    reputation: Mapped[str | None] = mapped_column(String(12))
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    never_expires: Mapped[bool] = mapped_column(Boolean, default=False)
    tags: Mapped[list[str]] = mapped_column(JsonList, default=list)
    malware: Mapped[str | None] = mapped_column(Text)
    threat_type: Mapped[str | None] = mapped_column(Text)
    reporter: Mapped[str | None] = mapped_column(Text)
    indicator_class: Mapped[str | None] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)
    context: Mapped[str | None] = mapped_column(Text)
    ref: Mapped[str | None] = mapped_column(Text)
    #: What else the source said that has no column (a URLhaus page link, a ThreatFox reference, an ASN).
    details: Mapped[dict[str, object] | None] = mapped_column(JsonList)


class AllowlistEntryRow(Base):
    """A value an operator says must never be served as malicious (beside the bundled warninglists)."""

    __tablename__ = "allowlist_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    value: Mapped[str] = mapped_column(Text, unique=True)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class FeedRow(Base):
    """A configured feed: where to fetch it, how to read it, how often, and its HTTP validators."""

    __tablename__ = "feeds"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(32))
    interval_minutes: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(32))
    reliability: Mapped[str] = mapped_column(String(1))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_status: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)


class ApiKeyRow(Base):
    """An API key: only its SHA-256 is kept (the key itself is shown once, at creation)."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(Uuid36, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: The key's first characters (``sk_live_AbCd``), so an operator can tell keys apart.
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tier: Mapped[str] = mapped_column(String(32))
    scopes: Mapped[list[str]] = mapped_column(JsonList, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
