"""MITRE ATT&CK ID lookup, backed by a compact table derived from MITRE's data.

Why: an ID such as ``T1404`` or ``M1013`` says nothing about its matrix or
even (for legacy IDs) its kind. Checking extracted IDs against the real ATT&CK
catalogue lets the extractor classify them correctly (T1404 is Mobile, T0800
is ICS, TA0017 is PRE-ATT&CK) and reject look-alikes that were never assigned.

The table ``data/attack.tsv`` (columns ``id matrix kind name status``) is
generated from the ATT&CK v18.1 STIX bundles by
``scripts/build_attack_table.py``; see ``docs/attack-data.md``. It is read
lazily, once, on the first lookup, so importing this module costs nothing.

ATT&CK data notice:
© 2025 The MITRE Corporation. This work is reproduced and distributed with the
permission of The MITRE Corporation.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib.resources import files

from iocflow.extract.model import Matrix

__all__ = ["AttackEntry", "lookup", "name_of"]

_HEADER = "id\tmatrix\tkind\tname\tstatus"
# Canonical instances, so 1,500 rows share a handful of strings.
_KINDS = {k: k for k in ("technique", "subtechnique", "tactic", "mitigation")}
_STATUS_RANK = {"active": 0, "deprecated": 1, "revoked": 2}
_STATUSES = {s: s for s in _STATUS_RANK}


@dataclass(frozen=True, slots=True)
class AttackEntry:
    """One ATT&CK object: an ID as it appears in one matrix as one kind."""

    id: str
    matrix: Matrix
    kind: str  # "technique" | "subtechnique" | "tactic" | "mitigation"
    name: str
    status: str  # "active" | "deprecated" | "revoked"


@functools.cache
def _table() -> dict[str, tuple[AttackEntry, ...]]:
    """Upper-case ID -> its entries, active first (then table order).

    Built once so that lookups on the hot path are a dict hit returning a
    stored tuple. A malformed table raises here rather than misclassifying.
    """
    # One segment per "/": 3.11's namespace-package reader rejects "data/attack.tsv".
    resource = files("iocflow.extract") / "data" / "attack.tsv"
    text = resource.read_text(encoding="utf-8")
    lines = text.splitlines()
    if not lines or lines[0] != _HEADER:
        raise ValueError(f"attack.tsv: unexpected header {lines[:1]!r}")
    grouped: dict[str, list[AttackEntry]] = {}
    for lineno, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        if len(fields) != 5:
            raise ValueError(f"attack.tsv:{lineno}: expected 5 fields, got {len(fields)}")
        attack_id, matrix, kind, name, status = fields
        try:
            entry = AttackEntry(
                attack_id.upper(), Matrix(matrix), _KINDS[kind], name, _STATUSES[status]
            )
        except (KeyError, ValueError) as exc:
            raise ValueError(f"attack.tsv:{lineno}: bad value {exc}") from None
        grouped.setdefault(entry.id, []).append(entry)
    return {
        key: tuple(sorted(entries, key=lambda e: _STATUS_RANK[e.status]))  # stable
        for key, entries in grouped.items()
    }


def lookup(attack_id: str) -> tuple[AttackEntry, ...]:
    """Every entry for ``attack_id`` (any case), active first; ``()`` if unknown."""
    table = _table()
    hit = table.get(attack_id)  # IDs usually arrive upper-case: skip .upper()
    if hit is None:
        hit = table.get(attack_id.upper(), ())
    return hit


def name_of(attack_id: str) -> str | None:
    """The name of the best (active first) entry, or None if the ID is unknown."""
    hit = lookup(attack_id)
    return hit[0].name if hit else None
