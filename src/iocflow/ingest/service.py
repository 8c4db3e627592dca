"""The ingest runs the CLI (and later the API) start: a feed, an article, an RSS/Atom feed.

Each returns an ``IngestReport``. A source that fails as a whole (unreachable,
not its format, no text) is reported as failed with nothing stored; a bad row
or entry is counted and listed while the rest is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

import httpx

from iocflow.exceptions import FeedError
from iocflow.ingest import articles
from iocflow.ingest.feeds.base import FeedFormat
from iocflow.ingest.fetch import Fetched, fetch, relative_fetcher
from iocflow.ingest.report import IngestReport, Parsed
from iocflow.ingest.runner import store_parsed
from iocflow.store.records import Source
from iocflow.store.store import Store
from iocflow.store.vocabulary import Reliability, SourceCategory, SourceKind

Progress = Callable[[int], None]


def feed_source(fmt: FeedFormat, name: str | None = None, *, category: SourceCategory | None = None,
                reliability: Reliability | None = None, url: str | None = None) -> Source:
    return Source(
        name or fmt.name, SourceKind.FEED, category or fmt.category, reliability or fmt.reliability,
        url=url or fmt.default_url, reputation=fmt.reputation, severity=fmt.severity,
    )


def ingest_feed(
    store: Store,
    location: str,
    *,
    fmt: FeedFormat | None = None,
    source: Source | None = None,
    name: str | None = None,
    category: SourceCategory | None = None,
    reliability: Reliability | None = None,
    client: httpx.Client | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    retries: int = 3,
    now: datetime | None = None,
    on_batch: Progress | None = None,
) -> tuple[IngestReport, Fetched | None]:
    """Fetch and store one feed document; returns the report and what was fetched (for its validators).

    The source is ``source`` when given; else the format's, with ``name``, ``category`` and ``reliability``
    taking the place of its defaults once the format is known (detected from the content when not given).
    """
    from iocflow.ingest.feeds.registry import detect_format  # the feed formats load only when a feed is ingested

    reported = source.name if source else (name or (fmt.name if fmt else location))
    try:
        fetched = fetch(location, client=client, etag=etag, last_modified=last_modified, retries=retries)
        if fetched.data is None:
            return IngestReport(reported, not_modified=True), fetched
        fmt = fmt or detect_format(fetched.data)
        source = source or feed_source(fmt, name, category=category, reliability=reliability, url=location)
        parsed = fmt.parse(fetched.data, relative_fetcher(location, client=client, retries=retries))
    except FeedError as exc:
        return IngestReport(reported, failed=str(exc)), None
    return store_parsed(store, source, parsed, now=now, on_batch=on_batch), fetched


def article_source(location: str | None, *, name: str | None = None,
                   category: SourceCategory = SourceCategory.RESEARCH,
                   reliability: Reliability = Reliability.C) -> Source:
    """Articles from one site or file are one source, named after the host unless told otherwise."""
    host = urlsplit(location).hostname if location else None
    return Source(name or host or "articles", SourceKind.ARTICLE, category, reliability,
                  url=f"https://{host}/" if host else None)


def ingest_article(store: Store, location: str, *, source: Source | None = None, client: httpx.Client | None = None,
                   retries: int = 3, now: datetime | None = None) -> IngestReport:
    """One article (URL or file) into the store."""
    source = source or article_source(location if "://" in location else None)
    try:
        data = fetch(location, client=client, retries=retries).data or b""
        text = articles.read_article(data, url=location if "://" in location else None, name=location)
    except FeedError as exc:
        return IngestReport(source.name, failed=str(exc))
    return store_parsed(store, source, articles.article_observations(text, now=now), now=now)


def ingest_rss(
    store: Store,
    location: str,
    *,
    name: str | None = None,
    category: SourceCategory = SourceCategory.RESEARCH,
    reliability: Reliability = Reliability.C,
    client: httpx.Client | None = None,
    retries: int = 3,
    fetch_pages: bool = True,
    now: datetime | None = None,
    on_entry: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Every entry of an RSS/Atom feed as an article; an entry that fails is counted, not fatal.

    The source is named ``name``, else after the feed's title, else its site."""
    try:
        feed = articles.read_news_feed(fetch(location, client=client, retries=retries).data or b"", location=location)
    except FeedError as exc:
        return IngestReport(name or location, failed=str(exc))
    source = article_source(feed.link or location, name=name or feed.title, category=category, reliability=reliability)
    get_page = (lambda url: fetch(url, client=client, retries=retries).data or b"") if fetch_pages else None
    parts: list[Parsed] = []
    failed = Parsed()
    for done, entry in enumerate(feed.entries, start=1):
        try:
            parts.append(articles.article_observations(articles.entry_article(entry, get_page), now=now))
        except FeedError as exc:
            failed.reject(f"entry {entry.title or entry.link!r}: {exc}", line=done, value=entry.link)
        if on_entry is not None:
            on_entry(done, len(feed.entries))
    parsed = articles.merge([*parts, failed])
    return store_parsed(store, source, parsed, now=now)


def resolve_feed(target: str) -> tuple[FeedFormat | None, str]:
    """``iocflow ingest feed TARGET``: a format name means its published URL; else a URL or a file."""
    from iocflow.ingest.feeds.registry import get_format

    try:
        fmt = get_format(target)
    except FeedError:
        return None, target
    return fmt, fmt.default_url
