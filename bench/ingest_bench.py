"""How fast the store takes indicators: N synthetic indicators into SQLite and PostgreSQL.

The mix imitates what feeds deliver (URLs, domains, IPv4/IPv6, hashes, e-mail
addresses), 10% of rows repeat an earlier indicator, and rows arrive in the
batches the ingest runner uses. What is timed is the runner's ``store_observations`` (dedup,
sightings, summaries, allowlist, writes, commits); building the observations
is not. Results go into ``docs/benchmarks.md`` between this script's markers.

    python bench/ingest_bench.py                     # 1,000,000 rows, SQLite and PostgreSQL
    python bench/ingest_bench.py --repeat 3          # each backend 3 times: the median run, and the range
    python bench/ingest_bench.py --rows 100000 --no-write
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from iocflow.ingest.report import IngestReport  # noqa: E402
from iocflow.ingest.runner import BATCH_SIZE, store_observations  # noqa: E402
from iocflow.store.records import Observation, Source  # noqa: E402
from iocflow.store.store import Store  # noqa: E402
from iocflow.store.vocabulary import IndicatorType, Reliability, Reputation, SourceCategory, SourceKind  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- ingest-bench:start -->", "<!-- ingest-bench:end -->"
MIX = [  # (type, share)
    (IndicatorType.URL, 0.30), (IndicatorType.DOMAIN, 0.20), (IndicatorType.IPV4, 0.20), (IndicatorType.IPV6, 0.03),
    (IndicatorType.SHA256, 0.12), (IndicatorType.MD5, 0.07), (IndicatorType.SHA1, 0.04), (IndicatorType.EMAIL, 0.04),
]
TLDS = ("com", "net", "org", "ru", "top", "xyz", "info", "cn", "io", "online")
WORDS = ("update", "cdn", "secure", "login", "mail", "files", "cloud", "sync", "portal", "static", "api", "dl")


def value_of(kind: IndicatorType, rng: random.Random) -> str:
    host = f"{rng.choice(WORDS)}-{rng.getrandbits(32):08x}.{rng.choice(TLDS)}"
    if kind is IndicatorType.URL:
        return f"http://{host}/{rng.choice(WORDS)}/{rng.getrandbits(40):010x}.php"
    if kind is IndicatorType.DOMAIN:
        return host
    if kind is IndicatorType.IPV4:
        return f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    if kind is IndicatorType.IPV6:
        return f"2a01:{rng.getrandbits(16):x}:{rng.getrandbits(16):x}::{rng.getrandbits(16):x}"
    if kind is IndicatorType.EMAIL:
        return f"{rng.choice(WORDS)}{rng.getrandbits(16)}@{host}"
    bits = {IndicatorType.MD5: 128, IndicatorType.SHA1: 160, IndicatorType.SHA256: 256}[kind]
    return f"{rng.getrandbits(bits):0{bits // 4}x}"


def synthetic(rows: int, seed: int = 7) -> list[Observation]:
    rng = random.Random(seed)
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    out: list[Observation] = []
    for i in range(rows):
        if i and rng.random() < 0.10:
            out.append(out[rng.randrange(i)])
            continue
        kind = rng.choices(kinds, weights)[0]
        out.append(Observation(kind, value_of(kind, rng), tags=(rng.choice(WORDS),), malware=rng.choice(WORDS)))
    return out


def run(store: Store, rows: list[Observation]) -> float:
    source = Source("bench-feed", SourceKind.FEED, SourceCategory.THREAT_INTEL, Reliability.B, reputation=Reputation.BAD)
    store.allowlist()  # loaded once per process in real runs too
    started = time.perf_counter()
    store_observations(store, source, rows, IngestReport(source.name))
    return time.perf_counter() - started


def sqlite_case(rows: list[Observation]) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        store = Store(f"sqlite:///{path}")
        store.upgrade()
        seconds = run(store, rows)
        count = store.count()
        store.close()
        size = sum(p.stat().st_size for p in Path(folder).iterdir())
    return {"backend": "SQLite (WAL, file)", "seconds": seconds, "indicators": count, "bytes": size}


def postgres_case(rows: list[Observation], url: str) -> dict[str, object]:
    schema = f"iocflow_bench_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        store = Store(f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}")
        store.upgrade()
        seconds = run(store, rows)
        count = store.count()
        store.close()
        with admin.connect() as conn:
            size = conn.execute(text(
                "SELECT sum(pg_total_relation_size(quote_ident(schemaname) || '.' || quote_ident(tablename))) "
                "FROM pg_tables WHERE schemaname = :s"), {"s": schema}).scalar()
        version = admin.connect().execute(text("SHOW server_version")).scalar()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return {"backend": f"PostgreSQL {version} (loopback)", "seconds": seconds, "indicators": count, "bytes": int(size or 0)}


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def median_run(runs: list[dict[str, object]]) -> dict[str, object]:
    """The median run by time, with every run's rate kept beside it (timings on shared machines vary)."""
    ordered = sorted(runs, key=lambda r: float(r["seconds"]))  # type: ignore[arg-type]
    return ordered[len(ordered) // 2] | {"all_seconds": [float(r["seconds"]) for r in ordered]}  # type: ignore[arg-type]


def render(results: list[dict[str, object]], rows: int, command: str) -> str:
    lines = [
        START,
        "## Store ingest",
        "",
        f"- Command: `{command}`",
        f"- {rows:,} synthetic indicators ({', '.join(f'{k.value} {int(w * 100)}%' for k, w in MIX)}), "
        f"10% of rows repeating an earlier one, in batches of {BATCH_SIZE:,} (one transaction each); "
        "timed: the ingest runner's `store_observations` (what every feed run calls after parsing)",
        f"- Machine: {os.cpu_count()} CPUs, CPython {platform.python_version()}, {platform.platform()}; "
        "pinned to one core; commit " + commit(),
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        "| backend | rows | seconds | rows/s | runs: rows/s, slowest to fastest | distinct indicators "
        "| database size (MiB) | bytes per indicator |",
        "|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in results:
        seconds, count, size = float(r["seconds"]), int(r["indicators"]), int(r["bytes"])  # type: ignore[arg-type]
        rates = ", ".join(f"{rows / t:,.0f}" for t in reversed(r["all_seconds"]))  # type: ignore[call-overload]
        lines.append(f"| {r['backend']} | {rows:,} | {seconds:.1f} | {rows / seconds:,.0f} | {rates} | {count:,} | "
                     f"{size / 2**20:.1f} | {size / max(count, 1):,.0f} |")
    lines += [
        "",
        "Seconds and rows/s are the median run's. Each distinct indicator is one `indicators` row plus one "
        "`sightings` row per source that reported it.",
        END,
    ]
    return "\n".join(lines)


def write_doc(section: str) -> None:
    doc = DOC.read_text(encoding="utf-8")
    if START in doc:
        doc = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: section, doc, flags=re.S)
    else:
        marker = "<!-- Everything below this line"
        at = doc.index(marker) if marker in doc else len(doc)
        doc = doc[:at] + section + "\n\n" + doc[at:]
    DOC.write_text(doc, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", default=os.environ.get("IOCFLOW_TEST_POSTGRES_URL",
                                                            "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="print the table, leave docs/benchmarks.md alone")
    parser.add_argument("--cpu", type=int, default=1, help="core to pin to")
    parser.add_argument("--repeat", type=int, default=1, help="runs per backend; the median is reported")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    rows = synthetic(args.rows)
    cases = [lambda: sqlite_case(rows)]
    if not args.no_postgres:
        cases.append(lambda: postgres_case(rows, args.postgres))
    results = []
    for case in cases:
        runs = []
        for _ in range(args.repeat):
            runs.append(case())
            print(runs[-1], flush=True)
        results.append(median_run(runs))
    section = render(results, args.rows, "python bench/ingest_bench.py " + " ".join(sys.argv[1:]))
    print(section)
    if not args.no_write:
        write_doc(section)


if __name__ == "__main__":
    main()
