"""``/api/v1/export/{format}``, ``/api/v1/rules/sigma`` and ``/api/v1/hunt``: sharing and detection.

Exports take the feed's filters and tier rules (``/api/v1/iocs``) and stream
their body: rows are read a page at a time while the response is being sent,
so a large export never sits in memory as rows and document at once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Annotated

import orjson
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.responses import Response, StreamingResponse

from iocflow.api.deps import Caller, CallerDep, ReadIocsDep, StoreDep
from iocflow.api.errors import ApiError
from iocflow.api.params import IndicatorQueryDep
from iocflow.enrich.hunt import hunt as hunt_values
from iocflow.export.formats import FORMATS, ExportFormat
from iocflow.store.filters import IndicatorQuery
from iocflow.store.store import Store
from iocflow.store.vocabulary import Confidence, Scope

router = APIRouter(prefix="/api/v1", tags=["export"])
#: What /rules/sigma covers unless asked otherwise: the last week's high-confidence indicators.
RULES_DAYS = 7


def _check(caller: Caller, fmt: ExportFormat) -> None:
    caller.need(fmt.scope, f"the {fmt.name} export")
    caller.need_format(fmt.name, f"{fmt.name} exports")


def _stream(store: Store, fmt: ExportFormat, query: IndicatorQuery, limit: int, cursor: str | None) -> StreamingResponse:
    now = query.now or datetime.now(UTC)
    body = fmt.render(store.iter_indicators(query, cursor=cursor, limit=limit), now)
    disposition = f'attachment; filename="iocflow-{now:%Y%m%dT%H%M%SZ}{fmt.suffix}"'
    return StreamingResponse(body, media_type=fmt.media_type, headers={"Content-Disposition": disposition})


@router.get("/export/{format_name}", summary="Indicators as STIX 2.1, MISP, CEF, OpenIOC, Sigma or an XDR body")
def export(
    format_name: str,
    caller: CallerDep,
    store: StoreDep,
    query: IndicatorQueryDep,
    limit: Annotated[int, Query(ge=1, description="At most this many indicators (capped by the tier).")] = 1000,
    cursor: Annotated[str | None, Query(description="Start after this next_cursor of the feed.")] = None,
) -> StreamingResponse:
    fmt = FORMATS.get(format_name.lower())
    if fmt is None:
        raise ApiError(404, "not_found", f"no export format {format_name!r}", {"valid_formats": sorted(FORMATS)})
    caller.need(Scope.READ_IOCS, "exports")
    _check(caller, fmt)
    return _stream(store, fmt, query, min(limit, caller.tier.max_results), cursor)


@router.get("/rules/sigma", summary="Sigma rules from recent high-confidence indicators")
def sigma_rules(
    caller: ReadIocsDep,
    store: StoreDep,
    query: IndicatorQueryDep,
    days: Annotated[int, Query(ge=1, le=3650, description="Indicators seen in the last N days (unless since is given).")
                    ] = RULES_DAYS,
    limit: Annotated[int, Query(ge=1)] = 1000,
) -> StreamingResponse:
    """The feed's selection, except that confidence defaults to high and ``since`` to ``days`` ago."""
    fmt = FORMATS["sigma"]
    _check(caller, fmt)
    now = query.now or datetime.now(UTC)
    query = replace(query, min_confidence=query.min_confidence or Confidence.HIGH,
                    since=max(query.since or now, now - timedelta(days=days)))
    return _stream(store, fmt, query, min(limit, caller.tier.max_results), None)


class HuntRequest(BaseModel):
    indicators: list[str] = Field(min_length=1, max_length=10_000, examples=[["evil[.]com", "45.155.205.233"]],
                                  description="Values (defanged is fine); each one's type is detected.")


@router.post("/hunt", summary="One hunting query per platform covering many indicators")
def hunt(body: HuntRequest, caller: ReadIocsDep) -> Response:
    if len(body.indicators) > caller.tier.max_results:
        raise ApiError(400, "invalid_parameter", f"at most {caller.tier.max_results} indicators per request on the "
                       f"{caller.tier.name} tier", {"limit": caller.tier.max_results})
    return Response(orjson.dumps(hunt_values(body.indicators, today=datetime.now(UTC).date()).to_json()), media_type="application/json")
