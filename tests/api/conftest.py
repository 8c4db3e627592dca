"""The API under test: an app over a temporary SQLite store holding the sample feeds and an article.

The sample data is ingested once per session into a template database; each
test gets its own copy, its own keys (one per tier and scope set) and its own
app, so rate-limit counters and stored rows never leak between tests.

What the copy holds, in short: the abuse.ch, STIX and MISP samples (2024 dates:
older than any tier's lookback, so the feed serves them to no one), and the
"Operation Paper Lantern" article ingested now (the rows every tier sees).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from iocflow.api.app import create_app
from iocflow.ingest.service import ingest_article, ingest_feed
from iocflow.settings import Settings
from iocflow.store.records import Observation, Source
from iocflow.store.store import Store
from iocflow.store.vocabulary import IndicatorType, Reliability, SourceCategory, SourceKind
from tests.services import redis_url

FIXTURES = Path(__file__).parent.parent / "ingest" / "fixtures"
FEEDS = ("feodo_ipblocklist.json", "urlhaus_recent.csv", "threatfox_recent.json", "stix_bundle.json",
         "misp_feed/manifest.json")
ARTICLE = FIXTURES / "article_blog.html"
ARTICLE_TITLE = "Operation Paper Lantern: a loader aimed at regional banks"
#: Values the article names (stored with last_seen = when the session started).
ARTICLE_IP = "185.220.101.47"
ARTICLE_DOMAIN = "paper-lantern.top"
ARTICLE_SHA256 = "5f2b7e3c9d1a4e6b8c0d2f4a6b8c0e2d4f6a8b0c2e4d6f8a0b2c4e6d8f0a2b4c"
#: A sample-feed value on the bundled allowlist (a documentation range), seen now by ThreatFox.
ALLOWLISTED_IP = "198.51.100.37"

#: Scope sets of the keys every test gets, by name: (tier, scopes).
KEYS: dict[str, tuple[str, tuple[str, ...]]] = {
    "free": ("free", ("read:iocs", "extract")),
    "pro": ("pro", ("read:iocs", "extract")),
    "writer": ("pro", ("read:iocs", "extract", "write:indicators")),
    "admin": ("pro", ("admin",)),
    "extract_only": ("pro", ("extract",)),
}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def record(store: Store, values: list[tuple[IndicatorType, str]], *, now: datetime | None = None,
           source: str = "test-feed", category: SourceCategory = SourceCategory.THREAT_INTEL,
           reliability: Reliability = Reliability.B, **fields: Any) -> None:
    """Store ``values`` as one feed's sightings at ``now`` (default: the real now); ``fields`` go on each."""
    feed = Source(source, SourceKind.FEED, category, reliability)
    store.record(feed, [Observation(kind, value, **fields) for kind, value in values], now=now or datetime.now(UTC))


@pytest.fixture(scope="session")
def loaded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database holding the sample feeds and the article (built once)."""
    path = tmp_path_factory.mktemp("api-template") / "iocflow.db"
    store = Store(f"sqlite:///{path}")
    store.upgrade()
    for feed in FEEDS:
        report, _ = ingest_feed(store, str(FIXTURES / feed))
        assert report.failed is None and report.new, report
    report = ingest_article(store, str(ARTICLE))
    assert report.failed is None and report.new, report
    store.close()
    return path


@pytest.fixture
def redis() -> str:
    """The test Redis's URL (the test is skipped, with the reason, when there is none)."""
    url, why = redis_url()
    if url is None:
        pytest.skip(why)
    return url


@pytest.fixture
def store(loaded_db: Path, tmp_path: Path) -> Iterator[Store]:
    """This test's own copy of the loaded database."""
    path = tmp_path / "iocflow.db"
    shutil.copyfile(loaded_db, path)
    st = Store(f"sqlite:///{path}")
    try:
        yield st
    finally:
        st.close()


@pytest.fixture
def keys(store: Store) -> dict[str, str]:
    """A secret per entry of ``KEYS``."""
    return {name: store.create_key(name=name, tier=tier, scopes=scopes)[1] for name, (tier, scopes) in KEYS.items()}


@dataclass
class Api:
    """A client of one app, with a ``get``/``post`` that present one of the test's keys by name."""

    client: TestClient
    keys: dict[str, str]

    def get(self, url: str, key: str | None = "pro", **kwargs: Any) -> Any:
        return self.client.get(url, headers=self._headers(key, kwargs.pop("headers", None)), **kwargs)

    def post(self, url: str, key: str | None = "pro", **kwargs: Any) -> Any:
        return self.client.post(url, headers=self._headers(key, kwargs.pop("headers", None)), **kwargs)

    def delete(self, url: str, key: str | None = "admin", **kwargs: Any) -> Any:
        return self.client.delete(url, headers=self._headers(key, kwargs.pop("headers", None)), **kwargs)

    def _headers(self, key: str | None, extra: dict[str, str] | None) -> dict[str, str]:
        return (bearer(self.keys[key]) if key else {}) | (extra or {})


@pytest.fixture
def make_api(store: Store, keys: dict[str, str]) -> Callable[..., Api]:
    """An ``Api`` over the test's store; keyword arguments become ``Settings`` fields."""

    def make(*, raise_server_exceptions: bool = True, **settings: Any) -> Api:
        app = create_app(Settings(database_url=store.url, **settings), store=store)
        return Api(TestClient(app, raise_server_exceptions=raise_server_exceptions), keys)

    return make


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    """The default app and client."""
    return make_api()


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """``response`` is the error envelope with this status and code; returns ``details``."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details", "request_id"}
    assert error["code"] == code, error
    assert error["message"]
    assert error["request_id"] == response.headers["X-Request-ID"]
    return error["details"]  # type: ignore[no-any-return]


@pytest.fixture
def fresh_minute() -> None:
    """Start a test that counts requests early in a clock minute.

    Rate limits are fixed windows aligned to the minute; requests straddling the
    boundary would be counted in two windows and the test would flake.
    """
    into = time.time() % 60
    if into > 50:
        time.sleep(60.5 - into)
