"""The store on SQLite and PostgreSQL: dedup, sightings, idempotency, confidence, expiry, allowlist, atomicity."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from iocflow.exceptions import AlreadyExists, NotFound, StoreError, Unavailable
from iocflow.store import writer
from iocflow.store.db import head_revision
from iocflow.store.filters import ArticleQuery, IndicatorQuery
from iocflow.store.models import IndicatorRow, SightingRow
from iocflow.store.records import NAMESPACE, NEVER, Article, Observation, Source, indicator_id
from iocflow.store.store import Store
from iocflow.store.views import IndicatorRecord
from iocflow.store.vocabulary import (
    Confidence,
    IndicatorType,
    Reliability,
    Reputation,
    Severity,
    SourceCategory,
    SourceKind,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FEED = Source("test-feed", SourceKind.FEED, SourceCategory.THREAT_INTEL, Reliability.B, reputation=Reputation.BAD)
BLOG = Source("test-blog", SourceKind.ARTICLE, SourceCategory.RESEARCH, Reliability.C)
SHAKY = Source("shaky", SourceKind.FEED, SourceCategory.COMMUNITY, Reliability.E)


def obs(kind: IndicatorType, value: str, **fields: object) -> Observation:
    return Observation(kind, value, **fields)  # type: ignore[arg-type]


def record_of(store: Store, kind: IndicatorType, value: str) -> IndicatorRecord | None:
    """The stored indicator as readers see it (``Store.indicator`` without the sightings)."""
    detail = store.indicator(kind, value)
    return detail.record if detail is not None else None


def table_counts(store: Store) -> tuple[int, int]:
    with store._transaction() as s:
        return (s.scalar(select(func.count()).select_from(IndicatorRow)) or 0,
                s.scalar(select(func.count()).select_from(SightingRow)) or 0)


def test_schema_is_at_head_and_upgrade_is_idempotent(store: Store) -> None:
    assert store.revision() == head_revision()
    store.upgrade()
    assert store.revision() == head_revision()


def test_new_indicators_carry_every_field(store: Store) -> None:
    counts = store.record(FEED, [
        obs(IndicatorType.URL, "http://evil.iocflow-test.net/a.exe", first_seen=T0, tags=("exe", "emotet"),
            malware="Emotet", threat_type="malware_download", reporter="abuse_ch", ref="123",
            extra={"link": "https://urlhaus.abuse.ch/url/123/", "asn": 64496}),
        obs(IndicatorType.SHA256, "a" * 64, first_seen=T0, indicator_class="Malware", comment="dropper"),
    ], now=T0 + timedelta(hours=1))
    assert (counts.new, counts.updated, counts.unchanged) == (2, 0, 0)
    detail = store.indicator(IndicatorType.URL, "http://evil.iocflow-test.net/a.exe")
    assert detail is not None
    url = detail.record
    assert url.id == str(uuid.uuid5(NAMESPACE, "url:http://evil.iocflow-test.net/a.exe")) == indicator_id("url", url.value)
    assert url.first_seen == T0 and url.first_seen.tzinfo is not None
    assert url.last_seen == T0 + timedelta(hours=1)
    assert (url.confidence, url.severity, url.reputation, url.reliability) == ("high", "high", "bad", "B")
    assert url.tags == ("emotet", "exe")
    assert url.expires_at == url.last_seen + timedelta(days=90)
    assert (url.source_count, url.sighting_count, url.allowlisted) == (1, 1, False)
    sha = record_of(store, IndicatorType.SHA256, "a" * 64)
    assert sha is not None and sha.expires_at is None
    assert (sha.indicator_class, sha.comment) == ("Malware", "dropper")
    [sighting] = detail.sightings
    assert sighting.feed_name == "test-feed" and sighting.category == "threat-intel"
    assert sighting.malware == "Emotet"
    # What the source said beyond the reader's record stays in the sightings table.
    with store._transaction() as s:
        row = s.scalars(select(SightingRow).join(IndicatorRow, SightingRow.indicator_pk == IndicatorRow.pk)
                        .where(IndicatorRow.id == url.id)).one()
        assert (row.malware, row.threat_type, row.reporter, row.ref) == ("Emotet", "malware_download", "abuse_ch", "123")
        assert row.details == {"link": "https://urlhaus.abuse.ch/url/123/", "asn": 64496}


def test_reingesting_the_same_data_moves_only_last_seen_and_expiry(store: Store) -> None:
    rows = [
        obs(IndicatorType.IPV4, "203.0.113.77", first_seen=T0, tags=("c2",)),
        obs(IndicatorType.DOMAIN, "bad.iocflow-test.org", first_seen=T0),
        obs(IndicatorType.MD5, "0" * 31 + "1", first_seen=T0),
    ]
    store.record(FEED, rows, now=T0)
    with store._transaction() as s:
        before = {r.id: r for r in s.scalars(select(IndicatorRow))}
    counts = store.record(FEED, rows, now=T0 + timedelta(days=2))
    assert (counts.new, counts.updated, counts.unchanged) == (0, 0, 3)
    assert table_counts(store) == (3, 3)
    with store._transaction() as s:
        after = {r.id: r for r in s.scalars(select(IndicatorRow))}
    for iid, old in before.items():
        new = after[iid]
        assert new.last_seen == T0 + timedelta(days=2)
        for column in IndicatorRow.__table__.columns.keys():
            if column not in {"last_seen", "expires_at"}:
                assert getattr(new, column) == getattr(old, column), column
    assert after[indicator_id("ipv4", "203.0.113.77")].expires_at == T0 + timedelta(days=32)
    assert after[indicator_id("md5", "0" * 31 + "1")].expires_at is None


def test_a_value_repeated_in_one_batch_is_one_sighting(store: Store) -> None:
    counts = store.record(FEED, [obs(IndicatorType.DOMAIN, "dup.iocflow-test.org", tags=("a",)),
                                 obs(IndicatorType.DOMAIN, "dup.iocflow-test.org", tags=("b",))], now=T0)
    assert counts.new == 1
    assert table_counts(store) == (1, 1)
    row = record_of(store, IndicatorType.DOMAIN, "dup.iocflow-test.org")
    assert row is not None and row.tags == ("a", "b")


@pytest.mark.parametrize(
    ("extraction", "source", "expected"),
    [
        (Confidence.HIGH, FEED, "high"),  # B passes high through
        (Confidence.HIGH, BLOG, "medium"),  # C caps at medium
        (Confidence.MEDIUM, FEED, "medium"),
        (Confidence.HIGH, SHAKY, "low"),  # E caps at low
    ],
)
def test_confidence_is_extraction_capped_by_reliability(store: Store, extraction: Confidence, source: Source, expected: str) -> None:
    store.record(source, [obs(IndicatorType.DOMAIN, "conf.iocflow-test.org", confidence=extraction)], now=T0)
    row = record_of(store, IndicatorType.DOMAIN, "conf.iocflow-test.org")
    assert row is not None and row.confidence == expected


def test_two_sources_corroborate_one_step_up(store: Store) -> None:
    store.record(BLOG, [obs(IndicatorType.DOMAIN, "both.iocflow-test.org", confidence=Confidence.MEDIUM)], now=T0)
    first = record_of(store, IndicatorType.DOMAIN, "both.iocflow-test.org")
    assert first is not None and first.confidence == "medium"
    counts = store.record(SHAKY, [obs(IndicatorType.DOMAIN, "both.iocflow-test.org")], now=T0 + timedelta(days=1))
    assert counts.updated == 1
    row = record_of(store, IndicatorType.DOMAIN, "both.iocflow-test.org")
    assert row is not None
    assert (row.confidence, row.source_count, row.sighting_count, row.reliability) == ("high", 2, 2, "C")
    assert row.first_seen == T0 and row.last_seen == T0 + timedelta(days=1)


def test_worst_reputation_and_highest_severity_win(store: Store) -> None:
    store.record(BLOG, [obs(IndicatorType.IPV4, "198.18.0.1", severity=Severity.LOW, reputation=Reputation.SUSPICIOUS)], now=T0)
    store.record(FEED, [obs(IndicatorType.IPV4, "198.18.0.1", severity=Severity.CRITICAL)], now=T0)
    store.record(BLOG, [obs(IndicatorType.IPV4, "198.18.0.1", severity=Severity.INFO, reputation=Reputation.GOOD)], now=T0)
    row = record_of(store, IndicatorType.IPV4, "198.18.0.1")
    assert row is not None and (row.severity, row.reputation) == ("critical", "bad")


def test_expiry_defaults_extension_never_and_explicit(store: Store) -> None:
    store.record(FEED, [obs(IndicatorType.IPV4, "192.0.2.10")], now=T0)
    row = record_of(store, IndicatorType.IPV4, "192.0.2.10")
    assert row is not None and row.expires_at == T0 + timedelta(days=30)
    store.record(FEED, [obs(IndicatorType.IPV4, "192.0.2.10")], now=T0 + timedelta(days=10))
    row = record_of(store, IndicatorType.IPV4, "192.0.2.10")
    assert row is not None and row.expires_at == T0 + timedelta(days=40)  # seen again: extended
    late = T0 + timedelta(days=400)
    store.record(FEED, [obs(IndicatorType.IPV4, "192.0.2.10", expiry=late)], now=T0 + timedelta(days=11))
    row = record_of(store, IndicatorType.IPV4, "192.0.2.10")
    assert row is not None and row.expires_at == late
    store.record(FEED, [obs(IndicatorType.IPV4, "192.0.2.10", expiry=NEVER)], now=T0 + timedelta(days=12))
    row = record_of(store, IndicatorType.IPV4, "192.0.2.10")
    assert row is not None and row.expires_at is None


def test_ttl_overrides_come_from_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = Store(f"sqlite:///{tmp_path / 'ttl.db'}", ttl_overrides={"ipv4": 7, "sha256": 365})
    store.upgrade()
    store.record(FEED, [obs(IndicatorType.IPV4, "192.0.2.11"), obs(IndicatorType.SHA256, "b" * 64)], now=T0)
    ip = record_of(store, IndicatorType.IPV4, "192.0.2.11")
    sha = record_of(store, IndicatorType.SHA256, "b" * 64)
    assert ip is not None and ip.expires_at == T0 + timedelta(days=7)
    assert sha is not None and sha.expires_at == T0 + timedelta(days=365)
    store.close()


def test_articles_are_sightings_with_context_and_tags(store: Store) -> None:
    one = Article("Report one", "https://blog.iocflow-test.org/one", techniques=("T1055",), industries=("finance",))
    two = Article("Report two", "https://blog.iocflow-test.org/two", techniques=("T1566",), industries=("energy",))
    store.record(BLOG, [obs(IndicatorType.DOMAIN, "c2.iocflow-test.net", confidence=Confidence.MEDIUM, article=one,
                            context="The implant beacons to c2.iocflow-test.net.", techniques=one.techniques,
                            industries=one.industries)], now=T0)
    store.record(BLOG, [obs(IndicatorType.DOMAIN, "c2.iocflow-test.net", confidence=Confidence.MEDIUM, article=two,
                            context="Again c2.iocflow-test.net.", techniques=two.techniques, industries=two.industries)],
                 now=T0 + timedelta(days=1))
    row = record_of(store, IndicatorType.DOMAIN, "c2.iocflow-test.net")
    assert row is not None
    assert (row.sighting_count, row.source_count) == (2, 1)
    assert row.techniques == ("T1055", "T1566") and row.industries == ("energy", "finance")
    detail = store.indicator(IndicatorType.DOMAIN, "c2.iocflow-test.net")
    assert detail is not None
    # newest first: the second article's sighting, then the first one's
    assert [s.context for s in detail.sightings] == ["Again c2.iocflow-test.net.", "The implant beacons to c2.iocflow-test.net."]
    titles = sorted(a.title or "" for a in store.articles(ArticleQuery(), limit=10).items)
    assert titles == ["Report one", "Report two"]


def test_allowlisted_values_are_flagged_with_the_reason(store: Store) -> None:
    store.record(FEED, [obs(IndicatorType.IPV4, "10.1.2.3"), obs(IndicatorType.IPV4, "8.8.8.8"),
                        obs(IndicatorType.DOMAIN, "www.example.com"), obs(IndicatorType.IPV4, "45.77.1.2"),
                        obs(IndicatorType.MD5, "d41d8cd98f00b204e9800998ecf8427e")], now=T0)
    flags = {v: record_of(store, t, v) for t, v in [
        (IndicatorType.IPV4, "10.1.2.3"), (IndicatorType.IPV4, "8.8.8.8"), (IndicatorType.DOMAIN, "www.example.com"),
        (IndicatorType.IPV4, "45.77.1.2"), (IndicatorType.MD5, "d41d8cd98f00b204e9800998ecf8427e")]}
    assert "RFC 1918" in (flags["10.1.2.3"].allowlist_reason or "")  # type: ignore[union-attr]
    assert "Google Public DNS" in (flags["8.8.8.8"].allowlist_reason or "")  # type: ignore[union-attr]
    assert flags["www.example.com"].allowlisted  # type: ignore[union-attr]
    assert flags["d41d8cd98f00b204e9800998ecf8427e"].allowlisted  # type: ignore[union-attr]
    assert not flags["45.77.1.2"].allowlisted  # type: ignore[union-attr]


def test_operator_allowlist_entries_reflag_stored_indicators(store: Store) -> None:
    store.record(FEED, [obs(IndicatorType.IPV4, "45.77.1.2"), obs(IndicatorType.DOMAIN, "cdn.ourcorp.iocflow-test.net")], now=T0)
    store.add_allowlist_entry("45.77.0.0/16", "our VPS range")
    store.add_allowlist_entry("ourcorp.iocflow-test.net")
    ip = record_of(store, IndicatorType.IPV4, "45.77.1.2")
    host = record_of(store, IndicatorType.DOMAIN, "cdn.ourcorp.iocflow-test.net")
    assert ip is not None and ip.allowlisted and ip.allowlist_reason == "operator allowlist: our VPS range"
    assert host is not None and host.allowlisted
    assert [e.value for e in store.allowlist_entries()] == ["45.77.0.0/16", "ourcorp.iocflow-test.net"]
    with pytest.raises(AlreadyExists, match="already"):
        store.add_allowlist_entry("45.77.0.0/16")
    store.remove_allowlist_entry("45.77.0.0/16")
    ip = record_of(store, IndicatorType.IPV4, "45.77.1.2")
    assert ip is not None and not ip.allowlisted and ip.allowlist_reason is None
    with pytest.raises(NotFound, match="not on the allowlist"):
        store.remove_allowlist_entry("45.77.0.0/16")
    with pytest.raises(ValueError):
        store.add_allowlist_entry("two words")
    # new data is flagged on arrival
    store.record(FEED, [obs(IndicatorType.URL, "https://x.ourcorp.iocflow-test.net/a")], now=T0)
    url = record_of(store, IndicatorType.URL, "https://x.ourcorp.iocflow-test.net/a")
    assert url is not None and url.allowlisted


def test_a_failing_batch_leaves_nothing_behind(store: Store) -> None:
    store.record(FEED, [obs(IndicatorType.DOMAIN, "kept.iocflow-test.org")], now=T0)
    naive = datetime(2026, 3, 1, 12, 0)  # noqa: DTZ001 - the fault under test
    bad_batch = [obs(IndicatorType.DOMAIN, f"new{i}.iocflow-test.org") for i in range(50)]
    bad_batch.append(obs(IndicatorType.DOMAIN, "kept.iocflow-test.org", first_seen=naive))
    with pytest.raises((ValueError, TypeError, StoreError)):
        store.record(FEED, bad_batch, now=T0 + timedelta(days=1))
    assert table_counts(store) == (1, 1)
    kept = record_of(store, IndicatorType.DOMAIN, "kept.iocflow-test.org")
    assert kept is not None and kept.last_seen == T0


def test_large_batches_cross_the_query_chunk_size(store: Store) -> None:
    n = 2 * writer._CHUNK + 200
    rows = [obs(IndicatorType.SHA1, f"{i:040x}") for i in range(1, n + 1)]
    assert store.record(FEED, rows, now=T0).new == n
    again = store.record(FEED, rows, now=T0 + timedelta(days=1))
    assert (again.new, again.unchanged) == (0, n)
    assert table_counts(store) == (n, n)
    assert store.count(IndicatorQuery(types=(IndicatorType.SHA1,), include_expired=True, include_allowlisted=True)) == n


def test_missing_schema_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = Store(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(Unavailable, match="iocflow db upgrade"):
        store.record(FEED, [obs(IndicatorType.DOMAIN, "x.iocflow-test.org")])
    store.close()


def test_an_unreachable_database_is_unavailable_without_blaming_the_schema() -> None:
    store = Store("postgresql+psycopg://postgres@127.0.0.1:1/nothing-listens-here?connect_timeout=2")
    with pytest.raises(Unavailable, match="database error") as raised:
        store.count()
    assert "db upgrade" not in str(raised.value)
    store.close()


def test_unsupported_database_url_is_refused() -> None:
    with pytest.raises(StoreError, match="unsupported database"):
        Store("mysql://root@localhost/test")
    with pytest.raises(StoreError, match="invalid database URL"):
        Store("not a url")
