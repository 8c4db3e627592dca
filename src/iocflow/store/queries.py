"""Reading the store for the API and the exporters: filtered, keyset-paged indicator lists and summaries.

Pages are ordered by the row key, which only grows: an indicator added while a
client pages lands after every page already served, and an indicator updated
keeps its place, so paging never skips or repeats a row. ``after`` is the
cursor (the last row key a client saw); ``offset`` also works, and costs more
the deeper it goes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from iocflow.store.models import ArticleRow, IndicatorRow, SightingRow, SourceRow
from iocflow.store.vocabulary import Confidence

_CONFIDENCE_AT_LEAST = {c.value: [x.value for x in Confidence if x.rank >= c.rank] for c in Confidence}


@dataclass(frozen=True, slots=True)
class IndicatorFilter:
    """Which indicators a feed request wants; every field is optional."""

    types: tuple[str, ...] = ()
    min_confidence: str | None = None
    #: Exactly this confidence (a TAXII collection per level); ``min_confidence`` is "this or better".
    confidence: str | None = None
    categories: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    include_expired: bool = False
    include_allowlisted: bool = False
    now: datetime | None = None


@dataclass(frozen=True, slots=True)
class SourceRef:
    feed_name: str
    category: str
    article_id: str | None
    article_title: str | None
    article_url: str | None
    context: str | None


@dataclass
class Page:
    rows: list[IndicatorRow]
    total: int
    sources: dict[int, SourceRef] = field(default_factory=dict)

    @property
    def last_key(self) -> int | None:
        return self.rows[-1].pk if self.rows else None


def _json_contains_any(column: Any, values: Sequence[str]) -> Any:
    """A JSON list column holds one of ``values`` (portable: the JSON text holds the quoted value)."""
    return or_(*(cast(column, String).like(f'%"{v}"%') for v in values))


def _where(query: Select[Any], f: IndicatorFilter) -> Select[Any]:
    i = IndicatorRow
    if f.types:
        query = query.where(i.type.in_(f.types))
    if f.min_confidence:
        query = query.where(i.confidence.in_(_CONFIDENCE_AT_LEAST[f.min_confidence]))
    if f.confidence:
        query = query.where(i.confidence == f.confidence)
    if f.since is not None:
        query = query.where(i.last_seen >= f.since)
    if f.until is not None:
        query = query.where(i.last_seen < f.until)
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
            conditions.append(src.category.in_(f.categories))
        if f.feeds:
            conditions.append(src.name.in_(f.feeds))
        query = query.where(select(s.pk).join(src, s.source_id == src.id).where(and_(*conditions)).exists())
    return query


def list_indicators(session: Session, f: IndicatorFilter, *, limit: int, offset: int = 0,
                    after: int | None = None, with_total: bool = True) -> Page:
    """One page of indicators in row-key order, with each one's most recent source."""
    query = _where(select(IndicatorRow), f)
    total = int(session.scalar(_where(select(func.count()).select_from(IndicatorRow), f)) or 0) if with_total else -1
    if after is not None:
        query = query.where(IndicatorRow.pk > after)
    rows = list(session.scalars(query.order_by(IndicatorRow.pk).offset(offset).limit(limit)))
    return Page(rows, total, latest_sources(session, [r.pk for r in rows]))


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
    return {row[0]: SourceRef(row[1], row[2], row[3], row[4], row[5], row[6]) for row in session.execute(query)}


def indicator_by_id(session: Session, iid: str) -> IndicatorRow | None:
    """The indicator whose id (``indicator_id(type, value)``) is ``iid``: one unique-index lookup."""
    return session.scalar(select(IndicatorRow).where(IndicatorRow.id == iid))


def indicator_sources(session: Session, key: int) -> list[tuple[SourceRow, SightingRow]]:
    query = (select(SourceRow, SightingRow).join(SightingRow, SightingRow.source_id == SourceRow.id)
             .where(SightingRow.indicator_pk == key).order_by(SightingRow.last_seen.desc()))
    return [(a, b) for a, b in session.execute(query).all()]


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    since: datetime | None = None
    until: datetime | None = None
    feeds: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    text: str | None = None


def list_articles(session: Session, f: ArticleFilter, *, limit: int, after: tuple[datetime, str] | None = None
                  ) -> list[tuple[ArticleRow, SourceRow | None, int]]:
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
        query = query.where(src.category.in_(f.categories))
    if f.text:  # a plain substring: LIKE's wildcards in the text match themselves
        text = f.text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{text}%"
        query = query.where(or_(func.lower(a.title).like(pattern, escape="\\"),
                                func.lower(a.url).like(pattern, escape="\\")))
    if after is not None:
        query = query.where(or_(a.ingested_at < after[0], and_(a.ingested_at == after[0], a.id < after[1])))
    query = query.order_by(a.ingested_at.desc(), a.id.desc()).limit(limit)
    return [(row[0], row[1], int(row[2])) for row in session.execute(query)]


def stats(session: Session, *, days: int, now: datetime) -> dict[str, Any]:
    """Counts by type, by source and by day (of last sighting) for the last ``days`` days."""
    from datetime import timedelta

    i, s, src = IndicatorRow, SightingRow, SourceRow
    by_type = {kind: int(n) for kind, n in session.execute(select(i.type, func.count()).group_by(i.type))}
    by_source = [
        {"source": name, "category": category, "indicators": int(n)}
        for name, category, n in session.execute(
            select(src.name, src.category, func.count(func.distinct(s.indicator_pk)))
            .join(s, s.source_id == src.id).group_by(src.name, src.category).order_by(src.name))
    ]
    since = now - timedelta(days=days)
    if session.get_bind().dialect.name == "postgresql":
        day = func.to_char(func.timezone("UTC", i.last_seen), "YYYY-MM-DD")
    else:  # SQLite keeps naive-UTC "YYYY-MM-DD HH:MM:SS" text
        day = func.substr(i.last_seen, 1, 10)
    by_day = {d: int(n) for d, n in session.execute(
        select(day, func.count()).where(i.last_seen >= since).group_by(day).order_by(day))}
    allowlisted = int(session.scalar(select(func.count()).select_from(i).where(i.allowlisted.is_(True))) or 0)
    expired = int(session.scalar(select(func.count()).select_from(i).where(i.expires_at <= now)) or 0)
    return {"total": sum(by_type.values()), "by_type": by_type, "by_source": by_source, "by_day": by_day,
            "allowlisted": allowlisted, "expired": expired,
            "articles": int(session.scalar(select(func.count()).select_from(ArticleRow)) or 0)}
