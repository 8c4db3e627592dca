"""A Redis outage: every path still answers, quickly and in the error envelope, with limits per process.

Redis is made unreachable three ways: a closed port (connections refused), a
silent port (connections accepted, never answered), and a proxy in front of the
real Redis that the test turns silent and back, to see the limiter fall back
and then share its counts again.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from iocflow.api.app import create_app
from iocflow.api.limits import RateLimiter, Verdict
from iocflow.settings import Settings
from iocflow.store.store import Store
from tests.api.redis_doubles import Proxy, SilentServer

CLOSED_PORT = "redis://127.0.0.1:1/0"
#: A tier small enough to reach its limit in a few requests.
TINY = {"tiny": {"per_minute": 3, "per_day": 1000, "max_results": 10, "lookback_days": 1, "formats": ["json"]}}
#: The most any answer may take while Redis is down (the Redis timeout is 0.5 s by default).
PROMPT = 3.0


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


@pytest.fixture
def proxy(redis: str) -> Iterator[Proxy]:
    from urllib.parse import urlsplit

    parts = urlsplit(redis)
    p = Proxy((parts.hostname or "127.0.0.1", parts.port or 6379))
    yield p
    p.close()


def within(seconds: float, call: Callable[[], Any]) -> Any:
    """``call()``'s answer, failing the test (instead of hanging it) if it takes over ``seconds``."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["answer"] = call()
        except BaseException as exc:  # handed to the test below
            box["error"] = exc

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"no answer in {seconds} s"
    if "error" in box:
        raise box["error"]
    box["answer"].elapsed_s = time.monotonic() - started
    return box["answer"]


def app_over(tmp_path: Path, redis: str, **settings: Any) -> tuple[TestClient, dict[str, str]]:
    """A client of an app counting in ``redis``, and the headers of a key of the tiny tier."""
    store = Store(f"sqlite:///{tmp_path / 'o.db'}")
    store.upgrade()
    _, secret = store.create_key(name="tiny", tier="tiny", scopes=("read:iocs",))
    config = Settings(database_url=store.url, redis_url=redis, redis_prefix=f"iocflow-test-{secrets.token_hex(6)}",
                      tiers=TINY, **settings)
    return TestClient(create_app(config, store=store), raise_server_exceptions=False), {"X-API-Key": secret}


def assert_envelope(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["request_id"] == response.headers["X-Request-ID"]


def assert_answers_without_redis(client: TestClient, headers: dict[str, str]) -> None:
    """Every kind of path answers promptly, health says degraded, the tiny tier's limit still holds."""
    health = within(PROMPT + 1, lambda: client.get("/healthz"))
    assert health.status_code == 200, health.text
    body = health.json()
    assert body["status"] == "degraded" and body["database"] == "ok"
    assert body["rate_limits"].startswith("degraded: "), body
    assert "per process" in body["rate_limits"]
    schema = within(PROMPT, lambda: client.get("/openapi.json"))
    assert schema.status_code == 200 and schema.json()["info"]["title"] == "iocflow"
    assert "X-RateLimit-Limit" in schema.headers
    assert_envelope(within(PROMPT, lambda: client.get("/no/such/path")), 404, "not_found")
    assert_envelope(within(PROMPT, lambda: client.get("/api/v1/iocs")), 401, "missing_api_key")
    answers = [within(PROMPT, lambda: client.get("/api/v1/iocs", headers=headers)) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert_envelope(answers[3], 429, "rate_limit_exceeded")
    assert max(a.elapsed_s for a in answers) < PROMPT


@pytest.mark.usefixtures("fresh_minute")
def test_closed_port_every_path_answers(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    client, headers = app_over(tmp_path, CLOSED_PORT)
    with caplog.at_level(logging.INFO, logger="iocflow.api"):
        assert_answers_without_redis(client, headers)
    warnings = [r for r in caplog.records if r.name == "iocflow.api" and r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]  # once per outage, not per request
    assert "127.0.0.1:1" in warnings[0].getMessage() and "per process" in warnings[0].getMessage()


@pytest.mark.usefixtures("fresh_minute")
def test_silent_port_every_path_answers(tmp_path: Path, silent: SilentServer) -> None:
    client, headers = app_over(tmp_path, silent.url)
    started = time.monotonic()
    assert_answers_without_redis(client, headers)
    # after the first timeout, requests no longer wait for Redis (one retry per back-off at most)
    assert time.monotonic() - started < 2 * PROMPT


def test_redis_password_stays_out_of_health_and_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    client, _ = app_over(tmp_path, "redis://:hunter2-redis-pass@127.0.0.1:1/0")
    with caplog.at_level(logging.INFO, logger="iocflow.api"):
        health = within(PROMPT, lambda: client.get("/healthz"))
    assert health.json()["status"] == "degraded"
    assert "hunter2" not in health.text and "hunter2" not in caplog.text
    assert "127.0.0.1:1" in caplog.text


@pytest.mark.usefixtures("fresh_minute")
def test_falls_back_and_recovers(tmp_path: Path, proxy: Proxy, redis: str,
                                 caplog: pytest.LogCaptureFixture) -> None:
    client, headers = app_over(tmp_path, proxy.url, redis_timeout=0.3, redis_retry_seconds=0.5)
    with caplog.at_level(logging.INFO, logger="iocflow.api"):
        first = within(PROMPT, lambda: client.get("/api/v1/iocs", headers=headers))
        assert first.headers["X-RateLimit-Remaining"] == "2"  # counted in Redis
        assert within(PROMPT, lambda: client.get("/healthz")).json()["rate_limits"] == "redis"

        proxy.silent = True
        for _ in range(3):
            answer = within(PROMPT, lambda: client.get("/api/v1/iocs", headers=headers))
            assert answer.status_code == 200
            assert answer.elapsed_s < PROMPT
        assert answer.headers["X-RateLimit-Remaining"] == "0"  # the process's own count: 3 of 3
        assert within(PROMPT, lambda: client.get("/healthz")).json()["status"] == "degraded"
        assert_envelope(within(PROMPT, lambda: client.get("/api/v1/iocs", headers=headers)), 429,
                        "rate_limit_exceeded")

        proxy.silent = False
        deadline = time.monotonic() + 5
        while (health := within(PROMPT, lambda: client.get("/healthz")).json())["rate_limits"] != "redis":
            assert time.monotonic() < deadline, health
            time.sleep(0.1)
        assert health["status"] == "ok"
        # Redis counts again: the count it kept from before the outage, not the process's
        back = within(PROMPT, lambda: client.get("/api/v1/iocs", headers=headers))
        assert back.status_code == 200 and back.headers["X-RateLimit-Remaining"] == "1"

    messages = [r.getMessage() for r in caplog.records if r.name == "iocflow.api"]
    warnings = [r for r in caplog.records if r.name == "iocflow.api" and r.levelno == logging.WARNING]
    assert len(warnings) == 1, messages
    assert any("Redis" in m and "again" in m for m in messages), messages


class BrokenLimiter(RateLimiter):
    def peek(self, identity: str, per_minute: int) -> Verdict:
        raise RuntimeError("peek failed")


def test_a_failing_limit_header_leaves_the_answer_alone(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Headers for a keyless answer come from the limiter; if it fails, the answer goes out without them."""
    store = Store(f"sqlite:///{tmp_path / 'b.db'}")
    store.upgrade()
    client = TestClient(create_app(Settings(database_url=store.url), store=store, limiter=BrokenLimiter()),
                        raise_server_exceptions=False)
    schema = within(PROMPT, lambda: client.get("/openapi.json"))
    assert schema.status_code == 200 and "X-RateLimit-Limit" not in schema.headers
    assert_envelope(within(PROMPT, lambda: client.get("/no/such/path")), 404, "not_found")
    assert "rate-limit headers failed" in caplog.text
