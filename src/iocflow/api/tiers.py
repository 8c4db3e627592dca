"""Tiers: how much a key may do, and in which formats. The one table of them.

Operators change the limits with ``IOCFLOW_TIERS`` (JSON, merged over these
defaults), e.g. ``{"free": {"per_minute": 30}}``. What a key may do, its
scopes, is the store's vocabulary (``iocflow.store.vocabulary.Scope``, which
the exporters read too); ``Scope`` and ``DEFAULT_SCOPES`` are re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from iocflow.store.vocabulary import DEFAULT_SCOPES, Scope

__all__ = ["ALL_FORMATS", "DEFAULT_SCOPES", "DEFAULT_TIERS", "Format", "Scope", "Tier", "tiers"]


class Format(str, Enum):
    """Response formats of the feed endpoints."""

    JSON = "json"
    CSV = "csv"
    TXT = "txt"


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    per_minute: int
    per_day: int
    max_results: int
    lookback_days: int
    formats: frozenset[str]


ALL_FORMATS = frozenset(f.value for f in Format) | {"stix", "misp", "cef", "openioc", "sigma", "xdr"}

DEFAULT_TIERS: dict[str, Tier] = {
    "free": Tier("free", per_minute=10, per_day=1_000, max_results=100, lookback_days=1, formats=frozenset({"json"})),
    "pro": Tier("pro", per_minute=1_000, per_day=1_000_000, max_results=10_000, lookback_days=365, formats=ALL_FORMATS),
}


def tiers(overrides: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Tier]:
    """The tier table with an operator's overrides applied (new tiers may be added)."""
    table = dict(DEFAULT_TIERS)
    for name, fields in (overrides or {}).items():
        base = table.get(name) or Tier(name, 60, 10_000, 1_000, 30, frozenset({"json"}))
        values = dict(fields)
        if "formats" in values:
            values["formats"] = frozenset(values["formats"])
        table[name] = replace(base, **values)
    return table
