"""The store as the other layers see it: one object per database, built from settings.

It owns the engine, the session factory and the allowlist (bundled lists plus
the operator's entries, reloaded when those change). Every write is one
transaction; the ingest layer calls ``record`` once per batch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from iocflow.exceptions import StoreError
from iocflow.settings import Settings
from iocflow.store import db
from iocflow.store.allowlist import Allowlist, validate_entry
from iocflow.store.models import AllowlistEntryRow, IndicatorRow, SightingRow, SourceRow
from iocflow.store.records import Observation, Source, indicator_id
from iocflow.store.vocabulary import IndicatorType
from iocflow.store.writer import WriteCounts, record, utcnow


@dataclass(frozen=True, slots=True)
class AllowlistEntry:
    value: str
    reason: str | None
    created_at: datetime


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

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work; anything raised inside rolls all of it back."""
        try:
            with db.transaction(self._sessions) as session:
                yield session
        except (OperationalError, ProgrammingError) as exc:
            if "no such table" in str(exc) or "does not exist" in str(exc):
                raise StoreError("the database has no iocflow schema yet: run `iocflow db upgrade`") from exc
            raise StoreError(f"database error: {exc.orig or exc}") from exc

    # -- writing -------------------------------------------------------------------------

    def record(self, source: Source, observations: Sequence[Observation], *, now: datetime | None = None) -> WriteCounts:
        """Store one batch in one transaction (retried once if a concurrent writer inserted the same rows)."""
        for attempt in (1, 2):
            try:
                with self.transaction() as session:
                    return record(session, source, observations, allowlist=self.allowlist(), now=now,
                                  ttl_overrides=self._ttl_overrides)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    # -- the allowlist ---------------------------------------------------------------------

    def allowlist(self) -> Allowlist:
        if self._allowlist is None:
            with self.transaction() as session:
                entries = session.execute(select(AllowlistEntryRow.value, AllowlistEntryRow.reason)).all()
            self._allowlist = Allowlist((e.value, e.reason) for e in entries)
        return self._allowlist

    def allowlist_entries(self) -> list[AllowlistEntry]:
        with self.transaction() as session:
            rows = session.scalars(select(AllowlistEntryRow).order_by(AllowlistEntryRow.value)).all()
            return [AllowlistEntry(r.value, r.reason, r.created_at) for r in rows]

    def add_allowlist_entry(self, value: str, reason: str | None = None) -> int:
        """Allowlist ``value``; returns how many stored indicators it now covers."""
        value = validate_entry(value)
        with self.transaction() as session:
            if session.scalar(select(AllowlistEntryRow.id).where(AllowlistEntryRow.value == value)) is not None:
                raise StoreError(f"{value!r} is already on the allowlist")
            session.execute(insert(AllowlistEntryRow), [{"value": value, "reason": reason, "created_at": utcnow()}])
        return self._reflag()

    def remove_allowlist_entry(self, value: str) -> int:
        """Take ``value`` off the allowlist; returns how many stored indicators are still allowlisted."""
        with self.transaction() as session:
            gone = session.execute(delete(AllowlistEntryRow).where(AllowlistEntryRow.value == value.strip()))
            if gone.rowcount == 0:  # type: ignore[attr-defined]
                raise StoreError(f"{value!r} is not on the allowlist")
        return self._reflag()

    def _reflag(self) -> int:
        """Re-apply the allowlist to every stored indicator (after the operator changed it)."""
        self._allowlist = None
        allowlist = self.allowlist()
        flagged = 0
        with self.transaction() as session:
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

    # -- reading ---------------------------------------------------------------------------

    def get_indicator(self, kind: IndicatorType | str, value: str) -> IndicatorRow | None:
        from iocflow.store.queries import indicator_by_id  # queries builds on this module

        with self.transaction() as session:
            return indicator_by_id(session, indicator_id(kind, value))

    def sightings(self, iid: str) -> list[tuple[SightingRow, SourceRow]]:
        with self.transaction() as session:
            query = (select(SightingRow, SourceRow).join(SourceRow, SightingRow.source_id == SourceRow.id)
                     .join(IndicatorRow, SightingRow.indicator_pk == IndicatorRow.pk)
                     .where(IndicatorRow.id == iid).order_by(SightingRow.first_seen, SightingRow.pk))
            return [(s, src) for s, src in session.execute(query).all()]

    def count(self, kind: IndicatorType | None = None) -> int:
        with self.transaction() as session:
            query = select(func.count()).select_from(IndicatorRow)
            if kind is not None:
                query = query.where(IndicatorRow.type == kind.value)
            return int(session.scalar(query) or 0)

