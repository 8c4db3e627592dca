"""Concurrent writers in real processes, on SQLite (a file) and PostgreSQL: no update is lost.

The issue's case: indicators stored from s0, then s1 and s2 report the same values at once, each with
its own tags and ratings. Two ``spawn`` processes start together on a barrier and ingest batch after
batch, each listing every batch in its own order. Then they meet again and ingest values no one stored
before, so both insert the same new indicators at the same time. Afterwards every indicator's summary
must be what its stored sightings give: every source and sighting counted, every source's tags kept,
and the dates, ratings and expiry the policy derives from them.

Before the fix this failed on every run on both databases: of 4,000 indicators, 1,200 to 3,200 were
wrong (SQLite: one writer's tags and ratings lost; PostgreSQL: also two sources and two sightings counted
where three sightings were stored, and the third's dates missing).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from iocflow.store import policy
from iocflow.store.allowlist import Allowlist
from iocflow.store.filters import EVERYTHING
from iocflow.store.models import IndicatorRow, SightingRow
from iocflow.store.records import Observation, Source
from iocflow.store.store import Store
from iocflow.store.vocabulary import (
    IndicatorType,
    Reliability,
    Reputation,
    Severity,
    SourceCategory,
    SourceKind,
)

#: Indicators, and rows per batch: enough batches for the writers to interleave many times, few
#: enough for a test of seconds.
N = 4000
BATCH = 400
#: Values from here on are new to both writers; s0 stored the others.
FIRST_NEW = N - 2 * BATCH
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
_JOIN_SECONDS = 180

#: Each source rates differently and sees at other times, so a lost update shows in many fields.
SOURCES = {
    "s0": Source("s0", SourceKind.FEED, SourceCategory.COMMUNITY, Reliability.C),
    "s1": Source("s1", SourceKind.FEED, SourceCategory.THREAT_INTEL, Reliability.B, reputation=Reputation.SUSPICIOUS),
    "s2": Source("s2", SourceKind.FEED, SourceCategory.VENDOR, Reliability.A, reputation=Reputation.BAD,
                 severity=Severity.CRITICAL),
}
SEEN = {"s0": (T0, T0), "s1": (T0 - timedelta(days=3), T0 + timedelta(days=2)),
        "s2": (T0 - timedelta(days=1), T0 + timedelta(days=5))}


def values() -> list[tuple[IndicatorType, str]]:
    """Hashes (never expire) and domains (expire 90 days after last seen), alternately."""
    out = []
    for i in range(N):
        if i % 2:
            out.append((IndicatorType.SHA256, hashlib.sha256(f"concurrent-{i}".encode()).hexdigest()))
        else:
            out.append((IndicatorType.DOMAIN, f"c{i}-{hashlib.md5(str(i).encode()).hexdigest()[:8]}.iocflow-race.top"))
    return out


def observations(name: str) -> list[Observation]:
    """``name``'s reports, tagged with its name, each batch in an order of its own."""
    first, last = SEEN[name]
    rows = [Observation(kind, value, first_seen=first, last_seen=last, tags=(f"tag-{name}", "shared"))
            for kind, value in values()]
    rng = random.Random(name)
    for start in range(0, N, BATCH):
        batch = rows[start : start + BATCH]
        rng.shuffle(batch)
        rows[start : start + BATCH] = batch
    return rows


def _ingest(url: str, name: str, allowlist: Allowlist, barrier: Any) -> None:
    """One writer process: set up, wait for the other, then ingest batch after batch."""
    store = Store(url)
    store._allowlist = allowlist  # the parent's: loading the bundled lists again takes seconds
    rows = observations(name)
    store.count()  # connected before the start
    barrier.wait(timeout=120)
    for start in range(0, FIRST_NEW, BATCH):
        store.record(SOURCES[name], rows[start : start + BATCH], now=T0)
    # Together again for the new values: batches that insert do not interleave freely (the second writer
    # waits for the first's inserts, then fails on the unique index and is retried), so they start at once.
    barrier.wait(timeout=120)
    for start in range(FIRST_NEW, N, BATCH):
        store.record(SOURCES[name], rows[start : start + BATCH], now=T0)
    store.close()


def ingest_at_once(store: Store, names: list[str]) -> None:
    """Each source's rows ingested by a process of its own, all started together."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(names))
    processes = [context.Process(target=_ingest, args=(store.url, name, store.allowlist(), barrier), name=name)
                 for name in names]
    for p in processes:
        p.start()
    for p in processes:
        p.join(_JOIN_SECONDS)
    for p in processes:
        if p.is_alive():
            p.kill()
    assert [p.exitcode for p in processes] == [0] * len(processes), "a writer failed (its traceback is above)"


def recomputed(kind: IndicatorType, sightings: list[Any]) -> dict[str, Any]:
    """An indicator's summary from its sightings alone, by the policy's rules."""
    sources = len({s.source_id for s in sightings})
    last_seen = max(s.last_seen for s in sightings)
    default = policy.default_expiry(kind, last_seen)
    never = default is None or any(s.never_expires for s in sightings)
    severities = [Severity(s.severity) if s.severity else policy.default_severity(Reputation(s.reputation))
                  for s in sightings]
    return {
        "source_count": sources,
        "sighting_count": len(sightings),
        "first_seen": min(s.first_seen for s in sightings),
        "last_seen": last_seen,
        "confidence": policy.indicator_confidence(max(s.confidence_rank for s in sightings), sources).value,
        "tags": sorted({t for s in sightings for t in s.tags}),
        "severity": max(severities, key=lambda s: s.rank).value,
        "reputation": max((Reputation(s.reputation) for s in sightings), key=lambda r: r.rank).value,
        "reliability": min((Reliability(s.reliability) for s in sightings), key=policy.reliability_order).value,
        "expires_at": None if never else max([default, *(s.expires_at for s in sightings if s.expires_at)]),
    }


def test_concurrent_writers_lose_no_update(store: Store) -> None:
    everything = values()
    first = [Observation(kind, value, first_seen=SEEN["s0"][0], last_seen=SEEN["s0"][1], tags=("tag-s0", "shared"))
             for kind, value in everything[:FIRST_NEW]]
    store.record(SOURCES["s0"], first, now=T0)

    ingest_at_once(store, ["s1", "s2"])

    with store._transaction() as session:  # white-box: the summaries are checked against the sightings table
        indicators = {row.value: row for row in session.execute(select(IndicatorRow.__table__))}
        sightings: dict[int, list[Any]] = {}
        for s in session.execute(select(SightingRow.__table__)):
            sightings.setdefault(s.indicator_pk, []).append(s)
    assert len(indicators) == N
    wrong = {}
    for i, (kind, value) in enumerate(everything):
        row = indicators[value]
        names = ["s0", "s1", "s2"] if i < FIRST_NEW else ["s1", "s2"]
        assert sorted(s.source_id for s in sightings[row.pk]) == sorted(SOURCES[n].id for n in names), value
        expected = recomputed(kind, sightings[row.pk])
        assert expected["tags"] == sorted({"shared", *(f"tag-{n}" for n in names)})
        stored = {field: getattr(row, field) for field in expected}
        if stored != expected:
            wrong[value] = {f: (stored[f], expected[f]) for f in expected if stored[f] != expected[f]}
    assert not wrong, f"{len(wrong)} of {N} summaries are not their sightings' (stored, recomputed): {list(wrong.items())[:3]}"
    # Readers see the same through the store's interface.
    counts = {(r.source_count, r.sighting_count) for r in store.iter_indicators(EVERYTHING)}
    assert counts == {(3, 3), (2, 2)}
