#!/usr/bin/env python3
"""Build ``src/iocflow/extract/data/attack.tsv``, the compact ATT&CK ID table.

Why: the extractor must tell an Enterprise technique from a Mobile one, or a
technique from a mitigation, and a regex on the ID shape cannot do that
(T1404 is Mobile, T0800 is ICS, T1066 was once both a technique and a
"mitigation"). The full STIX bundles are ~100 MB unpacked, so we ship only the
few columns the extractor needs: ``id matrix kind name status``.

Input: the four STIX bundles ``{enterprise,mobile,ics,pre}-attack.json.gz``
(ATT&CK v18.1; PRE-ATT&CK is the frozen STIX 2.0 bundle from 2020), by default
from ``../shared/data/attack`` next to the project root (see its SOURCES.md).

How objects are read:

* the ID is the ``external_id`` of the ``external_references`` entry whose
  ``source_name`` is ``mitre-attack``, or one of the legacy names
  ``mitre-mobile-attack``, ``mitre-ics-attack``, ``mitre-pre-attack``;
* ``attack-pattern`` is a technique, or a subtechnique when
  ``x_mitre_is_subtechnique`` is true; ``x-mitre-tactic`` is a tactic;
  ``course-of-action`` is a mitigation;
* status is ``revoked`` if ``revoked`` is true, else ``deprecated`` if
  ``x_mitre_deprecated`` is true, else ``active`` (both flags are often
  present as false, or absent, so only ``True`` counts).

Dropped on purpose: Enterprise still carries 224 deprecated 2018
``course-of-action`` objects (e.g. "Indicator Removal from Tools Mitigation")
whose ID is the T#### of the technique they belonged to. Keeping them would
make every such T#### also look like a mitigation, so any ``course-of-action``
whose ID is not M#### is skipped (the count is printed). Any other ID that does
not fit its kind's shape aborts the build, because it means the data changed in
a way this script does not understand.

Output is deterministic: rows are sorted by (id, matrix, kind), names have
whitespace runs (tabs, newlines) collapsed to one space, UTF-8 with ``\\n``
line endings. A summary (counts per matrix/kind/status) goes to stderr.

Stdlib only, so it runs without the project's virtualenv:
``python scripts/build_attack_table.py [--source DIR] [--output FILE]``.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = PROJECT_ROOT.parent / "shared" / "data" / "attack"
DEFAULT_OUTPUT = PROJECT_ROOT / "src" / "iocflow" / "extract" / "data" / "attack.tsv"

HEADER = ("id", "matrix", "kind", "name", "status")

# bundle file stem -> matrix value (must match iocflow.extract.model.Matrix)
BUNDLES = {
    "enterprise": "enterprise",
    "mobile": "mobile",
    "ics": "ics",
    "pre": "pre_attack",
}

ID_SOURCES = frozenset(
    {"mitre-attack", "mitre-mobile-attack", "mitre-ics-attack", "mitre-pre-attack"}
)

ID_SHAPE = {
    "technique": re.compile(r"T\d{4}"),
    "subtechnique": re.compile(r"T\d{4}\.\d{3}"),
    "tactic": re.compile(r"TA\d{4}"),
    "mitigation": re.compile(r"M\d{4}"),
}

STATUS_RANK = {"active": 0, "deprecated": 1, "revoked": 2}

Row = tuple[str, str, str, str, str]


def _attack_id(obj: dict) -> str | None:
    for ref in obj.get("external_references", ()):
        if ref.get("source_name") in ID_SOURCES and ref.get("external_id"):
            return str(ref["external_id"]).strip().upper()
    return None


def _kind(obj: dict) -> str | None:
    kind = obj["type"]
    if kind == "attack-pattern":
        return "subtechnique" if obj.get("x_mitre_is_subtechnique") is True else "technique"
    if kind == "x-mitre-tactic":
        return "tactic"
    if kind == "course-of-action":
        return "mitigation"
    return None


def _status(obj: dict) -> str:
    if obj.get("revoked") is True:
        return "revoked"
    if obj.get("x_mitre_deprecated") is True:
        return "deprecated"
    return "active"


def _clean(name: str) -> str:
    """One line, no tabs: the table is split on both."""
    return " ".join(name.split())


def read_bundle(path: Path, matrix: str, dropped: Counter) -> Iterator[tuple[Row, str]]:
    """Yield (row, modified) for every ATT&CK object in one bundle."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        bundle = json.load(fh)
    for obj in bundle.get("objects", ()):
        kind = _kind(obj)
        if kind is None:
            continue
        attack_id = _attack_id(obj)
        if attack_id is None:
            raise SystemExit(f"{path.name}: {obj.get('id')} has no ATT&CK ID")
        if kind == "mitigation" and not ID_SHAPE["mitigation"].fullmatch(attack_id):
            # the 2018 per-technique "... Mitigation" objects, see module docstring
            dropped[matrix] += 1
            continue
        if not ID_SHAPE[kind].fullmatch(attack_id):
            raise SystemExit(f"{path.name}: {kind} {obj.get('id')} has unexpected ID {attack_id!r}")
        row = (attack_id, matrix, kind, _clean(obj.get("name", "")), _status(obj))
        yield row, str(obj.get("modified", ""))


def build(source: Path) -> tuple[list[Row], Counter]:
    """All rows, one per (id, matrix, kind), sorted; plus the dropped counts."""
    found: list[tuple[Row, str]] = []
    dropped: Counter = Counter()
    for stem, matrix in BUNDLES.items():
        path = source / f"{stem}-attack.json.gz"
        if not path.is_file():
            raise SystemExit(f"missing bundle: {path}")
        found.extend(read_bundle(path, matrix, dropped))
    # v18.1 has no repeated (id, matrix, kind). Should one appear, keep the
    # active, most recently modified object, ties broken by name, so the
    # choice never depends on bundle order. Stable sorts, least key first.
    found.sort(key=lambda f: f[0][3])
    found.sort(key=lambda f: f[1], reverse=True)
    found.sort(key=lambda f: (f[0][:3], STATUS_RANK[f[0][4]]))
    rows: dict[tuple[str, str, str], Row] = {}
    for row, _ in found:
        rows.setdefault(row[:3], row)
    return list(rows.values()), dropped


def write(rows: list[Row], output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(
            fh, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE, quotechar=None
        )
        writer.writerow(HEADER)
        writer.writerows(rows)


def summarise(rows: list[Row], dropped: Counter, output: Path) -> str:
    counts = Counter((r[1], r[2], r[4]) for r in rows)
    lines = [f"wrote {len(rows)} rows to {output} ({output.stat().st_size} bytes)"]
    for matrix in BUNDLES.values():
        for kind in ID_SHAPE:
            per_status = {s: counts[(matrix, kind, s)] for s in STATUS_RANK}
            total = sum(per_status.values())
            if total:
                detail = ", ".join(f"{s} {n}" for s, n in per_status.items() if n)
                lines.append(f"  {matrix:<10} {kind:<12} {total:>4}  ({detail})")
    for matrix, n in sorted(dropped.items()):
        lines.append(f"  dropped {n} legacy {matrix} course-of-action objects with T#### IDs")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE,
                        help=f"directory with the four *-attack.json.gz bundles (default {DEFAULT_SOURCE})")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"TSV to write (default {DEFAULT_OUTPUT})")
    args = parser.parse_args(argv)
    rows, dropped = build(args.source)
    write(rows, args.output)
    print(summarise(rows, dropped, args.output), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
