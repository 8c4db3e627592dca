"""How fast the read side answers: feed pages, keyset walks, CSV and exports over a filled SQLite store.

The store is filled with the ingest benchmark's synthetic indicators (the same
mix and seed), then each request is sent through the ASGI app in-process
(Starlette's TestClient: no network, one worker) ``--repeat`` times; the table
gives each request's median latency. Results go into ``docs/benchmarks.md``
between this script's markers unless ``--no-write``.

    python bench/feed_bench.py                        # 200,000 indicators
    python bench/feed_bench.py --rows 50000 --repeat 5 --no-write
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from ingest_bench import commit, run, synthetic  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from iocflow.api.app import create_app  # noqa: E402
from iocflow.settings import Settings  # noqa: E402
from iocflow.store.store import Store  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- feed-bench:start -->", "<!-- feed-bench:end -->"
SCOPES = ("read:iocs", "read:stix", "admin")


def secret_for(store: Store) -> str:
    _, secret = store.create_key(name="bench", tier="pro", scopes=SCOPES)
    return secret


def timed(call: Callable[[], object], repeat: int) -> float:
    """The median wall time of ``call`` in milliseconds (one warm-up call first)."""
    call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def requests(client: TestClient) -> list[tuple[str, Callable[[], object]]]:
    def get(path: str, **params: object) -> Callable[[], object]:
        def call() -> object:
            answer = client.get(path, params=params)
            assert answer.status_code == 200, (path, params, answer.status_code, answer.text[:300])
            return answer.content
        return call

    def walk(pages: int) -> Callable[[], object]:
        def call() -> object:
            cursor = None
            for _ in range(pages):
                body = client.get("/api/v1/iocs", params={"limit": 100} | ({"cursor": cursor} if cursor else {})).json()
                cursor = body["meta"]["next_cursor"]
            return cursor
        return call

    return [
        ("`/api/v1/iocs?limit=100` (JSON, with total)", get("/api/v1/iocs", limit=100)),
        ("`type=ipv4&confidence=high` (JSON)", get("/api/v1/iocs", limit=100, type="ipv4", confidence="high")),
        ("`limit=100&format=csv`", get("/api/v1/iocs", limit=100, format="csv")),
        ("20 keyset pages of 100 (JSON)", walk(20)),
        ("`limit=10000` JSON", get("/api/v1/iocs", limit=10000)),
        ("`limit=10000&format=csv`", get("/api/v1/iocs", limit=10000, format="csv")),
        ("`/api/v1/export/stix?limit=10000`", get("/api/v1/export/stix", limit=10000)),
        ("`/api/v1/export/cef?limit=10000`", get("/api/v1/export/cef", limit=10000)),
        ("`/api/v1/lookup` (known value)", get("/api/v1/lookup", value="45.155.205.233")),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="print the table, leave docs/benchmarks.md alone")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'feed.db'}"
        store = Store(url)
        store.upgrade()
        run(store, synthetic(args.rows))
        secret = secret_for(store)
        settings = Settings(database_url=url)
        with TestClient(create_app(settings, store=store), headers={"Authorization": f"Bearer {secret}"}) as client:
            rows = [(name, timed(call, args.repeat)) for name, call in requests(client)]
        store.close()
    command = f"python bench/feed_bench.py --rows {args.rows} --repeat {args.repeat}"
    lines = [f"Feed and export latency over {args.rows:,} synthetic indicators in SQLite (commit {commit()}), "
             f"median of {args.repeat} requests through the ASGI app in-process. Command: `{command}`.", "",
             "| request | median ms |", "|---|---:|"]
    lines += [f"| {name} | {ms:,.1f} |" for name, ms in rows]
    section = "\n".join(lines)
    print(section)
    if not args.no_write:
        text = DOC.read_text()
        block = f"{START}\n{section}\n{END}"
        if START in text:
            text = text[:text.index(START)] + block + text[text.index(END) + len(END):]
        else:
            text = text.rstrip() + "\n\n## Feed and export latency\n\n" + block + "\n"
        DOC.write_text(text)


if __name__ == "__main__":
    main()
