"""The TAXII 2.1 server: driven by the real taxii2-client against a served app, plus protocol edges in-process.

The served app runs under uvicorn in a thread, over this test's copy of the
loaded database (``conftest.store``) with a few dozen indicators added at each
confidence level. What a collection must hold is computed here independently
of the server: the STIX exporter's objects for the store's indicators in the
tier's lookback, as ``/api/v1/export/stix`` would build them.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import stix2
import uvicorn
from taxii2client.common import TokenAuth
from taxii2client.exceptions import AccessError
from taxii2client.v21 import Collection, Server, as_pages

from iocflow.api.app import create_app
from iocflow.export import stix
from iocflow.export.taxii import COLLECTIONS
from iocflow.settings import Settings
from iocflow.store.cursor import Cursor, Listing
from iocflow.store.filters import IndicatorQuery
from iocflow.store.records import Article
from iocflow.store.store import Store
from iocflow.store.vocabulary import Confidence, IndicatorType
from tests.api.conftest import Api, record

TAXII = "application/taxii+json;version=2.1"
BASE = "/taxii2/iocflow"
COLLECTION_IDS = {c.key: c.id for c in COLLECTIONS}
#: Indicators added per confidence level, on top of the article's.
PER_LEVEL = 12
#: Seen three days ago: inside the pro lookback, before any ``added_after`` of "yesterday".
OLDER = "older-relay.top"
#: STIX confidence per level (the middle of each band of the spec's None/Low/Med/High scale).
STIX_CONFIDENCE = {"high": 85, "medium": 50, "low": 15}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _add_indicators(store: Store) -> None:
    """Domains, IPs and hashes at each level (half from an article of their own, one from an article every
    level shares), a CVE (a Vulnerability), and one indicator seen days ago."""
    now = datetime.now(UTC)
    shared = Article("Lantern relays across the board", "https://blog.example.net/lantern-relays")
    for rank, level in enumerate(Confidence):
        values: list[tuple[IndicatorType, str]] = []
        for i in range(PER_LEVEL):
            values.append(((IndicatorType.DOMAIN, IndicatorType.IPV4, IndicatorType.SHA256)[i % 3],
                           (f"node{i}-{level.value}.lantern-relay.top", f"45.{155 + rank}.205.{i + 10}",
                            f"{rank}{i:02d}" + "a1" * 30 + "ff")[i % 3]))
        own = Article(f"Lantern relays, {level.value} confidence", f"https://blog.example.net/{level.value}")
        record(store, values[:PER_LEVEL // 2], now=now, confidence=level, article=own)
        record(store, values[PER_LEVEL // 2:-1], now=now, confidence=level)
        record(store, values[-1:], now=now, confidence=level, article=shared)
    record(store, [(IndicatorType.CVE, "CVE-2024-3400")], now=now, confidence=Confidence.HIGH)
    record(store, [(IndicatorType.DOMAIN, OLDER)], now=now - timedelta(days=3), confidence=Confidence.HIGH)


def expected(store: Store, level: str | None, *, lookback_days: int = 365) -> dict[str, dict[str, Any]]:
    """What a collection holds: the exporter's objects for its indicators (exactly ``level``, if given)."""
    now = datetime.now(UTC)
    served = store.iter_indicators(IndicatorQuery(since=now - timedelta(days=lookback_days), now=now))
    records = [r for r in served if level is None or r.confidence.value == level]
    return {obj["id"]: obj for obj in stix.build(records, now=now).bundle["objects"]}


@pytest.fixture
def stix_keys(store: Store) -> dict[str, str]:
    """Keys for TAXII: pro with read:stix, free with read:stix (its tier has no STIX), pro without read:stix."""
    _add_indicators(store)
    made = {"stix": ("pro", ("read:stix",)), "free_stix": ("free", ("read:stix",)), "iocs_only": ("pro", ("read:iocs",))}
    return {name: store.create_key(name=name, tier=tier, scopes=scopes)[1]
            for name, (tier, scopes) in made.items()}


@pytest.fixture
def taxii_api(make_api: Callable[..., Api], stix_keys: dict[str, str]) -> Api:
    api = make_api()
    api.keys.update(stix_keys)
    return api


@pytest.fixture
def served(store: Store, stix_keys: dict[str, str]) -> Iterator[str]:
    """The app under uvicorn on a free port, in a thread; yields the discovery URL."""
    app = create_app(Settings(database_url=store.url), store=store)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped before it started"
        assert time.monotonic() < deadline, "uvicorn did not start in 30 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/taxii2/"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def _collections(url: str, key: str) -> dict[str, Collection]:
    server = Server(url, user="analyst", password=key)
    (root,) = server.api_roots
    return {c.alias: c for c in root.collections}


# -- taxii2-client against the served app ----------------------------------------------------


def test_discovery_api_root_and_collections(served: str, stix_keys: dict[str, str]) -> None:
    server = Server(served, user="analyst", password=stix_keys["stix"])
    assert server.title == "iocflow TAXII 2.1 server"
    assert [r.url for r in server.api_roots] == [served + "iocflow/"]
    assert server.default is server.api_roots[0]
    root = server.default
    assert root.title == "iocflow" and root.versions == [TAXII] and root.max_content_length > 0
    collections = {c.id: c for c in root.collections}
    assert set(collections) == set(COLLECTION_IDS.values())
    for collection in collections.values():
        assert collection.title and collection.description
        assert collection.can_read is True and collection.can_write is False
        assert collection.media_types == ["application/stix+json;version=2.1"]
    with pytest.raises(AccessError):  # the client refuses on can_write: false before sending anything
        collections[COLLECTION_IDS["all"]].add_objects({"objects": []})


@pytest.mark.parametrize("level", ["all", "high", "medium", "low"])
def test_paging_pulls_every_object_exactly_once(served: str, store: Store, stix_keys: dict[str, str],
                                                level: str) -> None:
    collection = _collections(served, stix_keys["stix"])[level]
    pages = list(as_pages(collection.get_objects, per_request=7))
    pulled = [obj["id"] for page in pages for obj in page.get("objects", [])]
    want = expected(store, None if level == "all" else level)
    assert len(pulled) == len(set(pulled)), "an object came twice"
    assert set(pulled) == set(want)
    assert len(pages) == -(-len(want) // 7)  # full pages of 7, then the rest
    assert all(len(page["objects"]) == 7 and page["more"] and page["next"] for page in pages[:-1])
    assert pages[-1]["more"] is False and "next" not in pages[-1]
    by_id = {obj["id"]: obj for page in pages for obj in page["objects"]}
    assert by_id == want  # the exporter's objects, unchanged
    kinds = {obj["type"] for obj in by_id.values()}
    assert {"identity", "indicator", "report"} <= kinds


def test_the_collections_split_by_confidence(served: str, store: Store, stix_keys: dict[str, str]) -> None:
    collections = _collections(served, stix_keys["stix"])
    indicators: dict[str, set[str]] = {}
    for level in ("all", "high", "medium", "low"):
        envelope = collections[level].get_objects(type=["indicator", "vulnerability"])
        indicators[level] = {obj["id"] for obj in envelope["objects"]}
        for obj in envelope["objects"]:
            if level != "all":
                assert obj["confidence"] == STIX_CONFIDENCE[level]
    assert indicators["high"] | indicators["medium"] | indicators["low"] == indicators["all"]
    assert not indicators["high"] & indicators["medium"] and not indicators["medium"] & indicators["low"]
    assert len(indicators["medium"]) >= PER_LEVEL and len(indicators["low"]) >= PER_LEVEL


def test_manifest_pages_like_the_objects(served: str, store: Store, stix_keys: dict[str, str]) -> None:
    collection = _collections(served, stix_keys["stix"])["all"]
    records = [r for page in as_pages(collection.get_manifest, per_request=5) for r in page.get("objects", [])]
    want = expected(store, None)
    assert [r["id"] for r in records] == list(dict.fromkeys(r["id"] for r in records))
    assert {r["id"] for r in records} == set(want)
    for r in records:
        assert r["version"] == want[r["id"]]["modified"]
        assert r["media_type"] == "application/stix+json;version=2.1"
        assert r["date_added"].endswith("Z")


def test_added_after_returns_what_was_seen_since(served: str, store: Store, stix_keys: dict[str, str]) -> None:
    collection = _collections(served, stix_keys["stix"])["all"]
    everything = collection.get_objects(type="indicator")["objects"]
    assert any(obj["name"] == OLDER for obj in everything)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    recent = collection.get_objects(added_after=yesterday, type="indicator")["objects"]
    assert {obj["id"] for obj in recent} == {obj["id"] for obj in everything if obj["name"] != OLDER}
    # a poller sending back the latest date_added it saw gets nothing new, not the same objects again
    manifest = collection.get_manifest()["objects"]
    latest = max(r["date_added"] for r in manifest)
    assert collection.get_objects(added_after=latest) == {"more": False}


def test_match_type_id_and_version(served: str, store: Store, stix_keys: dict[str, str]) -> None:
    collection = _collections(served, stix_keys["stix"])["all"]
    want = expected(store, None)
    reports = collection.get_objects(type="report")["objects"]
    assert reports and {obj["type"] for obj in reports} == {"report"}
    assert {obj["id"] for obj in reports} == {i for i in want if i.startswith("report--")}
    assert [obj["id"] for obj in collection.get_objects(type="identity")["objects"]] == [stix.IDENTITY_ID]
    vulnerability = collection.get_objects(type="vulnerability")["objects"]
    assert "CVE-2024-3400" in {obj["name"] for obj in vulnerability}
    assert {obj["id"] for obj in vulnerability} == {i for i in want if i.startswith("vulnerability--")}
    picked = [next(i for i in want if i.startswith("indicator--")), reports[0]["id"], stix.IDENTITY_ID]
    assert {obj["id"] for obj in collection.get_objects(id=picked)["objects"]} == set(picked)
    for version in ("last", "first", "all"):
        assert len(collection.get_objects(id=picked[0], version=version)["objects"]) == 1
    modified = want[picked[0]]["modified"]
    assert collection.get_objects(id=picked[0], version=modified)["objects"][0]["modified"] == modified
    assert collection.get_objects(id=picked[0], version="2020-01-01T00:00:00.000Z") == {"more": False}


def test_get_object_and_versions(served: str, store: Store, stix_keys: dict[str, str]) -> None:
    collection = _collections(served, stix_keys["stix"])["high"]
    want = expected(store, "high")
    indicator = next(obj for obj in want.values() if obj["type"] == "indicator")
    envelope = collection.get_object(indicator["id"])
    assert envelope["objects"] == [indicator] and envelope["more"] is False
    assert collection.object_versions(indicator["id"]) == {"more": False, "versions": [indicator["modified"]]}
    report = next(obj for obj in want.values() if obj["type"] == "report")
    assert collection.get_object(report["id"])["objects"] == [report]
    stix2.parse(indicator, allow_custom=False)
    stix2.parse(report, allow_custom=False)


def test_basic_token_and_missing_auth_from_the_client(served: str, stix_keys: dict[str, str]) -> None:
    assert Server(served, auth=TokenAuth(stix_keys["stix"])).title
    with pytest.raises(requests.HTTPError) as refused:
        _ = Server(served, user="analyst", password="sk_live_not-a-key").title
    assert refused.value.response.status_code == 401
    assert refused.value.response.json()["error_code"] == "invalid_api_key"
    with pytest.raises(requests.HTTPError) as free:
        _ = Server(served, user="analyst", password=stix_keys["free_stix"]).title
    assert free.value.response.status_code == 403


# -- protocol edges in-process ---------------------------------------------------------------


def assert_taxii_error(answer: Any, status: int, code: str) -> dict[str, Any]:
    """``answer`` is a TAXII error message with this status and iocflow code; returns it."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == TAXII
    body = answer.json()
    assert body["http_status"] == str(status) and body["error_code"] == code, body
    assert body["title"] and body["description"]
    assert body["error_id"] == answer.headers["X-Request-ID"]
    return body  # type: ignore[no-any-return]


def _paths() -> list[str]:
    all_id = COLLECTION_IDS["all"]
    return ["/taxii2/", f"{BASE}/", f"{BASE}/collections/", f"{BASE}/collections/{all_id}/",
            f"{BASE}/collections/{all_id}/objects/", f"{BASE}/collections/{all_id}/manifest/",
            f"{BASE}/collections/{all_id}/objects/{stix.IDENTITY_ID}/",
            f"{BASE}/collections/{all_id}/objects/{stix.IDENTITY_ID}/versions/"]


@pytest.mark.parametrize("path", _paths())
def test_every_endpoint_answers_taxii_json(taxii_api: Api, path: str) -> None:
    answer = taxii_api.get(path, key="stix", headers={"Accept": TAXII})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == TAXII
    assert int(answer.headers["X-RateLimit-Remaining"]) >= 0
    if "/objects/" in path or "/manifest/" in path:
        assert answer.headers["X-TAXII-Date-Added-First"] <= answer.headers["X-TAXII-Date-Added-Last"]


@pytest.mark.parametrize(("accept", "status"), [
    (None, 200), ("*/*", 200), ("application/*", 200), ("application/taxii+json", 200),
    ("application/taxii+json; version=2.1", 200), ("text/html, application/taxii+json;version=2.1;q=0.5", 200),
    ("application/json", 406), ("application/taxii+json;version=2.0", 406),
    ("application/vnd.oasis.taxii+json; version=2.0", 406), ("application/stix+json;version=2.1", 406),
    ("application/taxii+json;version=2.1;q=0", 406),
])
def test_content_negotiation(taxii_api: Api, accept: str | None, status: int) -> None:
    answer = taxii_api.get(f"{BASE}/collections/", key="stix", headers={"Accept": accept} if accept else {})
    if status == 200:
        assert answer.status_code == 200 and answer.headers["content-type"] == TAXII
    else:
        body = assert_taxii_error(answer, 406, "not_acceptable")
        assert body["details"]["available"] == [TAXII]


def test_authentication_and_scope(taxii_api: Api) -> None:
    missing = taxii_api.get(f"{BASE}/collections/", key=None)
    assert_taxii_error(missing, 401, "missing_api_key")
    assert "Basic" in missing.headers["WWW-Authenticate"]
    assert_taxii_error(taxii_api.get("/taxii2/", key=None, headers={"Authorization": "Bearer sk_live_nope"}),
                       401, "invalid_api_key")
    assert_taxii_error(taxii_api.get("/taxii2/", key="iocs_only"), 403, "insufficient_scope")
    assert_taxii_error(taxii_api.get("/taxii2/", key="pro"), 403, "insufficient_scope")  # read:iocs, extract
    assert taxii_api.get("/taxii2/", key="admin").status_code == 200  # admin holds every scope
    secret = taxii_api.keys["stix"]
    for headers in ({"X-API-Key": secret}, {"Authorization": f"Token {secret}"},
                    {"Authorization": "Basic " + base64.b64encode(f"anyone:{secret}".encode()).decode()},
                    {"Authorization": "Basic " + base64.b64encode(f"{secret}:".encode()).decode()}):
        assert taxii_api.get("/taxii2/", key=None, headers=headers).status_code == 200, headers
    assert taxii_api.get(f"/taxii2/?api_key={secret}", key=None).status_code == 200
    assert_taxii_error(taxii_api.get("/taxii2/", key=None, headers={"Authorization": "Basic !!!"}),
                       401, "missing_api_key")


def test_free_tier_is_refused(taxii_api: Api) -> None:
    body = assert_taxii_error(taxii_api.get(f"{BASE}/collections/", key="free_stix"), 403, "format_not_allowed")
    assert body["details"]["tier"] == "free" and "stix" not in body["details"]["allowed_formats"]


def test_limit_is_capped_by_the_tier(make_api: Callable[..., Api], stix_keys: dict[str, str], store: Store) -> None:
    api = make_api(tiers={"pro": {"max_results": 5}})
    api.keys.update(stix_keys)
    url = f"{BASE}/collections/{COLLECTION_IDS['all']}/objects/"
    first = api.get(url, key="stix", params={"limit": 50}).json()
    assert len(first["objects"]) == 5 and first["more"] is True
    pulled = [obj["id"] for obj in first["objects"]]
    cursor = first["next"]
    while cursor:
        page = api.get(url, key="stix", params={"next": cursor}).json()  # no limit: the tier's 5 again
        assert len(page["objects"]) <= 5
        pulled += [obj["id"] for obj in page["objects"]]
        cursor = page.get("next")
    assert sorted(pulled) == sorted(expected(store, None))


def test_lookback_bounds_added_after(make_api: Callable[..., Api], stix_keys: dict[str, str], store: Store) -> None:
    api = make_api(tiers={"pro": {"lookback_days": 2}})
    api.keys.update(stix_keys)
    url = f"{BASE}/collections/{COLLECTION_IDS['all']}/objects/"
    answer = api.get(url, key="stix", params={"added_after": "2000-01-01T00:00:00Z", "match[type]": "indicator"})
    names = {obj["name"] for obj in answer.json()["objects"]}
    assert OLDER not in names  # three days old: outside a two-day lookback, whatever added_after says
    assert {obj["id"] for obj in answer.json()["objects"]} == {
        i for i, obj in expected(store, None, lookback_days=2).items() if obj["type"] == "indicator"}
    assert "185.220.101.47" in names  # the article's, seen now


def test_sample_feeds_outside_the_lookback_are_not_served(taxii_api: Api, store: Store) -> None:
    url = f"{BASE}/collections/{COLLECTION_IDS['all']}/manifest/"
    records = taxii_api.get(url, key="stix").json()["objects"]
    earliest = (datetime.now(UTC) - timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%S")
    assert all(r["date_added"] >= earliest for r in records if not r["id"].startswith("identity--"))
    assert len(records) == len(expected(store, None))


@pytest.mark.parametrize(("params", "parameter"), [
    ({"added_after": "yesterday"}, "added_after"), ({"next": "rows:abc"}, "next"), ({"next": "elsewhere"}, "next"),
    ({"match[version]": "newest"}, "match[version]"), ({"limit": "0"}, None),
])
def test_bad_parameters_are_400(taxii_api: Api, params: dict[str, str], parameter: str | None) -> None:
    answer = taxii_api.get(f"{BASE}/collections/{COLLECTION_IDS['all']}/objects/", key="stix", params=params)
    body = assert_taxii_error(answer, 400, "invalid_parameter")
    if parameter:
        assert body["details"]["parameter"] == parameter


def _article_cursor() -> str:
    return Cursor(Listing.ARTICLES, ("2025-01-31T12:00:00+00:00", "article-1")).encode()


@pytest.mark.parametrize("cursor", [
    pytest.param(_article_cursor(), id="an articles next_cursor"),
    pytest.param(Cursor(Listing.REPORTS, ("indicator--00000000-0000-5000-8000-000000000000",)).encode(),
                 id="a Reports cursor holding no Report id"),
    pytest.param("rows:12", id="the old rows format"),
    pytest.param("reports:report--00000000-0000-5000-8000-000000000000", id="the old reports format"),
    pytest.param(base64.urlsafe_b64encode(b'["i", -1]').decode().rstrip("="), id="a negative row key"),
    pytest.param(base64.urlsafe_b64encode(b'["i", "12"]').decode().rstrip("="), id="a row key as text"),
    pytest.param("eyJub3QiOiAiYSBsaXN0In0", id="base64 of a JSON object"),
    pytest.param("%%%", id="not base64"),
    pytest.param("x" * 500, id="too long"),
])
def test_a_next_this_server_did_not_hand_out_is_400(taxii_api: Api, cursor: str) -> None:
    """``next`` is the store's opaque cursor: another listing's cursor, or anything else, is refused."""
    for endpoint in ("objects", "manifest"):
        answer = taxii_api.get(f"{BASE}/collections/{COLLECTION_IDS['all']}/{endpoint}/", key="stix",
                               params={"next": cursor})
        body = assert_taxii_error(answer, 400, "invalid_parameter")
        assert body["details"]["parameter"] == "next"


def test_next_is_an_opaque_store_cursor(taxii_api: Api, store: Store) -> None:
    """Paging hands out the store's cursors: row positions, then (past the rows) Report positions."""
    url = f"{BASE}/collections/{COLLECTION_IDS['all']}/objects/"
    listings: list[Listing] = []
    pulled: list[str] = []
    cursor: str | None = None
    while True:
        page = taxii_api.get(url, key="stix", params={"limit": 4} | ({"next": cursor} if cursor else {})).json()
        pulled += [obj["id"] for obj in page["objects"]]
        cursor = page.get("next")
        if cursor is None:
            break
        listings.append(Cursor.decode(cursor, Listing.INDICATORS, Listing.REPORTS).listing)
    assert sorted(pulled) == sorted(expected(store, None))
    assert listings[0] is Listing.INDICATORS and listings[-1] is Listing.REPORTS
    assert listings == sorted(listings, key=lambda listing: listing is Listing.REPORTS)  # rows, then Reports


def test_not_found_and_read_only(taxii_api: Api) -> None:
    all_id = COLLECTION_IDS["all"]
    unknown = taxii_api.get(f"{BASE}/collections/not-a-collection/", key="stix")
    assert_taxii_error(unknown, 404, "not_found")
    assert unknown.json()["details"] == {"collections": list(COLLECTION_IDS.values())}
    assert_taxii_error(taxii_api.get(f"{BASE}/collections/not-a-collection/objects/", key="stix"), 404, "not_found")
    missing = "indicator--00000000-0000-5000-8000-000000000000"
    absent = taxii_api.get(f"{BASE}/collections/{all_id}/objects/{missing}/", key="stix")
    assert_taxii_error(absent, 404, "not_found")
    assert absent.json()["details"] == {"id": missing}
    assert_taxii_error(taxii_api.get(f"{BASE}/collections/{all_id}/objects/{missing}/versions/", key="stix"),
                       404, "not_found")
    assert_taxii_error(taxii_api.get("/taxii2/other-root/", key="stix"), 404, "not_found")
    added = taxii_api.post(f"{BASE}/collections/{all_id}/objects/", key="stix",
                           headers={"Content-Type": TAXII}, content=b'{"objects": []}')
    assert assert_taxii_error(added, 403, "insufficient_scope")["details"]["can_write"] is False
    deleted = taxii_api.delete(f"{BASE}/collections/{all_id}/objects/{stix.IDENTITY_ID}/", key="stix")
    assert_taxii_error(deleted, 405, "method_not_allowed")
    assert deleted.headers["Allow"] == "GET"


def test_an_object_of_another_level_is_not_in_a_level_collection(taxii_api: Api, store: Store) -> None:
    low = next(i for i, obj in expected(store, "low").items() if obj["type"] == "indicator")
    high_url = f"{BASE}/collections/{COLLECTION_IDS['high']}/objects/{low}/"
    assert_taxii_error(taxii_api.get(high_url, key="stix"), 404, "not_found")
    all_url = f"{BASE}/collections/{COLLECTION_IDS['all']}/objects/{low}/"
    assert taxii_api.get(all_url, key="stix").json()["objects"][0]["id"] == low


def test_the_rest_of_the_api_keeps_its_envelope(taxii_api: Api) -> None:
    answer = taxii_api.get("/api/v1/iocs", key=None)
    assert answer.status_code == 401 and set(answer.json()) == {"error"}



def test_filters_answer_what_filtering_the_whole_collection_answers(taxii_api: Api, store: Store) -> None:
    """match[spec_version], match[version], added_after and match[type]=report are answered by the store's
    query (issue 12): over HTTP each answers what the unfiltered collection, filtered here, holds."""
    url = f"{BASE}/collections/{COLLECTION_IDS['all']}/objects/"
    everything = {obj["id"]: obj for obj in taxii_api.get(url, key="stix", params={"limit": 10_000}).json()["objects"]}
    manifest = taxii_api.get(f"{BASE}/collections/{COLLECTION_IDS['all']}/manifest/", key="stix",
                             params={"limit": 10_000}).json()["objects"]
    added = {r["id"]: r["date_added"] for r in manifest}
    assert set(added) == set(everything) == set(expected(store, None))
    report = next(obj for obj in everything.values() if obj["type"] == "report")
    dates = sorted(set(added.values()))
    middle = dates[len(dates) // 2]  # some objects were added after it, some not
    cases: list[tuple[dict[str, str], set[str]]] = [
        ({"match[spec_version]": "2.0"}, set()),
        ({"match[spec_version]": "2.0,2.1"}, set(everything)),
        ({"match[version]": report["modified"]},
         {i for i, obj in everything.items() if obj["modified"] == report["modified"]}),
        ({"added_after": "2999-01-01T00:00:00Z"}, set()),
        ({"added_after": middle}, {i for i, date in added.items() if date > middle}),
        ({"added_after": dates[-1]}, set()),
        ({"match[type]": "report"}, {i for i, obj in everything.items() if obj["type"] == "report"}),
    ]
    assert report["id"] in cases[2][1] and 0 < len(cases[4][1]) < len(everything)
    for params, want in cases:
        body = taxii_api.get(url, key="stix", params=params | {"limit": "10000"}).json()
        assert {obj["id"] for obj in body.get("objects", [])} == want, params
        assert all(obj == everything[obj["id"]] for obj in body.get("objects", [])), params
