"""The store as the other layers see it: one object per database, built from settings.

It owns the engine, the session factory and the allowlist (bundled lists plus
the operator's entries, reloaded when those change). Every other layer reads
and writes through its typed methods and gets frozen records back
(``iocflow.store.views``): nothing outside ``store/`` opens a transaction,
writes SQL or sees an ORM row. Every write is one transaction; the ingest
layer calls ``record`` once per batch. Listings page by an opaque cursor
(``iocflow.store.cursor``); ``walk_indicators`` streams a whole selection a
chunk at a time, each chunk in its own short transaction, so an export of a
million rows holds one chunk in memory and no transaction open while it writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Final

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError, SQLAlchemyError
from sqlalchemy.orm import Session

from iocflow.exceptions import AlreadyExists, NotFound, SchemaMissing, Unavailable
from iocflow.settings import Settings
from iocflow.store import db, feeds, keys, queries
from iocflow.store.allowlist import Allowlist, validate_entry
from iocflow.store.cursor import article_position, articles_after, indicator_key, indicators_after
from iocflow.store.feeds import FeedConfig
from iocflow.store.filters import EVERYTHING, ArticleQuery, IndicatorQuery
from iocflow.store.keys import ApiKey
from iocflow.store.models import AllowlistEntryRow, IndicatorRow
from iocflow.store.records import Observation, Source, indicator_id
from iocflow.store.views import AllowlistEntry, ArticleRecord, IndicatorDetail, IndicatorRecord, Page, Stats
from iocflow.store.vocabulary import IndicatorType
from iocflow.store.writer import ATTEMPTS, WriteCounts, record, retryable, utcnow

#: Rows read per transaction while a selection is walked (an export, a TAXII page, a Report pass).
WALK_CHUNK: Final = 1000


class Store:
    """One indicator store (SQLite file or PostgreSQL database)."""

    def __init__(self, url: str, *, ttl_overrides: dict[str, int | None] | None = None) -> None:
        self.url = url
        self.engine = db.make_engine(url)
        self._sessions = db.session_factory(self.engine)
        self._ttl_overrides = ttl_overrides or {}
        self._allowlist: Allowlist | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        return cls(settings.database_url, ttl_overrides=settings.ttl_days)

    def upgrade(self) -> None:
        """Create or migrate the schema to the current revision."""
        db.upgrade(self.engine)

    def revision(self) -> str | None:
        """The schema's Alembic revision (None before the first ``upgrade``)."""
        return db.current_revision(self.engine)

    @property
    def location(self) -> str:
        """The database URL with any password hidden: what messages may show."""
        return self.engine.url.render_as_string(hide_password=True)

    def ping(self) -> str | None:
        """None if the database answers a trivial query, else the kind of failure (for a health check)."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure means "not healthy": reported, not raised
            return type(exc).__name__
        return None

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _transaction(self, *, write: bool = False) -> Iterator[Session]:
        """One unit of work; anything raised inside rolls all of it back. A database that cannot answer
        is ``Unavailable``, told apart by asking the database whether it has the schema (not by message).
        ``write``: one that reads what it then changes (``db.transaction``)."""
        try:
            with db.transaction(self._sessions, write=write) as session:
                yield session
        except (OperationalError, ProgrammingError) as exc:
            try:
                reachable_without_schema = not db.has_schema(self.engine)
            except SQLAlchemyError:  # not reachable at all: say what failed, not "migrate"
                reachable_without_schema = False
            if reachable_without_schema:
                raise SchemaMissing("the database has no iocflow schema yet: run `iocflow db upgrade`") from exc
            raise Unavailable(f"database error: {exc.orig or exc}") from exc

    # -- writing -------------------------------------------------------------------------

    def record(self, source: Source, observations: Sequence[Observation], *, now: datetime | None = None) -> WriteCounts:
        """Store one batch in one write transaction; retried (``writer.ATTEMPTS`` tries in all) when a concurrent
        writer inserted the same new indicators first, or PostgreSQL broke a deadlock by aborting it."""
        allowlist = self.allowlist()  # loaded (on first use) before the write lock is taken
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with self._transaction(write=True) as session:
                    return record(session, source, observations, allowlist=allowlist, now=now,
                                  ttl_overrides=self._ttl_overrides)
            except (IntegrityError, Unavailable) as exc:
                if attempt == ATTEMPTS or not retryable(exc):
                    raise
        raise AssertionError("unreachable")

    # -- the allowlist ---------------------------------------------------------------------

    def allowlist(self) -> Allowlist:
        if self._allowlist is None:
            with self._transaction() as session:
                entries = session.execute(select(AllowlistEntryRow.value, AllowlistEntryRow.reason)).all()
            self._allowlist = Allowlist((e.value, e.reason) for e in entries)
        return self._allowlist

    def allowlist_entries(self) -> list[AllowlistEntry]:
        with self._transaction() as session:
            rows = session.scalars(select(AllowlistEntryRow).order_by(AllowlistEntryRow.value)).all()
            return [AllowlistEntry(r.value, r.reason, r.created_at) for r in rows]

    def add_allowlist_entry(self, value: str, reason: str | None = None) -> int:
        """Allowlist ``value``; returns how many stored indicators it now covers."""
        value = validate_entry(value)
        with self._transaction() as session:
            if session.scalar(select(AllowlistEntryRow.id).where(AllowlistEntryRow.value == value)) is not None:
                raise AlreadyExists(f"{value!r} is already on the allowlist")
            session.execute(insert(AllowlistEntryRow), [{"value": value, "reason": reason, "created_at": utcnow()}])
        return self._reflag()

    def remove_allowlist_entry(self, value: str) -> int:
        """Take ``value`` off the allowlist; returns how many stored indicators are still allowlisted."""
        with self._transaction() as session:
            gone = session.execute(delete(AllowlistEntryRow).where(AllowlistEntryRow.value == value.strip()))
            if gone.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFound(f"{value!r} is not on the allowlist")
        return self._reflag()

    def _reflag(self) -> int:
        """Re-apply the allowlist to every stored indicator (after the operator changed it)."""
        self._allowlist = None
        allowlist = self.allowlist()
        flagged = 0
        with self._transaction() as session:
            changes = []
            rows = session.execute(select(IndicatorRow.pk, IndicatorRow.type, IndicatorRow.value, IndicatorRow.allowlist_reason))
            for key, kind, value, old_reason in rows:
                reason = allowlist.match(IndicatorType(kind), value)
                flagged += reason is not None
                if reason != old_reason:
                    changes.append({"pk": key, "allowlisted": reason is not None, "allowlist_reason": reason})
            if changes:
                session.execute(update(IndicatorRow), changes)
        return flagged

    # -- indicators ------------------------------------------------------------------------

    def indicators(self, query: IndicatorQuery, *, limit: int, offset: int = 0, cursor: str | None = None,
                   with_total: bool = False) -> Page[IndicatorRecord]:
        """One page of ``query``'s indicators in row-key order, after ``cursor`` (a ``next_cursor`` of an
        earlier page) and ``offset``; ``total`` counts the whole selection when asked for."""
        after = indicator_key(cursor)
        with self._transaction() as session:
            rows = queries.list_indicators(session, query, limit=limit + 1, offset=offset, after=after)
            total = queries.count_indicators(session, query) if with_total else None
        more = len(rows) > limit
        rows = rows[:limit]
        return Page([r for _, r in rows], indicators_after(rows[-1][0]) if more else None, total)

    def walk_indicators(self, query: IndicatorQuery, *, cursor: str | None = None, limit: int | None = None,
                        chunk: int = WALK_CHUNK) -> Iterator[tuple[str, IndicatorRecord]]:
        """Every indicator of ``query`` after ``cursor`` (``limit`` at most), each with the cursor that resumes
        after it: a chunk of rows per short transaction, so memory and locks are bounded by the chunk.

        The cursor is checked here, before the first row is read: a streamed answer that has started cannot
        turn into an error any more."""
        after = indicator_key(cursor)
        return self._walk(query, after, limit, chunk)

    def _walk(self, query: IndicatorQuery, after: int | None, limit: int | None,
              chunk: int) -> Iterator[tuple[str, IndicatorRecord]]:
        left = limit
        while left is None or left > 0:
            size = chunk if left is None else min(chunk, left)
            with self._transaction() as session:
                rows = queries.list_indicators(session, query, limit=size, after=after)
            for key, found in rows:
                yield indicators_after(key), found
            if len(rows) < size:
                return
            after = rows[-1][0]
            if left is not None:
                left -= len(rows)

    def iter_indicators(self, query: IndicatorQuery, *, cursor: str | None = None,
                        limit: int | None = None) -> Iterator[IndicatorRecord]:
        """``walk_indicators`` without the cursors: what exports stream from."""
        return (found for _, found in self.walk_indicators(query, cursor=cursor, limit=limit))

    def count(self, query: IndicatorQuery = EVERYTHING) -> int:
        """How many indicators ``query`` selects (by default every stored one)."""
        with self._transaction() as session:
            return queries.count_indicators(session, query)

    def indicator(self, kind: IndicatorType, value: str) -> IndicatorDetail | None:
        """Everything stored about one indicator (its canonical value), or None if no source reported it."""
        return self.indicator_by_id(indicator_id(kind, value))

    def indicator_by_id(self, iid: str) -> IndicatorDetail | None:
        with self._transaction() as session:
            found = queries.indicator(session, iid)
            if found is None:
                return None
            key, stored = found
            return IndicatorDetail(stored, tuple(queries.sightings(session, key)))

    # -- articles and stats ------------------------------------------------------------------

    def articles(self, query: ArticleQuery, *, limit: int, cursor: str | None = None) -> Page[ArticleRecord]:
        """Articles newest first (ingest time, then id), ``limit`` a page, after ``cursor``."""
        after = article_position(cursor)
        with self._transaction() as session:
            found = queries.list_articles(session, query, limit=limit + 1, after=after)
        more = len(found) > limit
        found = found[:limit]
        return Page(found, articles_after(found[-1].ingested_at, found[-1].id) if more else None)

    def stats(self, *, days: int, now: datetime) -> Stats:
        """Counts by type and source, and by day of last sighting over the last ``days`` days."""
        with self._transaction() as session:
            return queries.stats(session, days=days, now=now)

    # -- API keys ----------------------------------------------------------------------------

    def create_key(self, *, name: str, tier: str, scopes: tuple[str, ...]) -> tuple[ApiKey, str]:
        """A new key and its secret (shown this once; only its hash is kept)."""
        with self._transaction() as session:
            return keys.create_key(session, name=name, tier=tier, scopes=scopes)

    def keys(self) -> list[ApiKey]:
        with self._transaction() as session:
            return keys.list_keys(session)

    def revoke_key(self, key: str) -> ApiKey:
        """Revoke by id or shown prefix (``NotFound`` if neither names a key)."""
        with self._transaction() as session:
            return keys.revoke_key(session, key)

    def authenticate(self, secret: str) -> ApiKey | None:
        """The active key whose secret this is, else None."""
        with self._transaction() as session:
            return keys.authenticate(session, secret)

    # -- configured feeds --------------------------------------------------------------------

    def feeds(self) -> list[FeedConfig]:
        with self._transaction() as session:
            return feeds.list_feeds(session)

    def feed(self, name: str) -> FeedConfig | None:
        with self._transaction() as session:
            return feeds.get_feed(session, name)

    def add_feed(self, config: FeedConfig) -> None:
        with self._transaction() as session:
            feeds.add_feed(session, config)

    def remove_feed(self, name: str) -> None:
        with self._transaction() as session:
            feeds.remove_feed(session, name)

    def record_feed_run(self, name: str, *, at: datetime, status: str, etag: str | None = None,
                        last_modified: str | None = None, keep_validators: bool = False) -> None:
        """Remember a run; the HTTP validators are kept for the next conditional GET."""
        with self._transaction() as session:
            feeds.record_run(session, name, at=at, status=status, etag=etag, last_modified=last_modified,
                             keep_validators=keep_validators)
