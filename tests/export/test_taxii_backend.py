"""The TAXII backend over a Store, without HTTP: the walk, paging by the store's cursor, filters, domain errors.

One SQLite store per module holds a few indicators at each confidence level
(some from articles, one outside the lookback, one of a type STIX cannot
express); every test only reads it. A larger store (a few thousand indicators, on
SQLite and PostgreSQL) shows that the filters are answered by the store's
query: the backend reads about as many records as the answer holds. The HTTP
side, and taxii2-client against a served app, are in ``tests/api/test_taxii.py``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from iocflow.exceptions import InvalidParameter, NotFound
from iocflow.export import stix
from iocflow.export import taxii as taxii_module
from iocflow.export.taxii import COLLECTIONS, ObjectQuery, TaxiiBackend, manifest_record, timestamp
from iocflow.store.cursor import Cursor, Listing
from iocflow.store.filters import IndicatorQuery
from iocflow.store.records import Article, Observation, Source
from iocflow.store.store import Store
from iocflow.store.views import IndicatorRecord
from iocflow.store.vocabulary import Confidence, IndicatorType, Reliability, SourceCategory, SourceKind
from tests.services import postgres_url

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


# -- the filters are answered by the store's query: reads follow the result, not the store -----------------

#: Feed indicators in the larger store, in three batches a day apart, none from an article.
FEED_ROWS = 3000
#: Article k's indicators were last seen ARTICLE_HOURS[k] hours ago.
ARTICLE_HOURS = (10, 9, 8, 7)
PER_ARTICLE = 10


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def big(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A few thousand feed indicators and four articles seen at their own times. Article 0's first indicator
    was seen again later from the feed, so it left article 0's Report; article 2's first is also article 3's,
    so it is in article 3's Report only."""
    admin, schema = None, f"iocflow_taxii_{secrets.token_hex(4)}"
    if request.param == "sqlite":
        st = Store(f"sqlite:///{tmp_path_factory.mktemp('taxii-big') / 'iocflow.db'}")
    else:
        url, why = postgres_url()
        if url is None:
            pytest.skip(why)
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        st = Store(f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}")
    try:
        st.upgrade()
        for day in range(3):
            rows = range(day * FEED_ROWS // 3, (day + 1) * FEED_ROWS // 3)
            st.record(FEED, [Observation(IndicatorType.IPV4, f"45.{100 + i // 250}.{i % 250}.7") for i in rows],
                      now=NOW - timedelta(days=3 - day))
        for k, hours in enumerate(ARTICLE_HOURS):
            article = Article(f"Campaign {k}", f"https://blog.example.net/campaign-{k}")
            values = [f"c{k}-host{i}.example-bad.top" for i in range(PER_ARTICLE)]
            if k == 3:
                values[0] = "c2-host0.example-bad.top"
            st.record(FEED, [Observation(IndicatorType.DOMAIN, v, article=article) for v in values],
                      now=NOW - timedelta(hours=hours))
        st.record(FEED, [Observation(IndicatorType.DOMAIN, "c0-host0.example-bad.top")],
                  now=NOW - timedelta(hours=6))
        yield st
    finally:
        st.close()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


@pytest.fixture
def reads(big: Store, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many records the backend has read from ``big`` (``iter_indicators`` reads through ``walk_indicators``)."""
    count = [0]
    walk = big.walk_indicators

    def counted(*args: Any, **kwargs: Any) -> Iterator[tuple[str, IndicatorRecord]]:
        for item in walk(*args, **kwargs):
            count[0] += 1
            yield item

    monkeypatch.setattr(big, "walk_indicators", counted)
    return count


def big_backend(store: Store) -> TaxiiBackend:
    return backend(store, max_results=100_000)


def after_the_walk(store: Store, query: ObjectQuery) -> list[tuple[str, datetime, dict[str, Any]]]:
    """What a page held when the filters were applied after walking the collection: every object, then
    ``wants`` and ``matches`` on each."""
    everything = big_backend(store).get_objects(BY_KEY["all"], ObjectQuery(limit=100_000))
    assert not everything.more
    return [(e.obj["id"], e.date_added, e.obj) for e in everything.entries
            if query.wants(e.obj["type"], e.obj["id"]) and query.matches(e)]


def modified_of(store: Store, kind: IndicatorType, value: str) -> str:
    """The indicator's STIX ``modified``: its ``last_seen`` to the millisecond."""
    found = store.indicator(kind, value)
    assert found is not None
    return timestamp(found.record.last_seen)[:-4] + "Z"


def test_the_big_store_is_a_few_thousand_indicators(big: Store) -> None:
    assert big.count() == FEED_ROWS + len(ARTICLE_HOURS) * PER_ARTICLE - 1


@pytest.mark.parametrize(("case", "filters", "objects", "at_most"), [
    # every object is STIX 2.1: nothing is read
    ("spec 2.0", {"spec_versions": "2.0"}, 0, 0),
    # article 2's rows (minus the one article 3 saw later) and their Report: the rows, then the Report's members
    # twice (once more c2-host0, which article 2 saw too)
    ("version of article 2", {"versions": "article-2"}, PER_ARTICLE - 1 + 1, 3 * (PER_ARTICLE - 1) + 1),
    # a feed batch: its rows, no Report (no article indicator was seen then); the Reports pass reads nothing
    ("version of a feed batch", {"versions": "feed-batch"}, FEED_ROWS // 3, FEED_ROWS // 3),
    ("added_after in the future", {"added_after": (NOW + timedelta(days=1)).isoformat()}, 0, 0),
    # articles 3 (all ten: c2-host0 was seen again with it) and the feed's c0-host0: rows, then Report 3's members
    ("added_after between articles 2 and 3",
     {"added_after": (NOW - timedelta(hours=7, minutes=30)).isoformat()}, PER_ARTICLE + 1 + 1, 3 * PER_ARTICLE + 2),
    # the Reports only: every article indicator, once, and no feed row
    ("reports", {"types": "report"}, len(ARTICLE_HOURS), len(ARTICLE_HOURS) * PER_ARTICLE),
])
def test_filters_read_what_they_select(big: Store, reads: list[int], case: str, filters: dict[str, str],
                                       objects: int, at_most: int) -> None:
    """The issue-12 cases: the backend reads O(result) records and answers what filtering after the walk did."""
    if filters.get("versions") == "article-2":
        filters = {"versions": modified_of(big, IndicatorType.DOMAIN, "c2-host1.example-bad.top")}
    elif filters.get("versions") == "feed-batch":
        filters = {"versions": modified_of(big, IndicatorType.IPV4, "45.100.0.7")}
    query = ObjectQuery.parse(limit=100_000, **filters)
    page = big_backend(big).get_objects(BY_KEY["all"], query)
    read = reads[0]
    assert len(page.entries) == objects, case
    assert read <= at_most, f"{case}: read {read} records for {objects} objects"
    assert [(e.obj["id"], e.date_added, e.obj) for e in page.entries] == after_the_walk(big, query)
    assert reads[0] - read > FEED_ROWS  # the unfiltered walk that filtering after it needs reads every row


def test_a_filtered_reports_page_pages_like_the_rest(big: Store) -> None:
    """Paging through the narrowed Reports pass hands out Report cursors and ends where the whole walk does."""
    after = (NOW - timedelta(hours=9, minutes=30)).isoformat()
    pulled: list[str] = []
    query = ObjectQuery.parse(limit=2, added_after=after)
    while True:
        page = big_backend(big).get_objects(BY_KEY["all"], query)
        pulled += [e.obj["id"] for e in page.entries]
        if page.next is None:
            break
        query = ObjectQuery.parse(limit=2, added_after=after, next=page.next)
    assert pulled == [i for i, _, _ in after_the_walk(big, ObjectQuery.parse(added_after=after))]
    assert sum(i.startswith("report--") for i in pulled) == 3  # articles 1, 2 and 3


def test_a_version_below_the_millisecond_selects_nothing(big: Store, reads: list[int]) -> None:
    """``modified`` is written to the millisecond, so a timestamp with microseconds names no version."""
    version = modified_of(big, IndicatorType.DOMAIN, "c2-host1.example-bad.top")[:-1] + "001Z"
    page = big_backend(big).get_objects(BY_KEY["all"], ObjectQuery.parse(versions=version))
    assert page.entries == [] and reads[0] == 0


def test_the_query_fields_the_backend_relies_on(big: Store) -> None:
    """``seen_within``, ``with_article`` and ``articles`` select what a filter over every record selects."""
    everything = list(big.iter_indicators(IndicatorQuery()))
    spans = ((NOW - timedelta(hours=8, minutes=1), NOW - timedelta(hours=7, minutes=59)),  # article 2
             (NOW - timedelta(days=4), NOW - timedelta(days=2, hours=12)))  # the first feed batch
    within = {r.id for r in everything if any(a <= r.last_seen < b for a, b in spans)}
    assert {r.id for r in big.iter_indicators(IndicatorQuery(seen_within=spans))} == within
    assert len(within) == PER_ARTICLE - 1 + FEED_ROWS // 3
    linked = {r.id for r in big.iter_indicators(IndicatorQuery(with_article=True))}
    assert linked == {r.id for r in everything if r.type is IndicatorType.DOMAIN}  # c0-host0 too: it had one
    third = Article("Campaign 3", "https://blog.example.net/campaign-3").id
    in_third = {r.value for r in big.iter_indicators(IndicatorQuery(articles=(third,)))}
    assert in_third == {f"c3-host{i}.example-bad.top" for i in range(1, PER_ARTICLE)} | {"c2-host0.example-bad.top"}
    assert big.count(IndicatorQuery(articles=(third,), with_article=True, seen_within=spans)) == 0
