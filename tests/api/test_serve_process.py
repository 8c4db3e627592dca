"""`iocflow serve` as a real process, called over HTTP, its output read."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson

from iocflow.store.store import Store
from tests.api.redis_doubles import SilentServer

#: A tier small enough to reach its limit in a few requests.
TINY = {"tiny": {"per_minute": 3, "per_day": 1000, "max_results": 10, "lookback_days": 1, "formats": ["json"]}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    base: str
    output: str = field(default="")  # everything the process printed, once it has stopped


@contextmanager
def serve(env: dict[str, str], log_level: str = "warning") -> Iterator[Served]:
    """An ``iocflow serve`` process with ``env`` on a free port, answering /healthz; stopped on exit."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "iocflow.cli", "serve", "--port", str(port), "--log-level", log_level],
        env=os.environ | env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    served = Served(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{served.base}/healthz", timeout=5)
                break
            except httpx.ConnectError:
                assert server.poll() is None, server.stdout.read().decode() if server.stdout else "server died"
                assert time.monotonic() < deadline, "server did not start in 30 s"
                time.sleep(0.2)
        yield served
    finally:
        server.terminate()
        try:
            out, _ = server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            out, _ = server.communicate(timeout=15)
        served.output = out.decode()


def _store_with_key(tmp_path: Path, tier: str, scopes: tuple[str, ...]) -> tuple[str, str]:
    url = f"sqlite:///{tmp_path / 'served.db'}"
    store = Store(url)
    store.upgrade()
    _, secret = store.create_key(name="proc", tier=tier, scopes=scopes)
    store.close()
    return url, secret


def test_serve_answers_over_http(tmp_path: Path) -> None:
    url, secret = _store_with_key(tmp_path, "pro", ("read:iocs", "extract"))
    with serve({"IOCFLOW_DATABASE_URL": url}) as served:
        base = served.base
        health = httpx.get(f"{base}/healthz", timeout=5)
        assert health.status_code == 200 and health.json()["database"] == "ok"
        headers = {"Authorization": f"Bearer {secret}"}
        extracted = httpx.post(f"{base}/api/v1/extract", headers=headers, timeout=10,
                               content="C2 at 45.155.205[.]233 and hxxps://paper-lantern[.]top/gate.php")
        assert extracted.status_code == 200
        assert extracted.json()["data"]["ipv4s"] == ["45.155.205.233"]
        feed = httpx.get(f"{base}/api/v1/iocs", headers=headers, timeout=10)
        assert feed.status_code == 200 and feed.headers["X-RateLimit-Limit"] == "1000"
        assert httpx.get(f"{base}/api/v1/iocs", timeout=10).status_code == 401


def test_served_log_carries_no_key(tmp_path: Path) -> None:
    url, secret = _store_with_key(tmp_path, "pro", ("read:iocs",))
    wrong = "sk_live_" + "W" * 43
    with serve({"IOCFLOW_DATABASE_URL": url}, log_level="info") as served:
        base = served.base
        assert httpx.get(f"{base}/api/v1/iocs?api_key={secret}&limit=1", timeout=10).status_code == 200
        assert httpx.get(f"{base}/api/v1/iocs", params={"limit": 1, "api_key": wrong}, timeout=10).status_code == 401
        assert httpx.get(f"{base}/api/v1/iocs?api%5Fkey={secret}", timeout=10).status_code == 200
        assert httpx.get(f"{base}/api/v1/iocs", headers={"Authorization": f"Bearer {secret}"},
                         timeout=10).status_code == 200
        assert httpx.get(f"{base}/api/v1/iocs", headers={"X-API-Key": wrong}, timeout=10).status_code == 401
    log = served.output
    assert "GET /api/v1/iocs?api_key=[REDACTED]&limit=1 HTTP/1.1" in log, log
    assert "GET /api/v1/iocs?limit=1&api_key=[REDACTED] HTTP/1.1" in log, log
    assert "GET /api/v1/iocs?api%5Fkey=[REDACTED] HTTP/1.1" in log, log
    assert secret not in log and secret[8:] not in log and wrong not in log


def test_serve_with_a_silent_redis(tmp_path: Path) -> None:
    """Redis accepts connections and never answers: every path answers in seconds, limits per process."""
    url, secret = _store_with_key(tmp_path, "tiny", ("read:iocs",))
    silent = SilentServer()
    env = {"IOCFLOW_DATABASE_URL": url, "IOCFLOW_REDIS_URL": silent.url, "IOCFLOW_TIERS": orjson.dumps(TINY).decode()}
    try:
        with serve(env) as served:
            base = served.base
            health = httpx.get(f"{base}/healthz", timeout=5)
            assert health.status_code == 200, health.text
            assert health.json()["status"] == "degraded" and health.json()["rate_limits"].startswith("degraded: ")
            assert httpx.get(f"{base}/openapi.json", timeout=5).status_code == 200
            missing = httpx.get(f"{base}/nope", timeout=5)
            assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
            headers = {"X-API-Key": secret}
            if time.time() % 60 > 55:  # the fixed one-minute window must hold all four requests
                time.sleep(60.5 - time.time() % 60)
            answers = [httpx.get(f"{base}/api/v1/iocs", headers=headers, timeout=5) for _ in range(4)]
            assert [a.status_code for a in answers] == [200, 200, 200, 429]
            assert answers[3].json()["error"]["code"] == "rate_limit_exceeded"
    finally:
        silent.close()
    warnings = [line for line in served.output.splitlines() if "Redis" in line and "per process" in line]
    assert len(warnings) == 1, served.output
