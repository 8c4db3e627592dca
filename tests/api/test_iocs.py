"""``GET /api/v1/iocs``: shape, filters, tier clamps, formats, exclusions and paging (issue section 2)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from iocflow.store.cursor import Cursor, Listing, indicators_after
from iocflow.store.store import Store
from iocflow.store.vocabulary import IndicatorType, SourceCategory
from tests.api.conftest import (
    ALLOWLISTED_IP,
    ARTICLE_DOMAIN,
    ARTICLE_IP,
    ARTICLE_SHA256,
    ARTICLE_TITLE,
    Api,
    assert_error,
    record,
)

FEED = "/api/v1/iocs"
CSV_HEADER = ["id", "type", "value", "confidence", "first_seen", "last_seen", "source_article", "source_feed",
              "category", "tags"]
#: What the default pro request serves from the sample data: the rows seen now, not expired, not allowlisted.
ARTICLE_VALUES = {ARTICLE_IP, ARTICLE_DOMAIN, ARTICLE_SHA256, "https://paper-lantern.top/gate.php",
                  "files-sync-cdn.xyz", "9b1c3e5a7d9f1b3c5e7a9d1f3b5c7e9a", "CVE-2025-24813",
                  "abuse-reports@paper-lantern.top", "T1566.001", "T1574.002"}


def values(answer: Any) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [item["value"] for item in answer.json()["data"]]


def walk(api: Api, params: dict[str, Any], key: str = "pro", *, between: Callable[[int], None] | None = None
         ) -> list[dict[str, Any]]:
    """Every item of the feed, following ``links.next`` (``between(n)`` runs after page n)."""
    items: list[dict[str, Any]] = []
    answer = api.get(FEED, key=key, params=params)
    pages = 0
    while True:
        assert answer.status_code == 200, answer.text
        body = answer.json()
        items += body["data"]
        pages += 1
        assert pages < 200, "paging does not end"
        if between is not None:
            between(pages)
        nxt = body["links"]["next"]
        assert (nxt is None) == (body["meta"]["next_cursor"] is None)
        if nxt is None:
            return items
        assert parse_qs(urlsplit(nxt).query)["cursor"] == [body["meta"]["next_cursor"]]
        answer = api.get(nxt, key=key)


# -- the JSON shape ------------------------------------------------------------------------------


def test_json_shape(api: Api) -> None:
    answer = api.get(FEED, params={"limit": 3})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert set(body) == {"meta", "data", "links"}
    meta = body["meta"]
    assert {"total", "limit", "offset", "generated_at", "feed_version", "source", "filters"} <= set(meta)
    assert meta["limit"] == 3 and meta["offset"] == 0 and meta["source"] == "iocflow"
    assert meta["total"] >= len(ARTICLE_VALUES) and isinstance(meta["feed_version"], str)
    assert datetime.fromisoformat(meta["generated_at"]).tzinfo is not None
    assert set(meta["filters"]) >= {"type", "category", "confidence", "industry", "feed", "since", "until"}
    assert len(body["data"]) == 3
    for item in body["data"]:
        assert set(item) == {"id", "type", "value", "confidence", "first_seen", "last_seen", "source", "context",
                             "tags", "mitre_techniques"}
        assert set(item["source"]) == {"article_id", "article_title", "article_url", "feed_name", "category"}
        assert item["context"] is None  # only with include_context
        assert isinstance(item["tags"], list) and isinstance(item["mitre_techniques"], list)
        assert datetime.fromisoformat(item["first_seen"]) <= datetime.fromisoformat(item["last_seen"])
    assert set(body["links"]) == {"self", "next", "prev"}
    assert body["links"]["self"] == "/api/v1/iocs?limit=3"
    assert body["links"]["prev"] is None


def test_article_item_names_its_source(api: Api) -> None:
    data = api.get(FEED, params={"feed": "articles", "type": "ipv4"}).json()["data"]
    assert [d["value"] for d in data] == [ARTICLE_IP]
    item = data[0]
    assert item["source"]["article_title"] == ARTICLE_TITLE
    assert item["source"]["article_id"]
    assert item["source"]["feed_name"] == "articles" and item["source"]["category"] == "research"
    assert item["confidence"] == "medium"
    assert set(item["mitre_techniques"]) == {"T1566.001", "T1574.002"}


def test_default_request_serves_fresh_rows_only(api: Api) -> None:
    served = {item["value"]: item for item in walk(api, {})}
    assert ARTICLE_VALUES <= set(served)
    assert ALLOWLISTED_IP not in served
    assert "51.178.161.32" not in served  # Feodo sample row, last seen 2024
    now = datetime.now(UTC)
    assert all(now - datetime.fromisoformat(i["last_seen"]) <= timedelta(days=365) for i in served.values())


# -- filters -------------------------------------------------------------------------------------


def test_type_filter_takes_a_comma_list(api: Api) -> None:
    data = api.get(FEED, params={"type": "ipv4, DOMAIN"}).json()["data"]
    assert {d["type"] for d in data} == {"ipv4", "domain"}
    assert api.get(FEED, params={"type": "ipv4,domain"}).json()["meta"]["filters"]["type"] == ["ipv4", "domain"]


def test_invalid_type_is_400_with_valid_types(api: Api) -> None:
    details = assert_error(api.get(FEED, params={"type": "ipv4,ipv5"}), 400, "invalid_parameter")
    assert details["parameter"] == "type"
    assert details["valid_types"] == [t.value for t in IndicatorType]
    assert "ipv4" in details["valid_types"] and "ipv5" not in details["valid_types"]


@pytest.mark.parametrize(("params", "detail"), [
    ({"category": "tabloid"}, "valid_categories"),
    ({"industry": "piracy"}, "valid_industries"),
])
def test_invalid_list_values_are_400_with_valid_values(api: Api, params: dict[str, str], detail: str) -> None:
    details = assert_error(api.get(FEED, params=params), 400, "invalid_parameter")
    assert details["parameter"] == next(iter(params))
    assert details[detail]


@pytest.mark.parametrize("params", [
    {"confidence": "certain"}, {"limit": "0"}, {"limit": "ten"}, {"offset": "-1"}, {"since": "yesterday"},
    {"format": "xml"}, {"cursor": "abc"}, {"cursor": "-5"}, {"cursor": "999999999"},
    {"cursor": Cursor(Listing.ARTICLES, ("2026-01-01T00:00:00+00:00", "x")).encode()},
    {"cursor": Cursor(Listing.INDICATORS, ("12",)).encode()},
])
def test_bad_parameters_are_400(api: Api, params: dict[str, str]) -> None:
    assert_error(api.get(FEED, params=params), 400, "invalid_parameter")


def test_category_filter(api: Api) -> None:
    research = api.get(FEED, params={"category": "research"}).json()["data"]
    assert {d["value"] for d in research} == ARTICLE_VALUES
    intel = {d["value"] for d in api.get(FEED, params={"category": "threat-intel", "limit": 1000}).json()["data"]}
    assert intel and not intel & ARTICLE_VALUES
    both = api.get(FEED, params={"category": "research,threat-intel", "limit": 1000}).json()["data"]
    assert len(both) == len(research) + len(intel)


def test_confidence_is_a_minimum(api: Api) -> None:
    high = api.get(FEED, params={"confidence": "high", "limit": 1000}).json()["data"]
    assert high and {d["confidence"] for d in high} == {"high"}
    medium = api.get(FEED, params={"confidence": "medium", "limit": 1000}).json()["data"]
    assert {d["confidence"] for d in medium} == {"high", "medium"}
    everything = api.get(FEED, params={"limit": 1000}).json()["data"]
    assert len(api.get(FEED, params={"confidence": "low", "limit": 1000}).json()["data"]) == len(everything)
    assert len(medium) == len([d for d in everything if d["confidence"] != "low"])


def test_industry_filter(api: Api, store: Store) -> None:
    record(store, [(IndicatorType.IPV4, "45.155.205.233")], industries=("energy",))
    assert set(values(api.get(FEED, params={"industry": "finance"}))) == ARTICLE_VALUES
    assert values(api.get(FEED, params={"industry": "energy"})) == ["45.155.205.233"]
    assert set(values(api.get(FEED, params={"industry": "energy,healthcare"}))) == ARTICLE_VALUES | {"45.155.205.233"}
    assert values(api.get(FEED, params={"industry": "water"})) == []


def test_feed_filter(api: Api) -> None:
    assert set(values(api.get(FEED, params={"feed": "articles"}))) == ARTICLE_VALUES
    threatfox = api.get(FEED, params={"feed": "threatfox"}).json()["data"]
    assert threatfox and {d["source"]["feed_name"] for d in threatfox} == {"threatfox"}
    assert values(api.get(FEED, params={"feed": "no-such-feed"})) == []


def test_since_and_until(api: Api, store: Store) -> None:
    now = datetime.now(UTC)
    record(store, [(IndicatorType.DOMAIN, "three-hours-ago-c2.top")], now=now - timedelta(hours=3))
    cut = (now - timedelta(hours=2)).isoformat()
    before = values(api.get(FEED, params={"until": cut}))
    assert before == ["three-hours-ago-c2.top"]
    after = values(api.get(FEED, params={"since": cut, "limit": 1000}))
    assert "three-hours-ago-c2.top" not in after and ARTICLE_VALUES <= set(after)
    # a naive time is read as UTC
    naive = (now - timedelta(hours=2)).replace(tzinfo=None).isoformat()
    assert values(api.get(FEED, params={"until": naive})) == ["three-hours-ago-c2.top"]


# -- tier clamps ---------------------------------------------------------------------------------


def test_since_is_clamped_to_the_tier_lookback(api: Api, store: Store) -> None:
    old = "45.155.205.233"
    record(store, [(IndicatorType.IPV4, old)], now=datetime.now(UTC) - timedelta(days=3))
    free = api.get(FEED, key="free", params={"since": "2020-01-01T00:00:00Z", "type": "ipv4"})
    assert old not in values(free)
    since = datetime.fromisoformat(free.json()["meta"]["filters"]["since"])
    assert timedelta(hours=23) < datetime.now(UTC) - since <= timedelta(days=1, minutes=1)
    assert old not in values(api.get(FEED, key="free", params={"type": "ipv4"}))
    pro = api.get(FEED, key="pro", params={"since": "2020-01-01T00:00:00Z", "type": "ipv4"})
    assert old in values(pro)
    assert old in values(api.get(FEED, key="pro", params={"type": "ipv4"}))


def test_limit_is_capped_by_the_tier(api: Api, store: Store) -> None:
    record(store, [(IndicatorType.DOMAIN, f"host{n}.bulk-c2.top") for n in range(150)])
    free = api.get(FEED, key="free", params={"limit": 5000})
    assert free.json()["meta"]["limit"] == 100
    assert len(values(free)) == 100 and free.json()["links"]["next"]
    pro = api.get(FEED, key="pro", params={"limit": 5000})
    assert pro.json()["meta"]["limit"] == 5000
    assert len(values(pro)) == pro.json()["meta"]["total"] > 150
    assert pro.json()["links"]["next"] is None


# -- formats -------------------------------------------------------------------------------------


def test_csv_has_exactly_the_ten_columns(api: Api, store: Store) -> None:
    record(store, [(IndicatorType.DOMAIN, "quoted-c2.top")], tags=('a "quoted", tag', "=SUM(A1)"))
    json_items = api.get(FEED, params={"limit": 1000}).json()["data"]
    answer = api.get(FEED, params={"limit": 1000, "format": "csv"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == CSV_HEADER
    assert all(len(row) == 10 for row in rows)
    table = [dict(zip(CSV_HEADER, row, strict=True)) for row in rows[1:]]
    assert [r["id"] for r in table] == [i["id"] for i in json_items]
    assert [r["value"] for r in table] == [i["value"] for i in json_items]
    # Times are written as the JSON feed writes them, so a pipeline can switch formats without re-parsing.
    assert [(r["first_seen"], r["last_seen"]) for r in table] == [(i["first_seen"], i["last_seen"]) for i in json_items]
    by_value = {r["value"]: r for r in table}
    ip = by_value[ARTICLE_IP]
    assert ip["type"] == "ipv4" and ip["confidence"] == "medium"
    assert ip["source_article"] == ARTICLE_TITLE and ip["source_feed"] == "articles" and ip["category"] == "research"
    assert datetime.fromisoformat(ip["first_seen"]) <= datetime.fromisoformat(ip["last_seen"])
    quoted = by_value["quoted-c2.top"]
    assert quoted["tags"].split(";") == ["'=SUM(A1)", 'a "quoted", tag']  # a formula is defused, not served
    assert quoted["source_feed"] == "test-feed"


def test_txt_is_one_value_per_line(api: Api) -> None:
    json_values = values(api.get(FEED, params={"limit": 1000}))
    answer = api.get(FEED, params={"limit": 1000, "format": "txt"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.text.endswith("\n")
    assert answer.text.splitlines() == json_values


def test_txt_honours_filters_and_limit(api: Api) -> None:
    answer = api.get(FEED, params={"format": "txt", "type": "domain", "feed": "articles"})
    assert sorted(answer.text.splitlines()) == ["files-sync-cdn.xyz", "paper-lantern.top"]
    assert len(api.get(FEED, params={"format": "txt", "limit": 2}).text.splitlines()) == 2


@pytest.mark.parametrize("fmt", ["csv", "txt"])
def test_free_tier_serves_json_only(api: Api, fmt: str) -> None:
    details = assert_error(api.get(FEED, key="free", params={"format": fmt}), 403, "format_not_allowed")
    assert details["allowed_formats"] == ["json"] and details["tier"] == "free"
    assert api.get(FEED, key="free", params={"format": "json"}).status_code == 200


# -- exclusions ----------------------------------------------------------------------------------


def test_expired_indicators_are_left_out_unless_asked_for(api: Api, store: Store) -> None:
    # an IPv4 lives 30 days: seen 40 days ago, it expired 10 days ago (within pro's lookback)
    record(store, [(IndicatorType.IPV4, "45.155.205.233")], now=datetime.now(UTC) - timedelta(days=40))
    assert "45.155.205.233" not in values(api.get(FEED, params={"type": "ipv4"}))
    served = api.get(FEED, params={"type": "ipv4", "include_expired": "true"})
    assert "45.155.205.233" in values(served)
    assert served.json()["meta"]["filters"]["include_expired"] is True


def test_allowlisted_indicators_are_left_out_unless_asked_for(api: Api) -> None:
    assert ALLOWLISTED_IP not in values(api.get(FEED, params={"type": "ipv4"}))
    assert ALLOWLISTED_IP in values(api.get(FEED, params={"type": "ipv4", "include_allowlisted": "true"}))


def test_totals_follow_the_exclusions(api: Api) -> None:
    plain = api.get(FEED).json()["meta"]["total"]
    allowlisted = api.get(FEED, params={"include_allowlisted": "true"}).json()["meta"]["total"]
    assert allowlisted > plain


# -- paging --------------------------------------------------------------------------------------


def test_cursor_paging_walks_every_row_once(api: Api) -> None:
    everything = values(api.get(FEED, params={"limit": 1000, "include_allowlisted": "true"}))
    paged = walk(api, {"limit": 4, "include_allowlisted": "true"})
    assert [i["value"] for i in paged] == everything
    assert len(everything) > 8


def test_cursor_paging_survives_inserts_and_updates_between_pages(api: Api, store: Store) -> None:
    before = values(api.get(FEED, params={"limit": 1000}))
    inserted: list[str] = []

    def meanwhile(page: int) -> None:
        if page <= 3:
            name = f"new-during-page-{page}-c2.top"
            # a new row, and a re-sighting of a row already served (it must not come back)
            record(store, [(IndicatorType.DOMAIN, name), (IndicatorType.IPV4, ARTICLE_IP)], source=f"late-{page}")
            inserted.append(name)

    paged = [i["value"] for i in walk(api, {"limit": 3}, between=meanwhile)]
    assert len(paged) == len(set(paged)), "a row was served twice"
    assert set(paged) == set(before) | set(inserted), "a row was skipped"
    assert paged[: len(before)] == before


def test_cursor_paging_for_the_free_tier(api: Api) -> None:
    everything = values(api.get(FEED, key="free", params={"limit": 100}))
    paged = walk(api, {"limit": 5}, key="free")
    assert [i["value"] for i in paged] == everything


def test_offset_paging(api: Api) -> None:
    everything = values(api.get(FEED, params={"limit": 1000}))
    second = api.get(FEED, params={"limit": 5, "offset": 5})
    assert values(second) == everything[5:10]
    body = second.json()
    assert body["meta"]["offset"] == 5 and body["meta"]["total"] == len(everything)
    prev = body["links"]["prev"]
    assert parse_qs(urlsplit(prev).query) == {"limit": ["5"], "offset": ["0"]}
    assert values(api.get(prev)) == everything[:5]
    assert values(api.get(body["links"]["next"])) == everything[10:15]
    assert values(api.get(FEED, params={"offset": 10_000})) == []


def test_stale_cursor_past_the_end_is_an_empty_page(api: Api) -> None:
    answer = api.get(FEED, params={"cursor": indicators_after(999_999_999)})
    assert values(answer) == [] and answer.json()["links"]["next"] is None


# -- context and secrets -------------------------------------------------------------------------


def test_include_context_returns_the_sentence(api: Api) -> None:
    plain = api.get(FEED, params={"feed": "articles", "type": "ipv4"}).json()["data"][0]
    assert plain["context"] is None
    item = api.get(FEED, params={"feed": "articles", "type": "ipv4", "include_context": "true"}).json()["data"][0]
    assert "second stage is served from" in item["context"]
    assert "185.220.101" in item["context"]


def test_api_key_never_appears_in_links(api: Api) -> None:
    secret = api.keys["pro"]
    answer = api.get(FEED, key=None, params={"api_key": secret, "limit": 2, "offset": 2})
    assert answer.status_code == 200
    links = answer.json()["links"]
    assert links["next"] and links["prev"]
    for link in links.values():
        assert secret not in link and "api_key" not in link
    assert secret not in answer.text


def test_category_filter_values_are_the_vocabulary(api: Api) -> None:
    details = assert_error(api.get(FEED, params={"category": "x"}), 400, "invalid_parameter")
    assert set(details["valid_categories"]) == {c.value for c in SourceCategory}
