#!/usr/bin/env python3
"""Build the ATT&CK part of the extraction benchmark corpus and write SOURCES.md.

The corpus lives in ``bench/corpus/*.txt.gz``; one file is one document for
``bench/extract_bench.py``.  Two kinds of files are in it:

* ``attack-*.txt.gz`` are generated here from the official MITRE ATT&CK
  bundles in ``/work/shared/data/attack`` (or ``--attack DIR``):
  - ``attack-<domain>-prose-NNN``: the ``description`` field of every object
    that has one (techniques, groups, software, campaigns, mitigations,
    relationships, analytics, ...), in bundle order, separated by blank lines,
    cut into documents of about ``--chunk`` bytes at description boundaries.
  - ``attack-references-NNN``: every distinct ``external_references`` entry
    (source name, citation text, URL) of all four bundles, one per line, as
    in the reference list at the end of a report.  URL-dense text.
* ``vendor-*.txt.gz`` are public IOC lists and write-ups copied from public
  repositories (listed in ``VENDOR`` below); they are checked in as they are
  and only listed here.

Everything is gzip'ed with mtime 0, so a rebuild is byte-identical.

    python bench/build_corpus.py            # rebuild attack-* and SOURCES.md
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_ATTACK = Path(__file__).resolve().parents[2] / "shared" / "data" / "attack"  # ../shared beside the project
DOMAINS = ["enterprise-attack", "mobile-attack", "ics-attack", "pre-attack"]
# Bundles also included verbatim as STIX JSON text (a feed-like input; the
# enterprise bundle is left out, it alone is 45 MB).
RAW_DOMAINS = ["mobile-attack", "ics-attack", "pre-attack"]

# (corpus file, repository, path, commit, characters copied / total, licence, what)
VENDOR: list[tuple[str, str, str, str, str, str, str]] = []
VENDOR_FILE = HERE / "corpus" / "vendor.json"


def write_gz(path: Path, text: str) -> int:
    data = text.encode("utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as f:
        f.write(data)
    path.write_bytes(buf.getvalue())
    return len(data)


def chunk(parts: list[str], size: int, sep: str) -> list[str]:
    out: list[str] = []
    cur: list[str] = []
    n = 0
    for p in parts:
        b = len(p.encode("utf-8")) + len(sep)
        if cur and n + b > size:
            out.append(sep.join(cur) + "\n")
            cur, n = [], 0
        cur.append(p)
        n += b
    if cur:
        out.append(sep.join(cur) + "\n")
    return out


def build_attack(attack_dir: Path, out_dir: Path, size: int) -> list[tuple[str, int, str]]:
    made: list[tuple[str, int, str]] = []
    refs: dict[tuple[str, str, str], None] = {}
    for dom in DOMAINS:
        src = attack_dir / f"{dom}.json.gz"
        with gzip.open(src, "rt", encoding="utf-8") as f:
            bundle = json.load(f)
        descs = []
        for obj in bundle["objects"]:
            d = obj.get("description")
            if isinstance(d, str) and d.strip():
                descs.append(d.strip())
            for r in obj.get("external_references", []) or []:
                key = (r.get("source_name", ""), r.get("description", ""), r.get("url", ""))
                refs.setdefault(key, None)
        short = dom.replace("-attack", "")
        for i, text in enumerate(chunk(descs, size, "\n\n"), 1):
            name = f"attack-{short}-prose-{i:03d}.txt.gz"
            n = write_gz(out_dir / name, text)
            made.append((name, n, f"`description` of {dom}.json.gz objects"))
    for dom in RAW_DOMAINS:
        with gzip.open(attack_dir / f"{dom}.json.gz", "rt", encoding="utf-8") as f:
            raw = f.read()
        # Cut the pretty-printed bundle after object boundaries (a line that is
        # exactly the closing brace of an entry of "objects"), so each document
        # is a run of whole STIX objects as published.
        pieces, cur, n = [], [], 0
        for line in raw.splitlines(keepends=True):
            cur.append(line)
            n += len(line.encode("utf-8"))
            if n >= size and line.rstrip("\n") == "        },":
                pieces.append("".join(cur))
                cur, n = [], 0
        if cur:
            pieces.append("".join(cur))
        short = dom.replace("-attack", "")
        for i, text in enumerate(pieces, 1):
            name = f"attack-{short}-stix-{i:03d}.txt.gz"
            n = write_gz(out_dir / name, text)
            made.append((name, n, f"{dom}.json bundle text as published (STIX JSON), cut at object boundaries"))
    lines = []
    for src_name, desc, url in refs:
        line = " ".join(x for x in (f"[{src_name}]" if src_name else "", desc, url) if x)
        lines.append(line)
    for i, text in enumerate(chunk(lines, size, "\n"), 1):
        name = f"attack-references-{i:03d}.txt.gz"
        n = write_gz(out_dir / name, text)
        made.append((name, n, "`external_references` (source_name, description, url) of all four bundles, deduplicated"))
    return made


def sources_md(attack_dir: Path, made: list[tuple[str, int, str]], out_dir: Path) -> str:
    vendor = json.loads(VENDOR_FILE.read_text()) if VENDOR_FILE.exists() else []
    attack_sources = (attack_dir / "SOURCES.md").read_text(encoding="utf-8")
    notice = next(
        (l.strip() for l in attack_sources.splitlines() if l.startswith("> ")),
        "> © 2025 The MITRE Corporation. This work is reproduced and distributed with the permission of The MITRE Corporation.",
    )
    att_mb = sum(n for _, n, _ in made) / 1e6
    ven_mb = 0.0
    for v in vendor:
        p = out_dir / v["file"]
        with gzip.open(p, "rb") as f:
            v["bytes"] = len(f.read())
        ven_mb += v["bytes"] / 1e6
    o = io.StringIO()
    w = o.write
    w("# Benchmark corpus: sources and licences\n\n")
    w("Real threat-report text used by `bench/extract_bench.py`. Each `*.txt.gz` file is one document "
      "(UTF-8, gzip). This file is generated by `bench/build_corpus.py`; edit `vendor.json` or the script, not this file.\n\n")
    w(f"Total: {len(made) + len(vendor)} files, {att_mb + ven_mb:.2f} MB of UTF-8 text "
      f"({att_mb:.2f} MB from MITRE ATT&CK in {len(made)} files, {ven_mb:.2f} MB of vendor IOC lists and write-ups in {len(vendor)} files).\n\n")
    w("## MITRE ATT&CK (generated)\n\n")
    w("Generated by `python bench/build_corpus.py` from the local copies of the official ATT&CK v18.1 bundles "
      "`/work/shared/data/attack/{enterprise,mobile,ics,pre}-attack.json.gz` (mitre/cti @ "
      "`421deacb77191b38bdd1bf63268954e93da91365`; ics from mitre-attack/attack-stix-data @ "
      "`b4eb2b84c02b84bb4cceb71c97ae05cb2f33ab38`; see that folder's SOURCES.md for the exact blobs).\n\n")
    w("- `attack-<domain>-prose-NNN.txt.gz`: the `description` field of every object of that bundle that has one, "
      "in bundle order, separated by blank lines, cut into documents of about 128 kB at description boundaries.\n")
    w("- `attack-<domain>-stix-NNN.txt.gz`: the mobile, ICS and PRE-ATT&CK bundles themselves, as JSON text byte for byte, "
      "cut into documents of about 128 kB after a line that closes an entry of `objects` (so each document is a run of whole "
      "STIX objects, not valid JSON on its own). A feed-like input: UUIDs, timestamps, URLs and escaped prose.\n")
    w("- `attack-references-NNN.txt.gz`: every distinct `external_references` entry of the four bundles, one per line: "
      "`[source_name] description url`.\n\n")
    w("Licence: the ATT&CK terms of use (a copy of mitre/cti `LICENSE.txt` is `ATTACK-LICENSE.txt` beside this file). "
      "Use, including commercial use, is allowed; any copy must reproduce MITRE's copyright designation and the licence. Attribution notice:\n\n")
    w(notice + "\n\n")
    w("| file | bytes | content |\n|---|---:|---|\n")
    for name, n, what in made:
        w(f"| {name} | {n} | {what} |\n")
    w("\n## Vendor IOC lists and write-ups (copied)\n\n")
    w("Copied from public GitHub repositories through the project's search tool (`read_file`), which serves a stored "
      "copy of a file at one commit, 16,000 characters a page. Where a file was longer than the pages copied, the "
      "`copied` column gives the characters taken from its start (the copy stops at a line boundary). The text was "
      "transcribed as served; it is data (IOC lists and reports), not code.\n\n")
    w("| file | bytes | repository | path | commit | copied | licence / attribution | content |\n")
    w("|---|---:|---|---|---|---|---|---|\n")
    for v in vendor:
        w(f"| {v['file']} | {v['bytes']} | {v['repo']} | `{v['path']}` | `{v['commit']}` | {v['copied']} | "
          f"{v['licence']} | {v['what']} |\n")
    w("\n### Licence texts and notices of the vendor repositories\n\n")
    seen = set()
    for v in vendor:
        if v["repo"] in seen:
            continue
        seen.add(v["repo"])
        w(f"- **{v['repo']}**: {v['licence_note']}\n")
    return o.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--attack", type=Path, default=DEFAULT_ATTACK, help="folder with the ATT&CK *.json.gz bundles")
    ap.add_argument("--out", type=Path, default=HERE / "corpus")
    ap.add_argument("--chunk", type=int, default=128_000, help="target document size in bytes")
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    for old in a.out.glob("attack-*.txt.gz"):
        old.unlink()
    made = build_attack(a.attack, a.out, a.chunk)
    lic = a.attack / "LICENSE.txt"
    if lic.exists():
        (a.out / "ATTACK-LICENSE.txt").write_bytes(lic.read_bytes())
    (a.out / "SOURCES.md").write_text(sources_md(a.attack, made, a.out), encoding="utf-8")
    total = sum(n for _, n, _ in made)
    print(f"wrote {len(made)} ATT&CK documents, {total / 1e6:.2f} MB, and {a.out / 'SOURCES.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
