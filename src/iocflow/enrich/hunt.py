"""Hunting for many indicators at once: the use case behind ``POST /api/v1/hunt``.

Each raw value is identified (defanged is fine); values that are not
indicators, or of a type no log field holds (a CVE, a wallet), are returned
as rejected with their position and reason, and the rest become one query
per platform (``iocflow.enrich.hunting.bulk_queries``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from iocflow.enrich import hunting
from iocflow.exceptions import InvalidParameter
from iocflow.ingest.values import identify
from iocflow.store.vocabulary import IndicatorType


@dataclass(frozen=True, slots=True)
class Rejected:
    index: int
    value: str
    error: str


@dataclass(frozen=True, slots=True)
class Hunt:
    queries: dict[str, list[str]]
    indicators: int  # how many values the queries cover
    rejected: list[Rejected] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"queries": self.queries, "indicators": self.indicators,
                "rejected": [{"index": r.index, "value": r.value, "error": r.error} for r in self.rejected]}


def hunt(values: Sequence[str], *, today: date | None = None) -> Hunt:
    """One query per platform covering every huntable value of ``values`` (Sigma rules dated ``today``)."""
    accepted: list[tuple[IndicatorType, str]] = []
    rejected: list[Rejected] = []
    for index, raw in enumerate(values):
        try:
            kind, value = identify(raw)
        except ValueError as exc:
            rejected.append(Rejected(index, raw[:200], str(exc)))
            continue
        if kind in hunting.HUNTABLE_TYPES:
            accepted.append((kind, value))
        else:
            rejected.append(Rejected(index, value, f"no log field holds a {kind.value}"))
    try:
        queries = hunting.bulk_queries(accepted, today=today) if accepted else {}
    except ValueError as exc:
        raise InvalidParameter("indicators", str(exc)) from None
    return Hunt(queries, len(accepted), rejected)
