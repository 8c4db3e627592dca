"""`iocflow serve` as a real process, called over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from iocflow.store.store import Store

FIXTURES = Path(__file__).parent.parent / "ingest" / "fixtures"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_over_http(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'served.db'}"
    store = Store(url)
    store.upgrade()
    _, secret = store.create_key(name="proc", tier="pro", scopes=("read:iocs", "extract"))
    store.close()
    port = _free_port()
    env = os.environ | {"IOCFLOW_DATABASE_URL": url}
    server = subprocess.Popen(
        [sys.executable, "-m", "iocflow.cli", "serve", "--port", str(port), "--log-level", "warning"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read().decode() if server.stdout else "server died"
                assert time.monotonic() < deadline, "server did not start in 30 s"
                time.sleep(0.2)
        assert health.status_code == 200 and health.json()["database"] == "ok"
        headers = {"Authorization": f"Bearer {secret}"}
        extracted = httpx.post(f"{base}/api/v1/extract", headers=headers, timeout=10,
                               content="C2 at 45.155.205[.]233 and hxxps://paper-lantern[.]top/gate.php")
        assert extracted.status_code == 200
        assert extracted.json()["data"]["ipv4s"] == ["45.155.205.233"]
        feed = httpx.get(f"{base}/api/v1/iocs", headers=headers, timeout=10)
        assert feed.status_code == 200 and feed.headers["X-RateLimit-Limit"] == "1000"
        assert httpx.get(f"{base}/api/v1/iocs", timeout=10).status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=15)
