"""Everything iocflow knows about one value: the use case behind ``/api/v1/lookup`` and ``iocflow lookup``.

The value is identified (defanged is fine; a type hint narrows it), looked up
by its canonical form, scored (``iocflow.enrich.risk``) and given hunting
queries; an unknown value still gets its type, id and queries, and risk
``unknown``. Both callers print ``Lookup.to_json()``, so they answer alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from iocflow.enrich import hunting, risk
from iocflow.exceptions import InvalidParameter
from iocflow.extract.attack import name_of
from iocflow.ingest.values import identify
from iocflow.store.records import indicator_id
from iocflow.store.store import Store
from iocflow.store.views import IndicatorDetail, IndicatorRecord, Sighting
from iocflow.store.vocabulary import IndicatorType


@dataclass(frozen=True, slots=True)
class Lookup:
    """The answer for one value: what it is, what the store holds about it, how risky, how to hunt for it."""

    value: str
    type: IndicatorType
    id: str
    risk: risk.RiskScore
    hunting_queries: dict[str, str]
    detail: IndicatorDetail | None  # None: no source has reported the value

    @property
    def known(self) -> bool:
        return self.detail is not None

    def to_json(self) -> dict[str, Any]:
        """The documented JSON answer (times as datetimes: the caller's serialiser writes them)."""
        answer: dict[str, Any] = {
            "value": self.value, "type": self.type, "id": self.id, "hunting_queries": self.hunting_queries,
            "known": self.known, "risk_score": self.risk.level, "risk_points": self.risk.score,
            "risk_reasons": list(self.risk.reasons),
        }
        if self.detail is None:
            return answer | {
                "confidence": None, "severity": None, "reputation": None, "mitre_techniques": [], "sources": [],
                "first_seen": None, "last_seen": None, "expires_at": None, "tags": [], "industries": [],
                "allowlisted": False, "allowlist_reason": None,
            }
        record = self.detail.record
        return answer | {
            "confidence": record.confidence, "severity": record.severity, "reputation": record.reputation,
            "mitre_techniques": [{"id": t, "name": name_of(t)} for t in record.techniques],
            "sources": [{"feed_name": s.feed_name, "category": s.category, "kind": s.kind, "reliability": s.reliability,
                         "last_seen": s.last_seen, "malware": s.malware, "context": s.context}
                        for s in self.detail.sightings],
            "first_seen": record.first_seen, "last_seen": record.last_seen, "expires_at": record.expires_at,
            "tags": list(record.tags), "industries": list(record.industries), "allowlisted": record.allowlisted,
            "allowlist_reason": record.allowlist_reason,
        }


def lookup(store: Store, value: str, type_hint: str | None, *, now: datetime) -> Lookup:
    """What the store knows about ``value``; ``InvalidParameter`` names a bad type hint or value."""
    allowed = None
    if type_hint:
        try:
            allowed = {IndicatorType(type_hint.lower())}
        except ValueError:
            raise InvalidParameter("type", f"unknown type {type_hint!r}",
                                   {"valid_types": [t.value for t in IndicatorType]}) from None
    try:
        kind, canonical = identify(value, allowed)
    except ValueError as exc:
        raise InvalidParameter("value", f"value: {exc}") from None
    detail = store.indicator(kind, canonical)
    queries = _hunting_queries(kind, canonical, detail.record if detail else None, now)
    return Lookup(canonical, kind, indicator_id(kind, canonical), _score(detail, now), queries, detail)


def _score(detail: IndicatorDetail | None, now: datetime) -> risk.RiskScore:
    if detail is None:
        return risk.unknown()
    record = detail.record
    sources = _distinct(detail.sightings)
    return risk.score(risk.Evidence(
        reputation=record.reputation, confidence=record.confidence, severity=record.severity,
        last_seen=record.last_seen, expires_at=record.expires_at, allowlisted=record.allowlisted,
        allowlist_reason=record.allowlist_reason, source_reliabilities=[s.reliability for s in sources],
        source_categories=[s.category for s in sources],
    ), now=now)


def _distinct(sightings: tuple[Sighting, ...]) -> list[Sighting]:
    """One sighting per source: its most recent (sightings come newest first)."""
    seen: dict[str, Sighting] = {}
    for sighting in sightings:
        seen.setdefault(sighting.source_id, sighting)
    return list(seen.values())


def _hunting_queries(kind: IndicatorType, value: str, stored: IndicatorRecord | None,
                     now: datetime) -> dict[str, str]:
    """Splunk, KQL, ES|QL and Sigma queries for the value ({} for types nobody hunts for, e.g. a CVE); the Sigma
    rule is the one the Sigma export writes for the stored indicator (its level from the stored severity)."""
    try:
        return hunting.queries_for(kind, value, about=stored, today=now.date())
    except ValueError:
        return {}
