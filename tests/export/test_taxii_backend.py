"""The TAXII backend over a Store, without HTTP: the walk, paging by the store's cursor, filters, domain errors.

One SQLite store per module holds a few indicators at each confidence level
(some from articles, one outside the lookback, one of a type STIX cannot
express); every test only reads it. The HTTP side, and taxii2-client against a
served app, are in ``tests/api/test_taxii.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from iocflow.exceptions import InvalidParameter, NotFound
from iocflow.export import stix
from iocflow.export import taxii as taxii_module
from iocflow.export.taxii import COLLECTIONS, ObjectQuery, TaxiiBackend, manifest_record
from iocflow.store.cursor import Cursor, Listing
from iocflow.store.filters import IndicatorQuery
from iocflow.store.records import Article, Observation, Source
from iocflow.store.store import Store
from iocflow.store.vocabulary import Confidence, IndicatorType, Reliability, SourceCategory, SourceKind

NOW = datetime.now(UTC)
FEED = Source("backend-feed", SourceKind.FEED, SourceCategory.THREAT_INTEL, Reliability.B)
BY_KEY = {c.key: c for c in COLLECTIONS}
#: Last seen 40 days ago: outside a 30-day lookback.
OLD = "old-relay.top"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    st = Store(f"sqlite:///{tmp_path_factory.mktemp('taxii-backend') / 'iocflow.db'}")
    st.upgrade()
    for rank, level in enumerate(Confidence):
        article = Article(f"Relays, {level.value}", f"https://blog.example.net/relays-{level.value}")
        values = [(IndicatorType.DOMAIN, f"relay{i}-{level.value}.example-bad.top") for i in range(4)]
        values += [(IndicatorType.IPV4, f"45.{155 + rank}.205.{i + 10}") for i in range(3)]
        st.record(FEED, [Observation(t, v, confidence=level, article=article) for t, v in values[:3]], now=NOW)
        st.record(FEED, [Observation(t, v, confidence=level) for t, v in values[3:]], now=NOW)
    st.record(FEED, [Observation(IndicatorType.CVE, "CVE-2024-3400"),
                     Observation(IndicatorType.BITCOIN, "1BoatSLRHtKNngkdXEeobR76b53LETtpyT")], now=NOW)
    st.record(FEED, [Observation(IndicatorType.DOMAIN, OLD)], now=NOW - timedelta(days=40))
    try:
        yield st
    finally:
        st.close()


def backend(store: Store, *, lookback_days: int = 30, max_results: int = 10_000) -> TaxiiBackend:
    return TaxiiBackend(store, now=NOW, lookback_days=lookback_days, max_results=max_results)


def expected(store: Store, level: Confidence | None) -> dict[str, dict[str, object]]:
    """The exporter's objects for the collection's indicators, computed without the backend."""
    served = store.iter_indicators(IndicatorQuery(since=NOW - timedelta(days=30), now=NOW))
    return {obj["id"]: obj for obj in stix.build([r for r in served if level in (None, r.confidence)],
                                                 now=NOW).bundle["objects"]}


def walk(api: TaxiiBackend, key: str, limit: int, **filters: str) -> tuple[list[str], list[str]]:
    """Every object id of a collection paged ``limit`` at a time, and every ``next`` handed out."""
    pulled: list[str] = []
    cursors: list[str] = []
    query = ObjectQuery.parse(limit=limit, **filters)
    while True:
        page = api.get_objects(BY_KEY[key], query)
        assert len(page.entries) <= limit
        pulled += [e.obj["id"] for e in page.entries]
        if page.next is None:
            assert page.more is False
            return pulled, cursors
        assert page.more is True and len(page.entries) == limit
        cursors.append(page.next)
        query = ObjectQuery.parse(limit=limit, next=page.next, **filters)


@pytest.mark.parametrize("key", ["all", "high", "medium", "low"])
@pytest.mark.parametrize("limit", [1, 4, 1000])
def test_paging_returns_the_collection_once_in_its_order(store: Store, key: str, limit: int) -> None:
    want = expected(store, BY_KEY[key].confidence)
    pulled, cursors = walk(backend(store), key, limit)
    assert pulled == list(dict.fromkeys(pulled)) and set(pulled) == set(want)
    kinds = [i.partition("--")[0] for i in pulled]
    assert kinds[0] == "identity"  # then the rows, then the Reports by id
    reports = [i for i in pulled if i.startswith("report--")]
    assert kinds[-len(reports):] == ["report"] * len(reports) and reports == sorted(reports)
    listings = [Cursor.decode(c, Listing.INDICATORS, Listing.REPORTS).listing for c in cursors]
    assert listings == sorted(listings, key=lambda listing: listing is Listing.REPORTS)


def test_rows_are_converted_a_chunk_at_a_time(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(taxii_module, "_CHUNK", 2)
    pulled, _ = walk(backend(store), "all", 5)
    assert pulled == walk(backend(store), "all", 1000)[0]


def test_the_lookback_and_added_after_bound_the_rows(store: Store) -> None:
    query = ObjectQuery.parse(types="indicator")
    for lookback, served in ((30, False), (60, True)):
        page = backend(store, lookback_days=lookback).get_objects(BY_KEY["all"], query)
        assert (OLD in {e.obj["name"] for e in page.entries}) is served
    later = ObjectQuery.parse(added_after=(NOW - timedelta(microseconds=1)).isoformat())
    assert {e.obj["type"] for e in backend(store).get_objects(BY_KEY["all"], later).entries} == {
        "indicator", "vulnerability", "report"}  # everything seen now; the Identity was created in 2024
    assert backend(store).get_objects(BY_KEY["all"], ObjectQuery.parse(added_after=NOW.isoformat())).entries == []


def test_types_without_a_stix_object_are_not_served(store: Store) -> None:
    values = {e.obj.get("name") for e in backend(store).get_objects(BY_KEY["all"], ObjectQuery()).entries}
    assert "CVE-2024-3400" in values and "1BoatSLRHtKNngkdXEeobR76b53LETtpyT" not in values


def test_match_id_selects_exactly_those_objects(store: Store) -> None:
    want = expected(store, None)
    picked = [next(i for i in want if i.startswith(kind)) for kind in ("indicator--", "vulnerability--", "report--")]
    page = backend(store).get_objects(BY_KEY["all"], ObjectQuery.parse(ids=",".join([*picked, stix.IDENTITY_ID])))
    assert [e.obj["id"] for e in page.entries] == [stix.IDENTITY_ID, *picked]
    # an indicator's uuid under another STIX type is not that indicator
    swapped = "vulnerability--" + picked[0].partition("--")[2]
    assert backend(store).get_objects(BY_KEY["all"], ObjectQuery.parse(ids=swapped)).entries == []


@pytest.mark.parametrize("ids", ["indicator--not-a-uuid", "malware--00000000-0000-5000-8000-000000000000",
                                 "indicator--00000000-0000-5000-8000-000000000000"])
def test_match_id_naming_no_stored_row_selects_nothing(store: Store, ids: str) -> None:
    """Not "every row": an IndicatorQuery with no ids is unfiltered, so such a match never reaches the store."""
    assert backend(store).get_objects(BY_KEY["all"], ObjectQuery.parse(ids=ids)).entries == []


def test_get_object_is_not_found_outside_its_collection(store: Store) -> None:
    low = next(i for i, obj in expected(store, Confidence.LOW).items() if obj["type"] == "indicator")
    with pytest.raises(NotFound):
        backend(store).get_object(BY_KEY["high"], low, ObjectQuery())
    page = backend(store).get_object(BY_KEY["all"], low, ObjectQuery())
    assert [e.obj["id"] for e in page.entries] == [low]
    versions = backend(store).get_versions(BY_KEY["all"], low, ObjectQuery())
    assert [e.version for e in versions.entries] == [page.entries[0].obj["modified"]]
    # filtered out is not absent: a version that does not match is an empty answer, not NotFound
    old = ObjectQuery.parse(versions="2020-01-01T00:00:00Z")
    assert backend(store).get_object(BY_KEY["all"], low, old).entries == []


def test_an_unknown_collection_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        backend(store).collection("not-a-collection")
    assert backend(store).collection(BY_KEY["low"].id) is BY_KEY["low"]


def test_reports_are_dated_by_their_latest_indicator(store: Store) -> None:
    page = backend(store).get_manifest(BY_KEY["all"], ObjectQuery.parse(types="report"))
    records = [manifest_record(e) for e in page.entries]
    assert len(records) == 3  # one article per level
    assert all(r["date_added"] == NOW.strftime("%Y-%m-%dT%H:%M:%S.%fZ") for r in records)


def test_max_results_caps_a_page(store: Store) -> None:
    page = backend(store, max_results=3).get_objects(BY_KEY["all"], ObjectQuery.parse(limit=50))
    assert len(page.entries) == 3 and page.more and page.next


@pytest.mark.parametrize(("filters", "parameter"), [
    ({"added_after": "yesterday"}, "added_after"),
    ({"versions": "last,newest"}, "match[version]"),
    ({"next": "rows:12"}, "next"),
    ({"next": Cursor(Listing.ARTICLES, ("2026-01-01T00:00:00+00:00", "a1")).encode()}, "next"),
    ({"next": Cursor(Listing.REPORTS, ("indicator--00000000-0000-5000-8000-000000000000",)).encode()}, "next"),
])
def test_unreadable_parameters_are_invalid(filters: dict[str, str], parameter: str) -> None:
    with pytest.raises(InvalidParameter) as refused:
        ObjectQuery.parse(**filters)
    assert refused.value.parameter == parameter and refused.value.details["parameter"] == parameter

