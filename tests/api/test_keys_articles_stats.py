"""Keys, articles, stats, health, the OpenAPI document, and errors nobody asked for (sections 1 and 5)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from iocflow.api.app import create_app
from iocflow.exceptions import StoreError, Unavailable
from iocflow.settings import Settings
from iocflow.store.filters import IndicatorQuery
from iocflow.store.records import Article, Observation, Source
from iocflow.store.store import Store
from iocflow.store.vocabulary import IndicatorType, Reliability, SourceCategory, SourceKind
from tests.api.conftest import ARTICLE_TITLE, Api, assert_error, bearer, record

KEYS = "/api/v1/keys"
ARTICLES = "/api/v1/articles"
STATS = "/api/v1/stats"


# -- /api/v1/keys --------------------------------------------------------------------------------


def test_create_key_returns_the_secret_once(api: Api) -> None:
    answer = api.post(KEYS, key="admin", json={"name": "splunk-forwarder", "tier": "pro",
                                               "scopes": ["read:iocs", "write:indicators"]})
    assert answer.status_code == 201, answer.text
    created = answer.json()
    secret = created["key"]
    assert secret.startswith("sk_live_") and len(secret) >= len("sk_live_") + 43
    assert created["prefix"] == secret[:12]
    assert created["name"] == "splunk-forwarder" and created["tier"] == "pro"
    assert created["scopes"] == ["read:iocs", "write:indicators"] and created["revoked_at"] is None
    # the secret works, with its tier
    feed = api.client.get("/api/v1/iocs", headers=bearer(secret))
    assert feed.status_code == 200 and feed.headers["X-RateLimit-Limit"] == "1000"
    # and is never shown again
    listing = api.get(KEYS, key="admin")
    assert listing.status_code == 200
    assert secret not in listing.text
    mine = [k for k in listing.json()["data"] if k["id"] == created["id"]]
    assert mine == [{k: v for k, v in created.items() if k != "key"}]


def test_created_key_defaults(api: Api) -> None:
    created = api.post(KEYS, key="admin", json={"name": "defaults"}).json()
    assert created["tier"] == "free" and created["scopes"] == ["extract", "read:iocs"]


def test_list_keys_shows_no_secrets(api: Api) -> None:
    listing = api.get(KEYS, key="admin")
    data = listing.json()["data"]
    assert {k["name"] for k in data} >= {"free", "pro", "writer", "admin", "extract_only"}
    for key in data:
        assert set(key) == {"id", "name", "prefix", "tier", "scopes", "created_at", "revoked_at"}
        assert key["created_at"].endswith("Z")  # the API's one time format
        assert key["prefix"].startswith("sk_live_") and len(key["prefix"]) == 12
    for secret in api.keys.values():
        assert secret not in listing.text


def test_revoke_key_then_it_gets_401(api: Api) -> None:
    created = api.post(KEYS, key="admin", json={"name": "temp", "tier": "pro"}).json()
    assert api.client.get("/api/v1/iocs", headers=bearer(created["key"])).status_code == 200
    revoked = api.delete(f"{KEYS}/{created['id']}")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None and "key" not in revoked.json()
    assert_error(api.client.get("/api/v1/iocs", headers=bearer(created["key"])), 401, "invalid_api_key")
    listed = next(k for k in api.get(KEYS, key="admin").json()["data"] if k["id"] == created["id"])
    assert listed["revoked_at"] is not None
    assert api.delete(f"{KEYS}/{created['id']}").status_code == 200  # revoking again is harmless


def test_revoke_by_prefix(api: Api) -> None:
    created = api.post(KEYS, key="admin", json={"name": "by-prefix"}).json()
    assert api.delete(f"{KEYS}/{created['prefix']}").json()["id"] == created["id"]
    assert api.client.get("/api/v1/iocs", headers=bearer(created["key"])).status_code == 401


def test_revoke_unknown_key_is_404(api: Api) -> None:
    assert_error(api.delete(f"{KEYS}/no-such-key"), 404, "not_found")


@pytest.mark.parametrize("key", ["free", "pro", "writer", "extract_only"])
def test_keys_need_admin(api: Api, key: str) -> None:
    details = assert_error(api.get(KEYS, key=key), 403, "insufficient_scope")
    assert details["required_scope"] == "admin"
    assert_error(api.post(KEYS, key=key, json={"name": "x"}), 403, "insufficient_scope")
    assert_error(api.delete(f"{KEYS}/{key}", key=key), 403, "insufficient_scope")
    assert len(api.get(KEYS, key="admin").json()["data"]) == 5


def test_keys_need_a_key(api: Api) -> None:
    assert_error(api.post(KEYS, key=None, json={"name": "x"}), 401, "missing_api_key")


def test_unknown_tier_is_400(api: Api) -> None:
    details = assert_error(api.post(KEYS, key="admin", json={"name": "x", "tier": "platinum"}), 400,
                           "invalid_parameter")
    assert details["valid_tiers"] == ["free", "pro"]


def test_custom_tier_may_be_given(make_api: Callable[..., Api]) -> None:
    api = make_api(tiers={"team": {"per_minute": 50}})
    created = api.post(KEYS, key="admin", json={"name": "t", "tier": "team"})
    assert created.status_code == 201
    feed = api.client.get("/api/v1/iocs", headers=bearer(created.json()["key"]))
    assert feed.headers["X-RateLimit-Limit"] == "50"


@pytest.mark.parametrize("body", [
    {"name": ""}, {}, {"name": "x", "scopes": ["root"]}, {"name": "x", "scopes": "admin"}, {"name": "x", "tier": 5},
])
def test_bad_key_request_is_400(api: Api, body: dict[str, Any]) -> None:
    assert_error(api.post(KEYS, key="admin", json=body), 400, "invalid_parameter")


def test_malformed_key_request_is_400(api: Api) -> None:
    answer = api.post(KEYS, key="admin", content=b"{nope", headers={"Content-Type": "application/json"})
    assert_error(answer, 400, "invalid_parameter")


# -- /api/v1/articles ----------------------------------------------------------------------------


def add_articles(store: Store) -> None:
    """Six more articles from two sources: two 3 days old, three 5 hours old, one a minute ahead."""
    now = datetime.now(UTC)
    vendor = Source("vendor-blog", SourceKind.ARTICLE, SourceCategory.VENDOR, Reliability.B,
                    url="https://vendor.example.org/")
    news = Source("news-site", SourceKind.ARTICLE, SourceCategory.NEWS, Reliability.C)
    batches = [
        (vendor, now - timedelta(days=3), ["Vendor: Old loader", "Vendor: Old dropper"]),
        (news, now - timedelta(hours=5), ["News: Bank breach", "News: 100% of hospitals", "News: snake_case"]),
        (vendor, now + timedelta(minutes=1), ["Vendor: New C2 wave"]),
    ]
    for source, when, titles in batches:  # one batch: the same ingest time, so paging must break ties
        store.record(source, [
            Observation(IndicatorType.DOMAIN, f"a{n}-{source.name}-c2.top",
                        article=Article(title, f"https://{source.name}.example.org/{n}-{when.timestamp():.0f}"))
            for n, title in enumerate(titles)
        ], now=when)


def article_titles(answer: Any) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [a["title"] for a in answer.json()["data"]]


def test_articles_shape(api: Api) -> None:
    body = api.get(ARTICLES).json()
    assert set(body) == {"data", "meta"}
    (article,) = body["data"]
    assert article["title"] == ARTICLE_TITLE
    assert article["source"] == {"name": "articles", "category": "research"}
    assert article["indicator_count"] == 10
    assert article["techniques"] == ["T1566.001", "T1574.002"] and article["industries"] == ["finance", "healthcare"]
    assert datetime.fromisoformat(article["ingested_at"]).tzinfo is not None
    assert body["meta"] == {"limit": 50, "next_cursor": None}


def test_articles_newest_first_with_cursor_paging(api: Api, store: Store) -> None:
    add_articles(store)
    everything = article_titles(api.get(ARTICLES))
    assert everything[:2] == ["Vendor: New C2 wave", ARTICLE_TITLE]  # the sample article was ingested at start
    assert set(everything[2:5]) == {"News: Bank breach", "News: 100% of hospitals", "News: snake_case"}
    assert set(everything[5:]) == {"Vendor: Old loader", "Vendor: Old dropper"}
    stamps = [a["ingested_at"] for a in api.get(ARTICLES).json()["data"]]
    assert stamps == sorted(stamps, reverse=True)
    paged: list[str] = []
    cursor = None
    for _ in range(10):
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        answer = api.get(ARTICLES, params=params)
        paged += article_titles(answer)
        cursor = answer.json()["meta"]["next_cursor"]
        if cursor is None:
            break
    assert paged == everything


def test_articles_filters(api: Api, store: Store) -> None:
    add_articles(store)
    now = datetime.now(UTC)
    assert set(article_titles(api.get(ARTICLES, params={"feed": "vendor-blog"}))) == {
        "Vendor: Old loader", "Vendor: Old dropper", "Vendor: New C2 wave"}
    assert set(article_titles(api.get(ARTICLES, params={"category": "news"}))) == {
        "News: Bank breach", "News: 100% of hospitals", "News: snake_case"}
    assert set(article_titles(api.get(ARTICLES, params={"category": "news,research"}))) == {
        "News: Bank breach", "News: 100% of hospitals", "News: snake_case", ARTICLE_TITLE}
    old = article_titles(api.get(ARTICLES, params={"until": (now - timedelta(days=1)).isoformat()}))
    assert set(old) == {"Vendor: Old loader", "Vendor: Old dropper"}
    recent = article_titles(api.get(ARTICLES, params={"since": (now - timedelta(hours=1)).isoformat()}))
    assert set(recent) == {ARTICLE_TITLE, "Vendor: New C2 wave"}
    window = {"since": (now - timedelta(days=1)).isoformat(), "until": (now - timedelta(hours=1)).isoformat()}
    assert len(article_titles(api.get(ARTICLES, params=window))) == 3


def test_articles_text_search(api: Api, store: Store) -> None:
    add_articles(store)
    assert article_titles(api.get(ARTICLES, params={"q": "BANK BREACH"})) == ["News: Bank breach"]
    assert len(article_titles(api.get(ARTICLES, params={"q": "vendor-blog.example.org"}))) == 3  # in the URL
    assert article_titles(api.get(ARTICLES, params={"q": "100%"})) == ["News: 100% of hospitals"]
    assert article_titles(api.get(ARTICLES, params={"q": "%"})) == ["News: 100% of hospitals"]
    assert article_titles(api.get(ARTICLES, params={"q": "snake_"})) == ["News: snake_case"]
    assert article_titles(api.get(ARTICLES, params={"q": "nothing like this"})) == []


@pytest.mark.parametrize("params", [{"category": "tabloid"}, {"cursor": "!!!"}, {"cursor": "bm90LWEtY3Vyc29y"},
                                    {"limit": "0"}, {"since": "soon"}, {"q": "x" * 201}])
def test_articles_bad_parameters_are_400(api: Api, params: dict[str, str]) -> None:
    assert_error(api.get(ARTICLES, params=params), 400, "invalid_parameter")


def test_articles_limit_is_capped_by_the_tier(api: Api) -> None:
    assert api.get(ARTICLES, key="free", params={"limit": 1000}).json()["meta"]["limit"] == 100


def test_articles_need_read_iocs(api: Api) -> None:
    assert_error(api.get(ARTICLES, key="extract_only"), 403, "insufficient_scope")


# -- /api/v1/stats -------------------------------------------------------------------------------


def test_stats_counts(api: Api, store: Store) -> None:
    body = api.get(STATS).json()
    assert body["total"] == store.count() == sum(body["by_type"].values())
    ipv4 = IndicatorQuery(types=(IndicatorType.IPV4,), include_expired=True, include_allowlisted=True)
    assert body["by_type"]["ipv4"] == store.count(ipv4)
    assert body["by_type"]["mitre_attack"] == 2
    by_source = {s["source"]: s for s in body["by_source"]}
    assert by_source["articles"] == {"source": "articles", "category": "research", "indicators": 10}
    assert set(by_source) == {"articles", "feodo", "urlhaus", "threatfox", "stix", "misp"}
    today = datetime.now(UTC).date().isoformat()
    assert body["by_day"][today] >= 10
    assert body["articles"] == 1
    assert body["allowlisted"] > 0 and body["expired"] > 0


def test_stats_by_day_follows_the_days_parameter(api: Api, store: Store) -> None:
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    record(store, [(IndicatorType.IPV4, "45.155.205.233"), (IndicatorType.DOMAIN, "stats-c2.top")],
           now=three_days_ago)
    day = three_days_ago.date().isoformat()
    assert api.get(STATS).json()["by_day"][day] == 2
    assert day not in api.get(STATS, params={"days": 2}).json()["by_day"]
    assert_error(api.get(STATS, params={"days": 0}), 400, "invalid_parameter")
    assert_error(api.get(STATS, params={"days": 1000}), 400, "invalid_parameter")


def test_stats_need_read_iocs(api: Api) -> None:
    assert_error(api.get(STATS, key="extract_only"), 403, "insufficient_scope")


# -- health, OpenAPI, unknown paths --------------------------------------------------------------


def test_healthz(api: Api) -> None:
    answer = api.get("/healthz", key=None)
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["rate_limits"] == "memory"
    assert body["version"]
    assert answer.headers["X-Request-ID"]


def test_healthz_reports_a_broken_database(make_api: Callable[..., Api], monkeypatch: pytest.MonkeyPatch,
                                           store: Store) -> None:
    def broken() -> None:
        raise RuntimeError("database is gone")

    api = make_api()
    monkeypatch.setattr(store.engine, "connect", broken)
    answer = api.get("/healthz", key=None)
    assert answer.status_code == 503
    assert answer.json()["status"] == "degraded" and "gone" not in answer.text


def test_openapi_lists_every_endpoint(api: Api) -> None:
    answer = api.get("/openapi.json", key=None)
    assert answer.status_code == 200
    doc = answer.json()
    operations = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert operations >= {
        ("/api/v1/iocs", "get"), ("/api/v1/lookup", "get"), ("/api/v1/extract", "post"),
        ("/Command/IOCsExtraction", "post"), ("/public_api/v1/indicators/insert_jsons", "post"),
        ("/api/v1/keys", "get"), ("/api/v1/keys", "post"), ("/api/v1/keys/{key_id}", "delete"),
        ("/api/v1/articles", "get"), ("/api/v1/stats", "get"), ("/healthz", "get"),
    }
    extract_body = doc["paths"]["/api/v1/extract"]["post"]["requestBody"]["content"]
    assert {"text/plain", "application/json", "multipart/form-data"} <= set(extract_body)
    assert extract_body["text/plain"]["example"]
    soar = doc["paths"]["/Command/IOCsExtraction"]["post"]["requestBody"]["content"]["application/json"]
    assert soar["example"]["CommandParams"]["Raw Text"]


def test_unknown_path_is_404_in_the_envelope(api: Api) -> None:
    for answer in (api.get("/api/v1/nothing-here"), api.get("/nothing", key=None)):
        assert_error(answer, 404, "not_found")


def test_wrong_method_is_405_in_the_envelope(api: Api) -> None:
    assert_error(api.client.put("/api/v1/iocs", headers=bearer(api.keys["pro"])), 405, "method_not_allowed")


# -- internal errors -----------------------------------------------------------------------------


def test_internal_error_is_500_without_a_trace(make_api: Callable[..., Api], monkeypatch: pytest.MonkeyPatch,
                                               store: Store) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret-internal-detail at /srv/iocflow/queries.py")

    monkeypatch.setattr(store, "stats", broken)
    api = make_api(raise_server_exceptions=False)
    answer = api.get(STATS, headers={"X-Request-ID": "trace-for-the-500"})
    details = assert_error(answer, 500, "internal_error")
    assert details == {}
    assert answer.headers["X-Request-ID"] == "trace-for-the-500"
    assert answer.json()["error"]["request_id"] == "trace-for-the-500"
    for leak in ("secret-internal-detail", "Traceback", "RuntimeError", "queries.py", 'File "'):
        assert leak not in answer.text
    assert answer.headers["X-RateLimit-Limit"] == "1000"


def test_internal_error_in_an_async_endpoint(make_api: Callable[..., Api], monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret-internal-detail")

    monkeypatch.setattr("iocflow.api.routes.extract.extract", broken)
    answer = make_api(raise_server_exceptions=False).post("/api/v1/extract", content="8.8.8.8")
    assert_error(answer, 500, "internal_error")
    assert "secret-internal-detail" not in answer.text


def test_store_failure_is_503(make_api: Callable[..., Api], monkeypatch: pytest.MonkeyPatch, store: Store) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise Unavailable("database error: connection refused")

    monkeypatch.setattr(store, "stats", broken)
    assert_error(make_api(raise_server_exceptions=False).get(STATS), 503, "store_unavailable")


def test_store_errors_are_mapped_by_type_not_by_message(make_api: Callable[..., Api], monkeypatch: pytest.MonkeyPatch,
                                                        store: Store) -> None:
    def refused(*args: object, **kwargs: object) -> None:
        raise StoreError("database error: no schema")  # the words of an outage, but not an Unavailable

    monkeypatch.setattr(store, "stats", refused)
    assert make_api(raise_server_exceptions=False).get(STATS).status_code != 503


@pytest.mark.parametrize("path", [STATS, ARTICLES, "/api/v1/iocs"])
def test_a_store_without_a_schema_is_503_with_the_fix(tmp_path: Path, path: str) -> None:
    empty = Store(f"sqlite:///{tmp_path / 'never-upgraded.db'}")
    try:
        app = create_app(Settings(database_url=empty.url), store=empty)
        client = TestClient(app, raise_server_exceptions=False)
        answer = client.get(path, headers=bearer("sk_live_" + "x" * 43))  # a key the store has to look up
        assert_error(answer, 503, "store_unavailable")
        assert "run `iocflow db upgrade`" in answer.json()["error"]["message"]
        assert "no such table" not in answer.text and "Traceback" not in answer.text
    finally:
        empty.close()


def test_an_unreachable_database_is_503_without_its_address(caplog: pytest.LogCaptureFixture) -> None:
    """The driver's reason (host, port) goes to the server log under the request id, not to the client."""
    down = Store("postgresql+psycopg://postgres@127.0.0.1:1/nothing-listens-here?connect_timeout=2")
    try:
        client = TestClient(create_app(Settings(database_url=down.url), store=down), raise_server_exceptions=False)
        with caplog.at_level("WARNING", logger="iocflow.api"):
            answer = client.get(STATS, headers=bearer("sk_live_" + "x" * 43))
        assert_error(answer, 503, "store_unavailable")
        assert answer.json()["error"]["message"] == "the database is unavailable; try again shortly"
        assert "127.0.0.1" not in answer.text and "db upgrade" not in answer.text
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert "127.0.0.1" in logged and answer.json()["error"]["request_id"] in logged
    finally:
        down.close()
