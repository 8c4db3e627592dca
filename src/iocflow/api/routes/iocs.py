"""``GET /api/v1/iocs``: the feed SIEM, EDR and firewall pipelines pull, in JSON, CSV or plain text."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from iocflow.api.deps import ReadIocsDep, StoreDep
from iocflow.api.params import IndicatorQueryDep
from iocflow.api.tiers import Format
from iocflow.store.views import IndicatorRecord
from iocflow.times import iso_z

router = APIRouter(prefix="/api/v1", tags=["feed"])

FEED_VERSION = "1"
CSV_COLUMNS = ("id", "type", "value", "confidence", "first_seen", "last_seen", "source_article", "source_feed",
               "category", "tags")
_MEDIA = {Format.JSON: "application/json", Format.CSV: "text/csv; charset=utf-8", Format.TXT: "text/plain; charset=utf-8"}


def item(record: IndicatorRecord, include_context: bool) -> dict[str, Any]:
    source = record.source
    return {
        "id": record.id,
        "type": record.type,
        "value": record.value,
        "confidence": record.confidence,
        "first_seen": record.first_seen,
        "last_seen": record.last_seen,
        "source": {
            "article_id": source.article_id if source else None,
            "article_title": source.article_title if source else None,
            "article_url": source.article_url if source else None,
            "feed_name": source.feed_name if source else None,
            "category": source.category if source else None,
        },
        "context": (source.context if source else None) if include_context else None,
        "tags": record.tags,
        "mitre_techniques": record.techniques,
    }


def _link(request: Request, **changes: object) -> str:
    params = dict(request.query_params)
    params.pop("api_key", None)  # never echo a secret into links
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return f"{request.url.path}{'?' + query if query else ''}"


@router.get("/iocs", summary="The IOC feed: filtered, paged, in JSON, CSV or text")
def list_iocs(
    request: Request,
    caller: ReadIocsDep,
    store: StoreDep,
    query: IndicatorQueryDep,
    limit: Annotated[int, Query(ge=1, description="Page size (capped by the tier).")] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page (keyset paging).")] = None,
    format: Annotated[Format, Query(description="json, csv or txt.")] = Format.JSON,  # noqa: A002
    include_context: bool = False,
) -> Response:
    caller.need_format(format.value, f"{format.value} output")
    limit = min(limit, caller.tier.max_results)
    page = store.indicators(query, limit=limit, offset=offset, cursor=cursor, with_total=format is Format.JSON)
    if format is Format.TXT:
        return Response("".join(f"{r.value}\n" for r in page.items), media_type=_MEDIA[format])
    if format is Format.CSV:
        return Response(_csv(page.items), media_type=_MEDIA[format])
    body = {
        "meta": {
            "total": page.total, "limit": limit, "offset": offset, "generated_at": query.now,
            "feed_version": FEED_VERSION, "source": "iocflow", "next_cursor": page.next_cursor,
            "filters": {
                "type": list(query.types), "category": list(query.categories), "confidence": query.min_confidence,
                "industry": list(query.industries), "feed": list(query.feeds), "since": query.since,
                "until": query.until, "include_expired": query.include_expired,
                "include_allowlisted": query.include_allowlisted,
            },
        },
        "data": [item(r, include_context) for r in page.items],
        "links": {
            "self": _link(request),
            "next": _link(request, cursor=page.next_cursor, offset=None) if page.next_cursor else None,
            "prev": _link(request, offset=max(0, offset - limit)) if offset > 0 and cursor is None else None,
        },
    }
    return Response(orjson.dumps(body, option=orjson.OPT_UTC_Z), media_type="application/json")


def _csv(records: Sequence[IndicatorRecord]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        source = record.source
        writer.writerow([
            record.id, record.type.value, record.value, record.confidence.value, iso_z(record.first_seen),
            iso_z(record.last_seen), _csv_safe(source.article_url or source.article_title or "") if source else "",
            _csv_safe(source.feed_name) if source else "", source.category.value if source else "",
            _csv_safe(";".join(record.tags)),
        ])
    return buffer.getvalue()


def _csv_safe(text: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection) in free text; indicator values are served exact."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
