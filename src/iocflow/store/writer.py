"""Writing observations into the store: sightings first, then the indicators they summarise.

``record`` is the only write path for indicators. It runs inside the caller's
transaction (one batch = one transaction), so a failure leaves nothing of the
batch behind. Per batch it issues a handful of set-based statements (select
the existing rows by primary key, bulk insert, bulk update, one aggregate over
the sightings), never one statement per observation, which is what keeps a
million-row ingest fast on SQLite.

Idempotency: a sighting's id is a function of (indicator, source, article), so
re-reporting updates the same row; the indicator's summary is recomputed from
its sightings. Re-ingesting the same data therefore moves only ``last_seen``
(and the expiry that follows it).

Concurrent writers: a batch reads the indicators it updates, and what it writes
is computed from what it read, so no other writer may change them in between.
On SQLite the batch's transaction holds the write lock from its start
(``db.transaction(write=True)``): batches run one after the other. On
PostgreSQL the batch locks the stored indicators as it reads them (``FOR NO KEY
UPDATE``, in id order, so two writers never wait on each other in opposite
orders): a writer of the same indicators waits there until this batch commits,
then reads what it wrote. Readers wait for neither. A new indicator two writers
insert at once is refused to the second by the unique index (after the first
commits); the store retries that batch, which then finds it stored. New rows
are written in id order too, so two such inserts cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from iocflow.store import bulk, policy
from iocflow.store.allowlist import Allowlist
from iocflow.store.models import NO_ARTICLE, ArticleRow, IndicatorRow, SightingRow, SourceRow
from iocflow.store.records import NEVER, Observation, Source
from iocflow.store.vocabulary import IndicatorType, Reliability, Reputation, Severity

_K = TypeVar("_K", str, int)
#: How often ``Store.record`` tries one batch. It retries when a concurrent writer inserted one of the
#: batch's new indicators first (an IntegrityError: the retry finds the row stored and merges into it),
#: and when PostgreSQL aborted it as a deadlock or serialisation victim (a writer outside ``record``, such
#: as an allowlist change, may lock indicators in another order).
ATTEMPTS = 3
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
_CHUNK = 5000  # ids per lookup (one bound list each, see ``bulk.matching``): bounds one statement's work
#: Columns that identify a row and never change once written. UPDATEs leave them out: setting an indexed
#: column rewrites its index entry even to the same value (2.7x the cost of an update that does not).
_INDICATOR_IDENTITY = frozenset({"id", "type", "value"})
_SIGHTING_IDENTITY = frozenset({"indicator_pk", "source_id", "article_id"})
#: Indicator columns whose change makes a re-report an update rather than a re-sighting.
_TRACKED = (
    "first_seen", "confidence", "severity", "reputation", "reliability", "tags", "industries", "techniques",
    "indicator_class", "comment", "source_count", "sighting_count", "allowlisted", "allowlist_reason",
)


# The policy's orders, keyed by the stored strings (the summary runs once per indicator per batch).
_SEVERITY_RANK = {s.value: s.rank for s in Severity}
_REPUTATION_RANK = {r.value: r.rank for r in Reputation}
_RELIABILITY_ORDER = {r.value: policy.reliability_order(r) for r in Reliability}
_DEFAULT_SEVERITY = {r.value: policy.default_severity(r).value for r in Reputation}


def utcnow() -> datetime:
    return datetime.now(UTC)


def retryable(exc: BaseException) -> bool:
    """Whether a batch that failed with ``exc`` (or an error it wraps) may succeed when tried again."""
    if isinstance(exc, IntegrityError):
        return True
    error = exc if isinstance(exc, DBAPIError) else exc.__cause__
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) in _TRANSIENT_SQLSTATES


@dataclass
class WriteCounts:
    """What one or more batches did to the store's indicators."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    new_ids: list[str] = field(default_factory=list, repr=False)

    def __iadd__(self, other: WriteCounts) -> WriteCounts:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.new_ids += other.new_ids
        return self


def record(
    session: Session,
    source: Source,
    observations: Sequence[Observation],
    *,
    allowlist: Allowlist,
    now: datetime | None = None,
    ttl_overrides: dict[str, int | None] | None = None,
) -> WriteCounts:
    """Store one batch of observations from ``source``; returns how many indicators were new/updated/unchanged.

    ``session`` is a write transaction (``db.transaction(write=True)``): see the module's note on
    concurrent writers.
    """
    now = now or utcnow()
    if not observations:
        return WriteCounts()
    _ensure_source(session, source, now)
    _ensure_articles(session, source, observations, now)
    pending = _merge_batch(source, observations, now)
    by_indicator: dict[str, list[_Pending]] = {}
    for p in pending.values():
        by_indicator.setdefault(p.indicator_id, []).append(p)
    stored = _load_indicators(session, by_indicator)
    expiry = _Expiry(ttl_overrides)
    counts = WriteCounts()
    # New indicators first (their sightings point at them); the batch is all they have been seen in.
    inserts = [
        _first_summary(iid, reports[0], allowlist, expiry) if len(reports) == 1
        else _summarise(iid, reports, None, _batch_aggregate(reports), allowlist, expiry)
        for iid, reports in by_indicator.items() if iid not in stored
    ]
    keys = {iid: old["pk"] for iid, old in stored.items()}
    if inserts:
        keys |= bulk.insert_keyed(session, IndicatorRow.__table__, inserts, natural="id")
        counts.new = len(inserts)
        counts.new_ids = [row["id"] for row in inserts]
    _write_sightings(session, source.id, pending, keys, known={old["pk"] for old in stored.values()})
    # Known indicators: re-summarise from all their sightings, now including this batch's.
    aggregates = _aggregates(session, [old["pk"] for old in stored.values()])
    updates = []
    for iid, old in stored.items():
        row = _summarise(iid, by_indicator[iid], old, aggregates[old["pk"]], allowlist, expiry)
        row["pk"] = old["pk"]
        if row == old:
            counts.unchanged += 1
            continue
        updates.append(_without(row, _INDICATOR_IDENTITY))
        if any(row[k] != old[k] for k in _TRACKED):
            counts.updated += 1
        else:
            counts.unchanged += 1
    if updates:
        bulk.update_rows(session, IndicatorRow.__table__, updates, key="pk")
    return counts


@dataclass(slots=True)
class _Pending:
    """A sighting as this batch reports it, before it meets the stored one."""

    indicator_id: str
    observation: Observation
    #: The sighting's columns except its keys (``pk``, ``indicator_pk``), which are known only at write time.
    row: dict[str, Any]


def _merge_batch(source: Source, observations: Sequence[Observation], now: datetime) -> dict[tuple[str, str], _Pending]:
    """One pending sighting per (indicator, article): a value repeated in one article is one sighting."""
    pending: dict[tuple[str, str], _Pending] = {}
    source_key = source.id
    ratings: dict[tuple[object, ...], dict[str, Any]] = {}
    for obs in observations:
        iid = obs.indicator_id
        article = obs.article.id if obs.article is not None else NO_ARTICLE
        sid = (iid, article)
        key = (obs.confidence, obs.reliability, obs.severity, obs.reputation)
        rating = ratings.get(key)
        if rating is None:  # a batch has a handful of distinct ratings: work them out once each
            rating = ratings[key] = _rating(source, obs)
        first = obs.first_seen or now
        last = obs.last_seen or now
        if last < first:
            last = first
        expiry = obs.expiry
        row = {
            "source_id": source_key,
            "article_id": article,
            "first_seen": first,
            "last_seen": last,
            **rating,
            "expires_at": expiry if isinstance(expiry, datetime) else None,
            "never_expires": expiry is not None and expiry == NEVER,
            "tags": sorted(set(obs.tags)) if len(obs.tags) > 1 else list(obs.tags),
            "malware": obs.malware,
            "threat_type": obs.threat_type,
            "reporter": obs.reporter,
            "indicator_class": obs.indicator_class,
            "comment": obs.comment,
            "context": obs.context,
            "ref": obs.ref,
            "details": obs.extra or None,
        }
        previous = pending.get(sid)
        if previous is None:
            pending[sid] = _Pending(iid, obs, row)
        else:
            pending[sid] = _Pending(iid, _union_obs(previous.observation, obs), _merge_sighting(previous.row, row))
    return pending


def _rating(source: Source, obs: Observation) -> dict[str, Any]:
    """The sighting's rating columns: the observation's own, else its source's, confidence capped by policy."""
    reliability = obs.reliability or source.reliability
    confidence = policy.sighting_confidence(obs.confidence, reliability)
    severity = obs.severity or source.severity
    return {
        "extraction_confidence": obs.confidence.value,
        "confidence": confidence.value,
        "confidence_rank": confidence.rank,
        "reliability": reliability.value,
        "severity": severity.value if severity else None,
        "reputation": (obs.reputation or source.reputation).value,
    }


def _union_obs(a: Observation, b: Observation) -> Observation:
    """Two reports of one sighting in one batch: keep the first, add the second's labels."""
    return replace(
        a,
        tags=tuple(dict.fromkeys(a.tags + b.tags)),
        techniques=tuple(dict.fromkeys(a.techniques + b.techniques)),
        industries=tuple(dict.fromkeys(a.industries + b.industries)),
    )


def _merge_sighting(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A sighting reported again: the span widens, the latest non-empty details win, tags add up."""
    merged = dict(old)
    merged["first_seen"] = min(old["first_seen"], new["first_seen"])
    merged["last_seen"] = max(old["last_seen"], new["last_seen"])
    if new["confidence_rank"] > old["confidence_rank"]:
        for key in ("extraction_confidence", "confidence", "confidence_rank"):
            merged[key] = new[key]
    for key in ("reliability", "severity", "reputation", "malware", "threat_type", "reporter",
                "indicator_class", "comment", "ref", "expires_at", "details"):
        if new[key] is not None:
            merged[key] = new[key]
    merged["context"] = old["context"] or new["context"]
    merged["never_expires"] = old["never_expires"] or new["never_expires"]
    merged["tags"] = sorted(set(old["tags"]) | set(new["tags"]))
    return merged


def _without(row: dict[str, Any], columns: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in columns}


def _chunks(ids: Iterable[_K]) -> Iterator[list[_K]]:
    batch: list[_K] = []
    for i in ids:
        batch.append(i)
        if len(batch) == _CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _ensure_source(session: Session, source: Source, now: datetime) -> None:
    row = session.get(SourceRow, source.id)
    values = {"kind": source.kind.value, "category": source.category.value,
              "reliability": source.reliability.value, "url": source.url}
    if row is None:
        session.execute(insert(SourceRow.__table__), [{"id": source.id, "name": source.name, "created_at": now, **values}])
    elif any(getattr(row, k) != v for k, v in values.items()):
        session.execute(update(SourceRow), [{"id": source.id, **values}])


def _ensure_articles(session: Session, source: Source, observations: Sequence[Observation], now: datetime) -> None:
    articles = {obs.article.id: obs.article for obs in observations if obs.article is not None}
    if not articles:
        return
    known = set(session.scalars(select(ArticleRow.id).where(ArticleRow.id.in_(list(articles)))))
    rows = [
        {
            "id": aid, "source_id": source.id, "title": a.title, "url": a.url, "published_at": a.published,
            "ingested_at": now, "text_sha256": a.text_sha256, "techniques": list(a.techniques),
            "industries": list(a.industries),
        }
        for aid, a in sorted(articles.items()) if aid not in known  # id order, as for indicators
    ]
    if rows:
        session.execute(insert(ArticleRow.__table__), rows)


def _load_indicators(session: Session, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Stored indicators whose id is in ``ids``, as plain dicts keyed by id, locked until the batch ends.

    PostgreSQL locks each row as it reads it, in id order across all chunks (byte order, as Python sorts),
    so writers of overlapping batches queue in one order. ``NO KEY UPDATE`` is the lock an UPDATE takes:
    it excludes other writers of the row, not the sightings' foreign-key checks. SQLite needs no row
    locks: the batch already holds the database's write lock.
    """
    columns = list(IndicatorRow.__table__.columns)
    lock = session.connection().dialect.name != "sqlite"
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(sorted(ids) if lock else ids):
        query = select(*columns).where(bulk.matching(session, IndicatorRow.id, chunk))
        if lock:
            query = query.order_by(IndicatorRow.id.collate("C")).with_for_update(key_share=True)
        for row in session.connection().execute(query).mappings():
            found[row["id"]] = dict(row)
    return found


def _write_sightings(session: Session, source_id: str, pending: dict[tuple[str, str], _Pending],
                     keys: dict[str, int], known: set[int]) -> None:
    """Insert new sightings, update re-reported ones; only indicators stored before can have any."""
    stored: dict[tuple[int, str], dict[str, Any]] = {}
    s = SightingRow
    columns = list(s.__table__.columns)
    for chunk in _chunks(known):
        query = select(*columns).where(s.source_id == source_id, bulk.matching(session, s.indicator_pk, chunk))
        for row in session.connection().execute(query).mappings():
            stored[row["indicator_pk"], row["article_id"]] = dict(row)
    inserts, updates = [], []
    for (iid, article), p in pending.items():
        key = keys[iid]
        old = stored.get((key, article)) if stored else None
        if old is None:
            p.row["indicator_pk"] = key  # the row is this pending sighting's own: completed in place
            inserts.append(p.row)
            continue
        merged = _merge_sighting(old, p.row)
        if merged != old:
            updates.append(_without(merged, _SIGHTING_IDENTITY))
    bulk.insert_rows(session, s.__table__, inserts)
    bulk.update_rows(session, s.__table__, updates, key="pk")


Aggregate = tuple[datetime, datetime, int, int, int]
"""first_seen, last_seen, best confidence rank, distinct sources, sightings."""


def _batch_aggregate(reports: list[_Pending]) -> Aggregate:
    rows = [r.row for r in reports]
    return (
        min(r["first_seen"] for r in rows),
        max(r["last_seen"] for r in rows),
        max(r["confidence_rank"] for r in rows),
        len({r["source_id"] for r in rows}),
        len(rows),
    )


def _aggregates(session: Session, keys: list[int]) -> dict[int, Aggregate]:
    s = SightingRow
    found: dict[int, Aggregate] = {}
    for chunk in _chunks(keys):
        query = (
            select(s.indicator_pk, func.min(s.first_seen), func.max(s.last_seen), func.max(s.confidence_rank),
                   func.count(func.distinct(s.source_id)), func.count())
            .where(bulk.matching(session, s.indicator_pk, chunk))
            .group_by(s.indicator_pk)
        )
        for iid, *values in session.connection().execute(query):
            found[iid] = tuple(values)  # type: ignore[assignment]
    return found


def _first_summary(iid: str, report: _Pending, allowlist: Allowlist, expiry: _Expiry) -> dict[str, Any]:
    """``_summarise`` for the common case, an indicator seen for the first time in one sighting."""
    row = report.row
    obs = report.observation
    reason = allowlist.match(obs.type, obs.value)
    return {
        "id": iid,
        "type": obs.type.value,
        "value": obs.value,
        "first_seen": row["first_seen"],
        "last_seen": row["last_seen"],
        "confidence": row["confidence"],  # one source: no corroboration
        "severity": row["severity"] or _DEFAULT_SEVERITY[row["reputation"]],
        "reputation": row["reputation"],
        "reliability": row["reliability"],
        "expires_at": expiry(obs.type, row["last_seen"], row["never_expires"],
                             [row["expires_at"]] if row["expires_at"] else []),
        "tags": row["tags"],
        "industries": sorted(set(obs.industries)) if obs.industries else [],
        "techniques": sorted(set(obs.techniques)) if obs.techniques else [],
        "indicator_class": row["indicator_class"],
        "comment": row["comment"],
        "source_count": 1,
        "sighting_count": 1,
        "allowlisted": reason is not None,
        "allowlist_reason": reason,
    }


class _Expiry:
    """The policy's expiry: never if any source said so or the type lives for ever, else the latest candidate.

    One per batch: its rows share a handful of (type, last seen) pairs, so each default is worked out once.
    """

    def __init__(self, ttl_overrides: dict[str, int | None] | None) -> None:
        self._ttl_overrides = ttl_overrides
        self._defaults: dict[tuple[IndicatorType, datetime], datetime | None] = {}

    def __call__(self, kind: IndicatorType, last_seen: datetime, never: bool, explicit: list[datetime]) -> datetime | None:
        try:
            default = self._defaults[kind, last_seen]
        except KeyError:
            default = self._defaults[kind, last_seen] = policy.default_expiry(kind, last_seen, self._ttl_overrides)
        if never or default is None:
            return None
        return max(default, *explicit) if explicit else default


def _summarise(
    iid: str,
    reports: list[_Pending],
    old: dict[str, Any] | None,
    aggregate: Aggregate,
    allowlist: Allowlist,
    expiry: _Expiry,
) -> dict[str, Any]:
    """The indicator row after this batch: aggregates from all its sightings, labels merged in."""
    first_seen, last_seen, best_rank, sources, sightings = aggregate
    first_obs = reports[0].observation
    kind = first_obs.type
    severities = [r.row["severity"] or _DEFAULT_SEVERITY[r.row["reputation"]] for r in reports]
    reputations = [r.row["reputation"] for r in reports]
    reliabilities = [r.row["reliability"] for r in reports]
    tags = {t for r in reports for t in r.row["tags"]}
    techniques = {t for r in reports for t in r.observation.techniques}
    industries = {t for r in reports for t in r.observation.industries}
    classes = [r.row["indicator_class"] for r in reports if r.row["indicator_class"]]
    comments = [r.row["comment"] for r in reports if r.row["comment"]]
    never = any(r.row["never_expires"] for r in reports)
    expiries = [r.row["expires_at"] for r in reports if r.row["expires_at"] is not None]
    if old is not None:
        severities.append(old["severity"])
        reputations.append(old["reputation"])
        reliabilities.append(old["reliability"])
        tags.update(old["tags"])
        techniques.update(old["techniques"])
        industries.update(old["industries"])
        never = never or old["expires_at"] is None
        if old["expires_at"] is not None:
            expiries.append(old["expires_at"])
    expires_at = expiry(kind, last_seen, never, expiries)
    reason = allowlist.match(kind, first_obs.value)
    return {
        "id": iid,
        "type": kind.value,
        "value": first_obs.value,
        "first_seen": first_seen,
        "last_seen": last_seen,
        "confidence": policy.indicator_confidence(best_rank, sources).value,
        "severity": max(severities, key=_SEVERITY_RANK.__getitem__),
        "reputation": max(reputations, key=_REPUTATION_RANK.__getitem__),
        "reliability": min(reliabilities, key=_RELIABILITY_ORDER.__getitem__),
        "expires_at": expires_at,
        "tags": sorted(tags),
        "industries": sorted(industries),
        "techniques": sorted(techniques),
        "indicator_class": classes[-1] if classes else (old["indicator_class"] if old else None),
        "comment": comments[-1] if comments else (old["comment"] if old else None),
        "source_count": sources,
        "sighting_count": sightings,
        "allowlisted": reason is not None,
        "allowlist_reason": reason,
    }
