"""CPU time of one revision's ingest, extraction or feed read: for before/after comparisons on a busy machine.

Wall time on a shared machine moves with the load; CPU time of the same work
much less. Check out the revisions to compare as worktrees, then alternate:

    git worktree add /tmp/before <rev>
    for i in 1 2 3; do for t in /tmp/before .; do
        taskset -c 1 python bench/cpu_compare.py ingest $t; done; done

    python bench/cpu_compare.py ingest TREE [--rows 150000]   # the ingest benchmark's store_observations, SQLite
    python bench/cpu_compare.py extract TREE                  # extract() over bench/corpus, second pass timed
    python bench/cpu_compare.py read TREE                     # one 10,000-row feed page of a 60,000-row store

TREE is a checkout whose ``src`` and ``bench`` are used (the corpus is always this checkout's).
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"


def ingest(rows: int) -> str:
    from ingest_bench import run, synthetic

    from iocflow.store.store import Store

    data = synthetic(rows)
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{folder}/cpu.db")
        store.upgrade()
        store.allowlist()
        started = time.process_time()
        run(store, data)
        cpu = time.process_time() - started
        store.close()
    return f"ingest {rows:,} rows: {cpu:.2f} CPU s"


def extract_corpus() -> str:
    from iocflow.extract import extract

    docs = [gzip.decompress(p.read_bytes()).decode("utf-8", "replace") for p in sorted(CORPUS.glob("*.txt.gz"))]
    for doc in docs:  # warm caches as a long-running process has them
        extract(doc)
    started = time.process_time()
    found = sum(len(extract(doc).indicators) for doc in docs)
    cpu = time.process_time() - started
    size = sum(len(doc.encode()) for doc in docs) / 1e6
    return f"extract {size:.1f} MB, {found:,} indicators: {cpu:.2f} CPU s"


def read_page(rows: int) -> str:
    from ingest_bench import run, synthetic

    from iocflow.store.store import Store

    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{folder}/cpu.db")
        store.upgrade()
        run(store, synthetic(rows))
        now = datetime.now(UTC)
        if hasattr(store, "indicators"):  # the read interface
            from iocflow.store.filters import IndicatorQuery

            def page() -> object:
                return store.indicators(IndicatorQuery(now=now), limit=10_000)
        else:  # before it: a session and the query function
            from iocflow.store.queries import IndicatorFilter, list_indicators  # type: ignore[attr-defined]

            def page() -> object:
                with store.transaction() as session:  # type: ignore[attr-defined]
                    return list_indicators(session, IndicatorFilter(now=now), limit=10_001, with_total=False)
        page()
        samples = []
        for _ in range(5):
            started = time.process_time()
            page()
            samples.append(time.process_time() - started)
        store.close()
    return f"read a 10,000-row page: {min(samples) * 1000:.0f} CPU ms (best of 5)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("ingest", "extract", "read"))
    parser.add_argument("tree", type=Path)
    parser.add_argument("--rows", type=int, default=None)
    args = parser.parse_args()
    sys.path[:0] = [str(args.tree.resolve() / "src"), str(args.tree.resolve() / "bench")]
    if args.what == "ingest":
        result = ingest(args.rows or 150_000)
    elif args.what == "extract":
        result = extract_corpus()
    else:
        result = read_page(args.rows or 60_000)
    print(f"{args.tree}: {result}")


if __name__ == "__main__":
    main()
