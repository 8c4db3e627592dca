"""``GET /api/v1/lookup``: everything iocflow knows about one value, with a risk score and hunting queries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query
from starlette.responses import Response

from iocflow.api.deps import ReadIocsDep, StoreDep
from iocflow.api.errors import ApiError
from iocflow.enrich import risk
from iocflow.extract.attack import name_of
from iocflow.ingest.values import identify
from iocflow.store.queries import indicator_by_id, indicator_sources
from iocflow.store.records import indicator_id
from iocflow.store.vocabulary import IndicatorType

router = APIRouter(prefix="/api/v1", tags=["lookup"])


def hunting_queries(kind: IndicatorType, value: str) -> dict[str, str]:
    """Splunk, KQL, ES|QL and Sigma queries for the value ({} for types nobody hunts for, e.g. a CVE)."""
    from iocflow.enrich import hunting

    try:
        return hunting.queries_for(kind, value)
    except ValueError:
        return {}


def lookup_value(store: Any, value: str, type_hint: str | None, now: datetime) -> dict[str, Any]:
    """The lookup answer for ``value``; shared by the endpoint and ``iocflow lookup``."""
    allowed = None
    if type_hint:
        try:
            allowed = {IndicatorType(type_hint.lower())}
        except ValueError:
            raise ApiError(400, "invalid_parameter", f"unknown type {type_hint!r}",
                           {"parameter": "type", "valid_types": [t.value for t in IndicatorType]}) from None
    try:
        kind, canonical = identify(value, allowed)
    except ValueError as exc:
        raise ApiError(400, "invalid_parameter", f"value: {exc}", {"parameter": "value"}) from None
    with store.transaction() as session:
        row = indicator_by_id(session, indicator_id(kind, canonical))
        sources = indicator_sources(session, row.pk) if row is not None else []
    answer: dict[str, Any] = {
        "value": canonical, "type": kind.value, "id": indicator_id(kind, canonical),
        "hunting_queries": hunting_queries(kind, canonical),
    }
    if row is None:
        result = risk.unknown()
        return answer | {
            "known": False, "risk_score": result.level, "risk_points": result.score, "risk_reasons": list(result.reasons),
            "confidence": None, "severity": None, "reputation": None, "mitre_techniques": [], "sources": [],
            "first_seen": None, "last_seen": None, "expires_at": None, "tags": [], "industries": [],
            "allowlisted": False, "allowlist_reason": None,
        }
    evidence = risk.Evidence(
        reputation=row.reputation, confidence=row.confidence, severity=row.severity, last_seen=row.last_seen,
        expires_at=row.expires_at, allowlisted=row.allowlisted, allowlist_reason=row.allowlist_reason,
        source_reliabilities=[s.reliability for s, _ in _distinct(sources)],
        source_categories=[s.category for s, _ in _distinct(sources)],
    )
    result = risk.score(evidence, now=now)
    return answer | {
        "known": True, "risk_score": result.level, "risk_points": result.score, "risk_reasons": list(result.reasons),
        "confidence": row.confidence, "severity": row.severity, "reputation": row.reputation,
        "mitre_techniques": [{"id": t, "name": name_of(t)} for t in row.techniques],
        "sources": [{"feed_name": s.name, "category": s.category, "kind": s.kind, "reliability": s.reliability,
                     "last_seen": sighting.last_seen, "malware": sighting.malware, "context": sighting.context}
                    for s, sighting in sources],
        "first_seen": row.first_seen, "last_seen": row.last_seen, "expires_at": row.expires_at, "tags": row.tags,
        "industries": row.industries, "allowlisted": row.allowlisted, "allowlist_reason": row.allowlist_reason,
    }


def _distinct(sources: list[Any]) -> list[Any]:
    seen: dict[str, Any] = {}
    for source, sighting in sources:
        seen.setdefault(source.id, (source, sighting))
    return list(seen.values())


@router.get("/lookup", summary="One indicator: risk score with reasons, ATT&CK, sources, hunting queries")
def lookup(
    caller: ReadIocsDep,
    store: StoreDep,
    value: Annotated[str, Query(min_length=1, max_length=8192, description="The value; defanged is fine.")],
    type: Annotated[str | None, Query(description="A type hint, e.g. domain.")] = None,  # noqa: A002
) -> Response:
    answer = lookup_value(store, value, type, datetime.now(UTC))
    return Response(orjson.dumps(answer, option=orjson.OPT_UTC_Z), media_type="application/json")
