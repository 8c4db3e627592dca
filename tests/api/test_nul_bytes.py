"""A NUL character in any API input is bad input, answered the same on SQLite and PostgreSQL.

PostgreSQL refuses NUL in text (and ``\\u0000`` in JSON), so every input that
reaches a query or a row used to answer 500 there while SQLite stored or matched
it. Each of the ten inputs below is sent to an app over each database: names
and filters are a 400 ``invalid_parameter`` naming the parameter, a key id is a
404, an XDR item is one of XDR's validation errors, and an article's text is
still extracted and stored (without the NUL).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from iocflow.store.filters import EVERYTHING, ArticleQuery, IndicatorQuery
from iocflow.store.store import Store
from iocflow.store.vocabulary import IndicatorType
from tests.api.conftest import Api, assert_error
from tests.services import empty_tables, postgres_schema, postgres_url

NUL = "\x00"


@pytest.fixture(scope="module")
def nul_schema_url() -> Iterator[str]:
    """A migrated schema of this module's own on the test PostgreSQL, dropped at the end."""
    url, why = postgres_url()
    if url is None:
        pytest.skip(why)
    with postgres_schema(url, "iocflow_nul") as scoped:
        yield scoped


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The store the app runs on: the sample-loaded SQLite copy, or an empty PostgreSQL schema."""
    if request.param == "sqlite":
        path = tmp_path / "iocflow.db"
        shutil.copyfile(request.getfixturevalue("loaded_db"), path)
        st = Store(f"sqlite:///{path}")
    else:
        st = Store(request.getfixturevalue("nul_schema_url"))
        empty_tables(st)
    try:
        yield st
    finally:
        st.close()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    # A 500 comes back as a response (the envelope), not as the test's own exception.
    return make_api(raise_server_exceptions=False)


def _xdr(api: Api, item: dict[str, Any], *, validate: bool = True) -> Any:
    good = {"indicator": "nul-test-good.top", "type": "DOMAIN_NAME", "severity": "HIGH", "reputation": "BAD"}
    bad = {"indicator": "nul-test-bad.top", "type": "DOMAIN_NAME", "severity": "HIGH", "reputation": "BAD"} | item
    return api.post("/public_api/v1/indicators/insert_jsons", key="writer",
                    json={"request_data": [good, bad], "validate": validate})


# -- the ten inputs ---------------------------------------------------------------------------


def test_key_name(api: Api, store: Store) -> None:
    before = store.keys()
    details = assert_error(api.post("/api/v1/keys", key="admin", json={"name": f"fire{NUL}wall"}),
                           400, "invalid_parameter")
    assert details["parameter"] == "name"
    assert store.keys() == before


def test_key_id_in_the_path(api: Api, store: Store) -> None:
    assert_error(api.delete("/api/v1/keys/sk_live_%00"), 404, "not_found")
    [admin] = [k for k in store.keys() if k.name == "admin"]
    assert_error(api.delete(f"/api/v1/keys/{admin.id}%00"), 404, "not_found")
    assert all(k.active for k in store.keys())


def test_extract_store_text(api: Api, store: Store) -> None:
    """Text holding NUL is still read: the indicators around it are found and stored, the NUL is not."""
    body = f"C2 at nul-text-c2.top{NUL} and 45.155.205.99{NUL}{NUL} beacon."
    response = api.post("/api/v1/extract?store=true", key="writer",
                        json={"text": body, "title": "NUL text", "url": "https://nul.example/report"})
    assert response.status_code == 200, response.text
    found = {i["value"] for i in response.json()["indicators"]}
    assert {"nul-text-c2.top", "45.155.205.99"} <= found
    stored = response.json()["stored"]
    assert stored["failed"] is None and stored["new"] >= 2 and stored["rejected"] == 0
    detail = store.indicator(IndicatorType.DOMAIN, "nul-text-c2.top")
    assert detail is not None
    [sighting] = detail.sightings
    assert sighting.context and "nul-text-c2.top" in sighting.context and NUL not in sighting.context
    [article] = store.articles(ArticleQuery.parse(text="nul.example/report"), limit=5).items
    assert article.title == "NUL text"


def test_extract_store_text_only(api: Api, store: Store) -> None:
    """No title given: the first line is the title, and its NUL is not stored either."""
    response = api.post("/api/v1/extract?store=true", key="writer", content=f"Re{NUL}port nul-first.top\nmore",
                        headers={"Content-Type": "text/plain"})
    assert response.status_code == 200, response.text
    assert response.json()["stored"]["new"] >= 1
    titles = [a.title for a in store.articles(ArticleQuery(), limit=500).items]
    assert "Re port nul-first.top" in titles


@pytest.mark.parametrize("stored", ["true", "false"])
@pytest.mark.parametrize("field", ["title", "url"])
def test_extract_store_title_and_url(api: Api, store: Store, field: str, stored: str) -> None:
    """A title or URL with a NUL is refused, whether the document is to be stored or not."""
    fields = {"title": "A report", "url": "https://nul.example/a"} | {field: f"https://nul{NUL}.example/b"}
    before = store.count(EVERYTHING)
    details = assert_error(api.post(f"/api/v1/extract?store={stored}", key="writer",
                                    json={"text": "C2 at nul-title.top", **fields}), 400, "invalid_parameter")
    assert details["parameter"] == field
    assert store.count(EVERYTHING) == before


def test_articles_q(api: Api) -> None:
    details = assert_error(api.get("/api/v1/articles?q=lan%00tern"), 400, "invalid_parameter")
    assert details["parameter"] == "q"


@pytest.mark.parametrize(
    ("item", "field"),
    [
        pytest.param({"comment": f"seen in {NUL}phishing"}, "comment", id="comment"),
        pytest.param({"vendors": [{"vendor_name": f"Virus{NUL}Total", "reputation": "BAD"}]}, "vendor_name",
                     id="vendor"),
        pytest.param({"class": f"Mal{NUL}ware"}, "class", id="class"),
    ],
)
def test_xdr_push_fields(api: Api, store: Store, item: dict[str, Any], field: str) -> None:
    """An item with a NUL is one of XDR's validation errors: validate=true stores nothing, false the rest."""
    before = store.count(EVERYTHING)
    response = _xdr(api, item)
    assert response.status_code == 200, response.text
    reply = response.json()["reply"]
    assert reply["success"] is False
    [error] = reply["validation_errors"]
    assert error["index"] == 1 and error["indicator"] == "nul-test-bad.top" and field in error["error"]
    assert store.count(EVERYTHING) == before

    response = _xdr(api, item, validate=False)
    assert response.status_code == 200, response.text
    assert [e["index"] for e in response.json()["reply"]["validation_errors"]] == [1]
    assert store.count(EVERYTHING) == before + 1
    assert store.count(IndicatorQuery.parse(feeds="xdr-push:writer")) == 1


@pytest.mark.parametrize("path", ["/api/v1/iocs", "/api/v1/articles", "/api/v1/export/stix"])
def test_feed_filter(api: Api, path: str) -> None:
    details = assert_error(api.get(f"{path}?feed=urlhaus,%00", key="admin"), 400, "invalid_parameter")
    assert details["parameter"] == "feed"


# -- more of the same kinds -------------------------------------------------------------------


@pytest.mark.parametrize("param", ["type", "category", "industry"])
def test_other_list_filters(api: Api, param: str) -> None:
    details = assert_error(api.get(f"/api/v1/iocs?{param}=a%00b"), 400, "invalid_parameter")
    assert details["parameter"] == param


def test_xdr_indicator_value(api: Api, store: Store) -> None:
    before = store.count(EVERYTHING)
    response = _xdr(api, {"indicator": f"nul-test-bad.top{NUL}"})
    assert response.status_code == 200, response.text
    assert [e["index"] for e in response.json()["reply"]["validation_errors"]] == [1]
    assert store.count(EVERYTHING) == before
