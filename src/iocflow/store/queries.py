"""The store's read queries: what the ``Store`` methods run inside one transaction (private to ``store/``).

Indicator listings are ordered by the row key, which only grows: an indicator
added while a client pages lands after every page already served, and an
indicator updated keeps its place, so keyset paging (``after`` a row key)
never skips or repeats a row. ``offset`` also works, and costs more the
deeper it goes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Row, Select, String, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from iocflow.store.filters import ArticleQuery, IndicatorQuery
from iocflow.store.models import NO_ARTICLE, ArticleRow, IndicatorRow, SightingRow, SourceRow
from iocflow.store.views import (
    ArticleRecord,
    ArticleSource,
    IndicatorRecord,
    Sighting,
    SourceCount,
    SourceRef,
    Stats,
)
from iocflow.store.vocabulary import (
    Confidence,
    IndicatorType,
    Reliability,
    Reputation,
    Severity,
    SourceCategory,
    SourceKind,
)

_CONFIDENCE_AT_LEAST = {c: [x.value for x in Confidence if x.rank >= c.rank] for c in Confidence}


def _json_contains_any(column: Any, values: Sequence[str]) -> Any:
    """A JSON list column holds one of ``values`` (portable: the JSON text holds the quoted value)."""
    return or_(*(cast(column, String).like(f'%"{v}"%') for v in values))


def _where(query: Select[Any], f: IndicatorQuery) -> Select[Any]:
    i = IndicatorRow
    if f.ids:
        query = query.where(i.id.in_(f.ids))
    if f.types:
        query = query.where(i.type.in_([t.value for t in f.types]))
    if f.min_confidence is not None:
        query = query.where(i.confidence.in_(_CONFIDENCE_AT_LEAST[f.min_confidence]))
    if f.confidence is not None:
        query = query.where(i.confidence == f.confidence.value)
    if f.since is not None:
        query = query.where(i.last_seen >= f.since)
    if f.until is not None:
        query = query.where(i.last_seen < f.until)
    if f.seen_within:
        query = query.where(or_(*(and_(i.last_seen >= start, i.last_seen < end) for start, end in f.seen_within)))
    if not f.include_expired and f.now is not None:
        query = query.where(or_(i.expires_at.is_(None), i.expires_at > f.now))
    if not f.include_allowlisted:
        query = query.where(i.allowlisted.is_(False))
    if f.industries:
        query = query.where(_json_contains_any(i.industries, f.industries))
    if f.categories or f.feeds:
        s, src = SightingRow, SourceRow
        conditions = [s.indicator_pk == i.pk]
        if f.categories:
            conditions.append(src.category.in_([c.value for c in f.categories]))
        if f.feeds:
            conditions.append(src.name.in_(f.feeds))
        query = query.where(select(s.pk).join(src, s.source_id == src.id).where(and_(*conditions)).exists())
    if f.with_article:  # a sighting with an article (NO_ARTICLE: none)
        s = SightingRow
        query = query.where(select(s.pk).where(s.indicator_pk == i.pk, s.article_id != NO_ARTICLE).exists())
    if f.articles:  # a few articles' indicators: looked up from their sightings, not by probing every row
        query = query.where(i.pk.in_(select(SightingRow.indicator_pk).where(SightingRow.article_id.in_(f.articles))))
    return query


def count_indicators(session: Session, f: IndicatorQuery) -> int:
    return int(session.scalar(_where(select(func.count()).select_from(IndicatorRow), f)) or 0)


def list_indicators(session: Session, f: IndicatorQuery, *, limit: int, offset: int = 0,
                    after: int | None = None) -> list[tuple[int, IndicatorRecord]]:
    """Up to ``limit`` indicators in row-key order from ``offset`` (after row key ``after``), each with its
    row key and its most recent source."""
    query = _where(select(*_RECORD_COLUMNS), f)
    if after is not None:
        query = query.where(IndicatorRow.pk > after)
    rows = session.execute(query.order_by(IndicatorRow.pk).offset(offset).limit(limit)).all()
    sources = latest_sources(session, [row[0] for row in rows])
    return [(row[0], record(row, sources.get(row[0]))) for row in rows]


def indicator(session: Session, iid: str) -> tuple[int, IndicatorRecord] | None:
    """The row key and record of the indicator whose id (``indicator_id(type, value)``) is ``iid``."""
    row = session.execute(select(*_RECORD_COLUMNS).where(IndicatorRow.id == iid)).first()
    if row is None:
        return None
    return row[0], record(row, latest_sources(session, [row[0]]).get(row[0]))


#: What a record is read from, in ``record``'s order: columns, not ORM objects (loading 10,000 rows as
#: objects and reading their instrumented attributes cost about as much as the query itself).
_RECORD_COLUMNS: Final = tuple(getattr(IndicatorRow, name) for name in (
    "pk", "id", "type", "value", "confidence", "severity", "reputation", "first_seen", "last_seen", "expires_at",
    "tags", "techniques", "industries", "indicator_class", "comment", "reliability", "allowlisted",
    "allowlist_reason", "source_count", "sighting_count",
))
#: Members by stored value (a dict hit; ``Enum(value)`` goes through the enum machinery for every row).
_TYPES: Final = {m.value: m for m in IndicatorType}
_CONFIDENCES: Final = {m.value: m for m in Confidence}
_SEVERITIES: Final = {m.value: m for m in Severity}
_REPUTATIONS: Final = {m.value: m for m in Reputation}
_RELIABILITIES: Final = {m.value: m for m in Reliability}
_CATEGORIES: Final = {m.value: m for m in SourceCategory}


def record(row: Row[Any], source: SourceRef | None) -> IndicatorRecord:
    """The record of a row of ``_RECORD_COLUMNS``."""
    (_, iid, kind, value, confidence, severity, reputation, first_seen, last_seen, expires_at, tags, techniques,
     industries, indicator_class, comment, reliability, allowlisted, allowlist_reason, source_count,
     sighting_count) = row
    return IndicatorRecord(
        id=iid, type=_TYPES[kind], value=value, confidence=_CONFIDENCES[confidence], severity=_SEVERITIES[severity],
        reputation=_REPUTATIONS[reputation], first_seen=first_seen, last_seen=last_seen, expires_at=expires_at,
        tags=tuple(tags), techniques=tuple(techniques), industries=tuple(industries), indicator_class=indicator_class,
        comment=comment, source=source, reliability=_RELIABILITIES[reliability], allowlisted=bool(allowlisted),
        allowlist_reason=allowlist_reason, source_count=source_count, sighting_count=sighting_count,
    )


def latest_sources(session: Session, keys: list[int]) -> dict[int, SourceRef]:
    """Each indicator's most recent sighting's source and article (one query for a page)."""
    if not keys:
        return {}
    s, src, art = SightingRow, SourceRow, ArticleRow
    ranked = (
        select(s.indicator_pk, s.source_id, s.article_id, s.context,
               func.row_number().over(partition_by=s.indicator_pk, order_by=(s.last_seen.desc(), s.pk.desc())).label("n"))
        .where(s.indicator_pk.in_(keys))
        .subquery()
    )
    query = (
        select(ranked.c.indicator_pk, src.name, src.category, art.id, art.title, art.url, ranked.c.context)
        .join(src, src.id == ranked.c.source_id)
        .outerjoin(art, art.id == ranked.c.article_id)
        .where(ranked.c.n == 1)
    )
    return {row[0]: SourceRef(row[1], _CATEGORIES[row[2]], row[3], row[4], row[5], row[6])
            for row in session.execute(query)}


def sightings(session: Session, key: int) -> list[Sighting]:
    """Every sighting of the indicator with row key ``key``, most recent first."""
    query = (select(SourceRow, SightingRow).join(SightingRow, SightingRow.source_id == SourceRow.id)
             .where(SightingRow.indicator_pk == key).order_by(SightingRow.last_seen.desc(), SightingRow.pk.desc()))
    return [Sighting(source_id=src.id, feed_name=src.name, category=SourceCategory(src.category),
                     kind=SourceKind(src.kind), reliability=Reliability(src.reliability), first_seen=s.first_seen,
                     last_seen=s.last_seen, malware=s.malware, context=s.context,
                     article_id=s.article_id if s.article_id != NO_ARTICLE else None)
            for src, s in session.execute(query).all()]


def list_articles(session: Session, f: ArticleQuery, *, limit: int, after: tuple[datetime, str] | None = None
                  ) -> list[ArticleRecord]:
    """Articles newest first (ingest time, then id), each with its source and indicator count."""
    a, src = ArticleRow, SourceRow
    count = (select(func.count(func.distinct(SightingRow.indicator_pk))).where(SightingRow.article_id == a.id)
             .scalar_subquery())
    query = select(a, src, count).outerjoin(src, src.id == a.source_id)
    if f.since is not None:
        query = query.where(a.ingested_at >= f.since)
    if f.until is not None:
        query = query.where(a.ingested_at < f.until)
    if f.feeds:
        query = query.where(src.name.in_(f.feeds))
    if f.categories:
        query = query.where(src.category.in_([c.value for c in f.categories]))
    if f.text:  # a plain substring: LIKE's wildcards in the text match themselves
        text = f.text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{text}%"
        query = query.where(or_(func.lower(a.title).like(pattern, escape="\\"),
                                func.lower(a.url).like(pattern, escape="\\")))
    if after is not None:
        query = query.where(or_(a.ingested_at < after[0], and_(a.ingested_at == after[0], a.id < after[1])))
    query = query.order_by(a.ingested_at.desc(), a.id.desc()).limit(limit)
    return [ArticleRecord(
        id=art.id, title=art.title, url=art.url, published_at=art.published_at, ingested_at=art.ingested_at,
        source=ArticleSource(source.name, SourceCategory(source.category)) if source is not None else None,
        techniques=tuple(art.techniques), industries=tuple(art.industries), indicator_count=int(n),
    ) for art, source, n in session.execute(query)]


def stats(session: Session, *, days: int, now: datetime) -> Stats:
    """Counts by type, by source and by day (of last sighting) for the last ``days`` days."""
    i, s, src = IndicatorRow, SightingRow, SourceRow
    by_type = {IndicatorType(kind): int(n) for kind, n in session.execute(select(i.type, func.count()).group_by(i.type))}
    by_source = tuple(
        SourceCount(name, SourceCategory(category), int(n))
        for name, category, n in session.execute(
            select(src.name, src.category, func.count(func.distinct(s.indicator_pk)))
            .join(s, s.source_id == src.id).group_by(src.name, src.category).order_by(src.name))
    )
    since = now - timedelta(days=days)
    if session.get_bind().dialect.name == "postgresql":
        day = func.to_char(func.timezone("UTC", i.last_seen), "YYYY-MM-DD")
    else:  # SQLite keeps naive-UTC "YYYY-MM-DD HH:MM:SS" text
        day = func.substr(i.last_seen, 1, 10)
    by_day = {d: int(n) for d, n in session.execute(
        select(day, func.count()).where(i.last_seen >= since).group_by(day).order_by(day))}
    return Stats(
        by_type=by_type, by_source=by_source, by_day=by_day,
        allowlisted=int(session.scalar(select(func.count()).select_from(i).where(i.allowlisted.is_(True))) or 0),
        expired=int(session.scalar(select(func.count()).select_from(i).where(i.expires_at <= now)) or 0),
        articles=int(session.scalar(select(func.count()).select_from(ArticleRow)) or 0),
    )
