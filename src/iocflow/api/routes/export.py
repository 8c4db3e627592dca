"""``/api/v1/export/{format}``, ``/api/v1/rules/sigma`` and ``/api/v1/hunt``: sharing and detection.

Exports take the feed's filters and tier rules (``/api/v1/iocs``) and stream
their body: rows are read a page at a time while the response is being sent,
so a large export never sits in memory as rows and document at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.responses import Response, StreamingResponse

from iocflow.api.deps import Caller, CallerDep, ReadIocsDep, StoreDep
from iocflow.api.errors import ApiError
from iocflow.api.routes.iocs import feed_filter, parse_cursor
from iocflow.api.tiers import Scope
from iocflow.export.formats import FORMATS, ExportFormat
from iocflow.export.records import items, pages
from iocflow.store.queries import IndicatorFilter
from iocflow.store.store import Store
from iocflow.store.vocabulary import Confidence

router = APIRouter(prefix="/api/v1", tags=["export"])
#: What /rules/sigma covers unless asked otherwise: the last week's high-confidence indicators.
RULES_DAYS = 7


def _check(caller: Caller, fmt: ExportFormat) -> None:
    caller.need(Scope(fmt.scope), f"the {fmt.name} export")
    caller.need_format(fmt.name, f"{fmt.name} exports")


def _stream(store: Store, fmt: ExportFormat, filters: IndicatorFilter, limit: int, after: int | None) -> StreamingResponse:
    now = filters.now or datetime.now(UTC)
    body = fmt.render(items(pages(store, filters, limit=limit, after=after)), now)
    disposition = f'attachment; filename="iocflow-{now:%Y%m%dT%H%M%SZ}{fmt.suffix}"'
    return StreamingResponse(body, media_type=fmt.media_type, headers={"Content-Disposition": disposition})


@router.get("/export/{format_name}", summary="Indicators as STIX 2.1, MISP, CEF, OpenIOC, Sigma or an XDR body")
def export(
    format_name: str,
    caller: CallerDep,
    store: StoreDep,
    type: Annotated[str | None, Query(description="Comma-separated types.")] = None,  # noqa: A002
    category: str | None = None,
    confidence: Confidence | None = None,
    industry: str | None = None,
    feed: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, description="At most this many indicators (capped by the tier).")] = 1000,
    cursor: str | None = None,
    include_expired: bool = False,
    include_allowlisted: bool = False,
) -> StreamingResponse:
    fmt = FORMATS.get(format_name.lower())
    if fmt is None:
        raise ApiError(404, "not_found", f"no export format {format_name!r}", {"valid_formats": sorted(FORMATS)})
    caller.need(Scope.READ_IOCS, "exports")
    _check(caller, fmt)
    filters = feed_filter(caller, type_=type, category=category, confidence=confidence, industry=industry, feed=feed,
                          since=since, until=until, include_expired=include_expired,
                          include_allowlisted=include_allowlisted, now=datetime.now(UTC))
    return _stream(store, fmt, filters, min(limit, caller.tier.max_results), parse_cursor(cursor))


@router.get("/rules/sigma", summary="Sigma rules from recent high-confidence indicators")
def sigma_rules(
    caller: ReadIocsDep,
    store: StoreDep,
    type: str | None = None,  # noqa: A002
    confidence: Confidence = Confidence.HIGH,
    feed: str | None = None,
    category: str | None = None,
    industry: str | None = None,
    days: Annotated[int, Query(ge=1, le=3650, description="Indicators seen in the last N days.")] = RULES_DAYS,
    limit: Annotated[int, Query(ge=1)] = 1000,
) -> StreamingResponse:
    fmt = FORMATS["sigma"]
    _check(caller, fmt)
    now = datetime.now(UTC)
    filters = feed_filter(caller, type_=type, category=category, confidence=confidence, industry=industry, feed=feed,
                          since=now - timedelta(days=days), until=None, include_expired=False,
                          include_allowlisted=False, now=now)
    return _stream(store, fmt, filters, min(limit, caller.tier.max_results), None)


class HuntRequest(BaseModel):
    indicators: list[str] = Field(min_length=1, max_length=10_000, examples=[["evil[.]com", "45.155.205.233"]],
                                  description="Values (defanged is fine); each one's type is detected.")


@router.post("/hunt", summary="One hunting query per platform covering many indicators")
def hunt(body: HuntRequest, caller: ReadIocsDep) -> Response:
    from iocflow.enrich import hunting
    from iocflow.ingest.values import identify

    if len(body.indicators) > caller.tier.max_results:
        raise ApiError(400, "invalid_parameter", f"at most {caller.tier.max_results} indicators per request on the "
                       f"{caller.tier.name} tier", {"limit": caller.tier.max_results})
    accepted: list[tuple[Any, str]] = []
    rejected: list[dict[str, Any]] = []
    for index, raw in enumerate(body.indicators):
        try:
            kind, value = identify(raw)
        except ValueError as exc:
            rejected.append({"index": index, "value": raw[:200], "error": str(exc)})
            continue
        if kind in hunting.HUNTABLE_TYPES:
            accepted.append((kind, value))
        else:
            rejected.append({"index": index, "value": value, "error": f"no log field holds a {kind.value}"})
    try:
        queries = hunting.bulk_queries(accepted) if accepted else {}
    except ValueError as exc:
        raise ApiError(400, "invalid_parameter", str(exc)) from None
    answer = {"queries": queries, "indicators": len(accepted), "rejected": rejected}
    return Response(orjson.dumps(answer), media_type="application/json")
