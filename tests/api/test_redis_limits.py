"""Rate limits shared through a real Redis: two API workers count against one limit."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from iocflow.api.app import create_app
from iocflow.api.limits import RateLimiter
from iocflow.settings import Settings
from iocflow.store.store import Store


@pytest.mark.usefixtures("fresh_minute")
def test_two_workers_share_one_limit(tmp_path: Path, redis: str) -> None:
    store = Store(f"sqlite:///{tmp_path / 'r.db'}")
    store.upgrade()
    prefix = f"iocflow-test-{secrets.token_hex(6)}"  # this run's own keys in Redis
    settings = Settings(database_url=store.url, redis_url=redis, redis_prefix=prefix,
                        tiers={"tiny": {"per_minute": 5, "per_day": 1000, "max_results": 10, "lookback_days": 1,
                                        "formats": ["json"]}})
    workers = [TestClient(create_app(settings, store=store, limiter=RateLimiter(redis, prefix=prefix)))
               for _ in range(2)]
    _, secret = store.create_key(name="shared", tier="tiny", scopes=("read:iocs",))
    headers = {"Authorization": f"Bearer {secret}"}
    answers = [workers[i % 2].get("/api/v1/iocs", headers=headers) for i in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert [int(a.headers["X-RateLimit-Remaining"]) for a in answers[:5]] == [4, 3, 2, 1, 0]
    assert answers[5].json()["error"]["code"] == "rate_limit_exceeded"
    assert int(answers[5].headers["Retry-After"]) >= 1
    assert workers[0].get("/healthz").json()["rate_limits"] == "redis"
    # another key is counted on its own
    _, other = store.create_key(name="other", tier="tiny", scopes=("read:iocs",))
    assert workers[1].get("/api/v1/iocs", headers={"X-API-Key": other}).status_code == 200
