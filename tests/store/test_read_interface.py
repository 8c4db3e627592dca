"""The store's read interface on SQLite and PostgreSQL: paging, walking, queries, detail, keys, feeds, frozen records."""

from __future__ import annotations

import base64
import dataclasses
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from iocflow.exceptions import AlreadyExists, InvalidCursor, InvalidParameter, NotFound
from iocflow.store.feeds import FeedConfig
from iocflow.store.filters import EVERYTHING, ArticleQuery, IndicatorQuery
from iocflow.store.records import Article, Observation, Source, indicator_id
from iocflow.store.store import Store
from iocflow.store.views import IndicatorDetail, IndicatorRecord, Page, Sighting
from iocflow.store.vocabulary import (
    INDUSTRIES,
    Confidence,
    IndicatorType,
    Reliability,
    SourceCategory,
    SourceKind,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FEED = Source("test-feed", SourceKind.FEED, SourceCategory.THREAT_INTEL, Reliability.B)
BLOG = Source("test-blog", SourceKind.ARTICLE, SourceCategory.RESEARCH, Reliability.C)
SHAKY = Source("shaky", SourceKind.FEED, SourceCategory.COMMUNITY, Reliability.E)

DOMAINS = [f"host{i}.iocflow-test.org" for i in range(7)]
IPS = ["45.77.1.2", "45.77.1.3", "45.77.1.4"]


def _fill(store: Store) -> None:
    """Seven domains and three IPv4 addresses, interleaved so a type filter leaves gaps in the row keys."""
    observations = []
    for i, domain in enumerate(DOMAINS):
        observations.append(Observation(IndicatorType.DOMAIN, domain))
        if i < len(IPS):
            observations.append(Observation(IndicatorType.IPV4, IPS[i]))
    store.record(FEED, observations, now=T0)


def _values(records: list[IndicatorRecord]) -> list[str]:
    return [r.value for r in records]


def _cursor(*parts: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(parts))).decode("ascii").rstrip("=")


def _articles_cursor(store: Store) -> str:
    """A real cursor handed out by the articles listing (two articles, a page of one)."""
    for n in (1, 2):
        article = Article(f"Report {n}", f"https://blog.iocflow-test.org/{n}")
        store.record(BLOG, [Observation(IndicatorType.DOMAIN, f"art{n}.iocflow-test.org", article=article)],
                     now=T0 + timedelta(hours=n))
    page = store.articles(ArticleQuery(), limit=1)
    assert page.next_cursor is not None
    return page.next_cursor


# -- indicators(): keyset pages ------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 3, 4, 10])
def test_paging_by_cursor_visits_every_row_once(store: Store, size: int) -> None:
    _fill(store)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = store.indicators(EVERYTHING, limit=size, cursor=cursor)
        assert isinstance(page, Page)
        assert len(page.items) <= size
        assert page.total is None  # not asked for
        seen += _values(list(page.items))
        pages += 1
        if page.next_cursor is None:
            break
        assert len(page.items) == size  # only a full page can have a next one
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == len(DOMAINS) + len(IPS)
    assert set(seen) == set(DOMAINS) | set(IPS)
    assert pages == -(-len(seen) // size)  # a selection that fills its last page exactly has no empty page after


def test_the_last_page_has_no_next_cursor(store: Store) -> None:
    _fill(store)
    everything = store.indicators(EVERYTHING, limit=10)
    assert len(everything.items) == 10 and everything.next_cursor is None
    assert store.indicators(EVERYTHING, limit=11).next_cursor is None
    first = store.indicators(EVERYTHING, limit=9)
    assert first.next_cursor is not None
    last = store.indicators(EVERYTHING, limit=9, cursor=first.next_cursor)
    assert _values(list(last.items)) == [r.value for r in everything.items[9:]]
    assert last.next_cursor is None
    empty = store.indicators(IndicatorQuery(types=(IndicatorType.SHA256,)), limit=5)
    assert list(empty.items) == [] and empty.next_cursor is None


def test_total_only_when_asked_for(store: Store) -> None:
    _fill(store)
    domains = IndicatorQuery(types=(IndicatorType.DOMAIN,))
    assert store.indicators(domains, limit=2).total is None
    first = store.indicators(domains, limit=2, with_total=True)
    assert first.total == len(DOMAINS) == store.count(domains)
    assert first.next_cursor is not None
    second = store.indicators(domains, limit=2, cursor=first.next_cursor, with_total=True)
    assert second.total == len(DOMAINS)  # the whole selection, not what is left of it
    assert store.indicators(domains, limit=2, cursor=first.next_cursor).total is None


def test_paging_a_filtered_selection(store: Store) -> None:
    _fill(store)
    ips = IndicatorQuery(types=(IndicatorType.IPV4,))
    first = store.indicators(ips, limit=2)
    assert _values(list(first.items)) == IPS[:2] and first.next_cursor is not None
    rest = store.indicators(ips, limit=2, cursor=first.next_cursor)
    assert _values(list(rest.items)) == IPS[2:] and rest.next_cursor is None


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!not-base64!!!",
        _cursor("i"),  # no position
        _cursor("i", "12"),  # a row key as text
        _cursor("i", -1),
        _cursor("i", 2**63),
        _cursor("i", 1, 2),
        _cursor("x", 1),  # no such listing
        _cursor("r", "5d1c3b9e-0000-4000-8000-000000000000"),  # TAXII Reports'
        base64.urlsafe_b64encode(b'{"i": 1}').decode(),
        _cursor("i", 1) * 20,  # longer than any cursor handed out
    ],
)
def test_a_garbage_cursor_is_refused(store: Store, cursor: str) -> None:
    _fill(store)
    with pytest.raises(InvalidCursor):
        store.indicators(EVERYTHING, limit=2, cursor=cursor)


def test_an_articles_cursor_is_refused_by_the_indicators(store: Store) -> None:
    cursor = _articles_cursor(store)
    assert len(store.articles(ArticleQuery(), limit=1, cursor=cursor).items) == 1  # valid where it came from
    with pytest.raises(InvalidCursor):
        store.indicators(EVERYTHING, limit=2, cursor=cursor)
    with pytest.raises(InvalidCursor):
        store.walk_indicators(EVERYTHING, cursor=cursor)
    indicators_cursor = store.indicators(EVERYTHING, limit=1).next_cursor
    assert indicators_cursor is not None
    with pytest.raises(InvalidCursor):
        store.articles(ArticleQuery(), limit=1, cursor=indicators_cursor)


def test_an_articles_cursor_with_a_bad_time_is_refused(store: Store) -> None:
    with pytest.raises(InvalidCursor):
        store.articles(ArticleQuery(), limit=1, cursor=_cursor("a", "not-a-time", "some-article"))


# -- walk_indicators(): the bounded-memory iterator ----------------------------------------------


def test_walk_yields_every_row_once(store: Store) -> None:
    _fill(store)
    walked = list(store.walk_indicators(EVERYTHING, chunk=2))
    values = [r.value for _, r in walked]
    assert len(values) == len(set(values)) == len(DOMAINS) + len(IPS)
    assert values == _values(list(store.indicators(EVERYTHING, limit=100).items))  # the same order as the pages
    assert len({c for c, _ in walked}) == len(walked)  # each row its own cursor


def test_walk_of_an_empty_selection_yields_nothing(store: Store) -> None:
    _fill(store)
    assert list(store.walk_indicators(IndicatorQuery(types=(IndicatorType.SHA256,)), chunk=2)) == []


@pytest.mark.parametrize("limit", [0, 1, 2, 3, 5, 10, 50])
def test_walk_respects_the_limit(store: Store, limit: int) -> None:
    _fill(store)
    walked = [r.value for _, r in store.walk_indicators(EVERYTHING, chunk=2, limit=limit)]
    everything = _values(list(store.indicators(EVERYTHING, limit=100).items))
    assert walked == everything[:limit]
    assert list(store.iter_indicators(EVERYTHING, limit=limit)) == list(store.indicators(EVERYTHING, limit=100).items)[:limit]


def test_walk_resumes_from_a_yielded_cursor(store: Store) -> None:
    _fill(store)
    walked = list(store.walk_indicators(EVERYTHING, chunk=2))
    for i, (cursor, _) in enumerate(walked):
        rest = [r.value for _, r in store.walk_indicators(EVERYTHING, chunk=2, cursor=cursor)]
        assert rest == [r.value for _, r in walked[i + 1:]]
    # the cursors are the listing's: a page after one starts where the walk would go on
    cursor = walked[3][0]
    assert _values(list(store.indicators(EVERYTHING, limit=2, cursor=cursor).items)) == [r.value for _, r in walked[4:6]]
    # and a page's next_cursor resumes a walk
    page = store.indicators(EVERYTHING, limit=4)
    assert page.next_cursor is not None
    assert [r.value for _, r in store.walk_indicators(EVERYTHING, chunk=2, cursor=page.next_cursor)] == \
        [r.value for _, r in walked[4:]]


def test_walk_refuses_a_bad_cursor_before_iterating(store: Store) -> None:
    _fill(store)
    with pytest.raises(InvalidCursor):
        store.walk_indicators(EVERYTHING, cursor="garbage", chunk=2)  # raised by the call, no next() needed
    with pytest.raises(InvalidCursor):
        store.iter_indicators(EVERYTHING, cursor=_cursor("i", -5))


def test_walk_sees_rows_added_while_it_runs_after_the_ones_it_served(store: Store) -> None:
    _fill(store)
    walk = store.walk_indicators(EVERYTHING, chunk=2)
    first = [next(walk)[1].value for _ in range(3)]
    store.record(FEED, [Observation(IndicatorType.DOMAIN, "late.iocflow-test.org")], now=T0)
    rest = [r.value for _, r in walk]
    assert first + rest == [*_values(list(store.indicators(EVERYTHING, limit=100).items))]
    assert rest[-1] == "late.iocflow-test.org"


# -- IndicatorQuery ------------------------------------------------------------------------------


def test_ids_select_exactly_those(store: Store) -> None:
    _fill(store)
    wanted = [indicator_id(IndicatorType.DOMAIN, DOMAINS[1]), indicator_id(IndicatorType.IPV4, IPS[2]),
              indicator_id(IndicatorType.DOMAIN, DOMAINS[6])]
    absent = indicator_id(IndicatorType.DOMAIN, "never-stored.iocflow-test.org")
    query = IndicatorQuery(ids=(*wanted, absent), include_expired=True, include_allowlisted=True)
    got = list(store.iter_indicators(query))
    assert sorted(r.id for r in got) == sorted(wanted)
    assert {r.value for r in got} == {DOMAINS[1], IPS[2], DOMAINS[6]}
    assert store.count(query) == 3
    assert store.indicators(query, limit=10, with_total=True).total == 3
    # combined with another filter, both apply
    assert [r.value for r in store.iter_indicators(dataclasses.replace(query, types=(IndicatorType.IPV4,)))] == [IPS[2]]


@pytest.mark.parametrize(
    ("arguments", "parameter", "valid_key", "valid"),
    [
        ({"types": "ipv4,nosuchtype"}, "type", "valid_types", [t.value for t in IndicatorType]),
        ({"categories": "vendor,tabloid"}, "category", "valid_categories", [c.value for c in SourceCategory]),
        ({"industries": "finance,underwater-basket-weaving"}, "industry", "valid_industries", sorted(INDUSTRIES)),
        ({"min_confidence": "extreme"}, "confidence", "valid_confidences", [c.value for c in Confidence]),
    ],
)
def test_parse_refuses_unknown_values_naming_the_parameter(arguments: dict[str, str], parameter: str, valid_key: str,
                                                           valid: list[str]) -> None:
    with pytest.raises(InvalidParameter) as caught:
        IndicatorQuery.parse(**arguments)  # type: ignore[arg-type]
    error = caught.value
    assert error.parameter == parameter
    assert error.details["parameter"] == parameter
    assert sorted(error.details[valid_key]) == sorted(valid)  # type: ignore[type-var]
    bad = arguments[next(iter(arguments))].split(",")[-1]
    assert bad in str(error)


def test_parse_accepts_what_it_lists() -> None:
    query = IndicatorQuery.parse(types="IPv4, domain,ipv4", categories="vendor", industries="finance",
                                 min_confidence="High", feeds="a, b,")
    assert query.types == (IndicatorType.IPV4, IndicatorType.DOMAIN)
    assert query.categories == (SourceCategory.VENDOR,)
    assert query.industries == ("finance",)
    assert query.min_confidence is Confidence.HIGH
    assert query.feeds == ("a", "b")
    assert IndicatorQuery.parse() == IndicatorQuery()


# -- indicator(): one indicator with its sightings -----------------------------------------------


def test_indicator_detail_lists_sightings_newest_first(store: Store) -> None:
    value = "detail.iocflow-test.org"
    store.record(FEED, [Observation(IndicatorType.DOMAIN, value, malware="Emotet")], now=T0)
    store.record(BLOG, [Observation(IndicatorType.DOMAIN, value, context=f"It calls {value}.",
                                    article=Article("A report", "https://blog.iocflow-test.org/r"))],
                 now=T0 + timedelta(days=1))
    store.record(SHAKY, [Observation(IndicatorType.DOMAIN, value)], now=T0 + timedelta(days=2))
    detail = store.indicator(IndicatorType.DOMAIN, value)
    assert isinstance(detail, IndicatorDetail)
    assert detail.record.value == value and detail.record.type is IndicatorType.DOMAIN
    assert detail.record.id == indicator_id(IndicatorType.DOMAIN, value)
    assert (detail.record.source_count, detail.record.sighting_count) == (3, 3)
    assert all(isinstance(s, Sighting) for s in detail.sightings)
    assert [s.feed_name for s in detail.sightings] == ["shaky", "test-blog", "test-feed"]
    assert [s.last_seen for s in detail.sightings] == [T0 + timedelta(days=2), T0 + timedelta(days=1), T0]
    shaky, blog, feed = detail.sightings
    assert (feed.malware, feed.kind, feed.category, feed.reliability, feed.article_id) == (
        "Emotet", SourceKind.FEED, SourceCategory.THREAT_INTEL, Reliability.B, None)
    assert blog.kind is SourceKind.ARTICLE and blog.context == f"It calls {value}." and blog.article_id is not None
    assert shaky.category is SourceCategory.COMMUNITY
    # the record's latest source is the newest sighting's
    assert detail.record.source is not None and detail.record.source.feed_name == "shaky"
    # a source that reports it again moves to the front
    store.record(FEED, [Observation(IndicatorType.DOMAIN, value)], now=T0 + timedelta(days=3))
    again = store.indicator(IndicatorType.DOMAIN, value)
    assert again is not None and [s.feed_name for s in again.sightings] == ["test-feed", "shaky", "test-blog"]
    assert store.indicator_by_id(detail.record.id) == again


def test_an_unknown_indicator_is_none(store: Store) -> None:
    _fill(store)
    assert store.indicator(IndicatorType.DOMAIN, "never-stored.iocflow-test.org") is None
    assert store.indicator(IndicatorType.IPV4, DOMAINS[0]) is None  # a stored value, under another type
    assert store.indicator_by_id(indicator_id(IndicatorType.MD5, "0" * 32)) is None


# -- keys and feeds ------------------------------------------------------------------------------


def test_revoking_an_unknown_key_is_not_found(store: Store) -> None:
    key, _ = store.create_key(name="kept", tier="pro", scopes=("read:iocs",))
    with pytest.raises(NotFound):
        store.revoke_key("no-such-key")
    with pytest.raises(NotFound):
        store.revoke_key("sk_live_nope")
    assert [k.id for k in store.keys()] == [key.id] and store.keys()[0].active  # nothing else was touched


def test_adding_a_feed_twice_already_exists(store: Store) -> None:
    config = FeedConfig("tf", "https://threatfox.example/export.json", "threatfox", 30, SourceCategory.THREAT_INTEL,
                        Reliability.B)
    store.add_feed(config)
    with pytest.raises(AlreadyExists):
        store.add_feed(dataclasses.replace(config, url="https://elsewhere.example/"))
    assert store.feeds() == [config]  # the first one stands
    assert store.feed("tf") == config


def test_removing_an_unknown_feed_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.remove_feed("nosuch")
    config = FeedConfig("tf", "https://threatfox.example/export.json", "threatfox", 30, SourceCategory.THREAT_INTEL,
                        Reliability.B)
    store.add_feed(config)
    store.remove_feed("tf")
    assert store.feed("tf") is None
    with pytest.raises(NotFound):
        store.remove_feed("tf")


# -- the records are frozen ----------------------------------------------------------------------


def test_records_are_frozen(store: Store) -> None:
    store.record(FEED, [Observation(IndicatorType.DOMAIN, "frozen.iocflow-test.org", tags=("a",))], now=T0)
    detail = store.indicator(IndicatorType.DOMAIN, "frozen.iocflow-test.org")
    assert detail is not None
    record, [sighting] = detail.record, detail.sightings
    page = store.indicators(EVERYTHING, limit=1)
    key, _ = store.create_key(name="k", tier="pro", scopes=("read:iocs",))
    for thing, field, value in [
        (record, "value", "changed.iocflow-test.org"),
        (record, "allowlisted", True),
        (detail, "sightings", ()),
        (sighting, "feed_name", "someone-else"),
        (page, "next_cursor", "x"),
        (key, "tier", "enterprise"),
    ]:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(thing, field, value)
    assert isinstance(record.tags, tuple) and isinstance(detail.sightings, tuple)
    with pytest.raises(AttributeError):
        record.tags.append("b")  # type: ignore[attr-defined]
    assert store.indicator(IndicatorType.DOMAIN, "frozen.iocflow-test.org") == detail
