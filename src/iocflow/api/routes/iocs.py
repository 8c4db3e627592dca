"""``GET /api/v1/iocs``: the feed SIEM, EDR and firewall pipelines pull, in JSON, CSV or plain text."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from iocflow.api.deps import Caller, ReadIocsDep, StoreDep
from iocflow.api.errors import ApiError
from iocflow.api.tiers import Format
from iocflow.store.models import IndicatorRow
from iocflow.store.queries import IndicatorFilter, Page, SourceRef, list_indicators
from iocflow.store.vocabulary import INDUSTRIES, Confidence, IndicatorType, SourceCategory
from iocflow.times import as_utc, iso_z

router = APIRouter(prefix="/api/v1", tags=["feed"])

FEED_VERSION = "1"
CSV_COLUMNS = ("id", "type", "value", "confidence", "first_seen", "last_seen", "source_article", "source_feed",
               "category", "tags")
_MEDIA = {Format.JSON: "application/json", Format.CSV: "text/csv; charset=utf-8", Format.TXT: "text/plain; charset=utf-8"}


_PLURAL = {"category": "categories", "industry": "industries"}


def split_list(raw: str | None, valid: list[str], name: str) -> tuple[str, ...]:
    """A comma-separated parameter, each item checked against ``valid`` (400 lists them as ``valid_<plural>``)."""
    if not raw:
        return ()
    items = tuple(dict.fromkeys(part.strip().lower() for part in raw.split(",") if part.strip()))
    bad = [item for item in items if item not in valid]
    if bad:
        raise ApiError(400, "invalid_parameter", f"unknown {name} {', '.join(map(repr, bad))}",
                       {"parameter": name, f"valid_{_PLURAL.get(name, name + 's')}": valid})
    return items


def parse_cursor(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ApiError(400, "invalid_parameter", "cursor must be the next_cursor of a previous page",
                       {"parameter": "cursor"})
    return int(raw)


def feed_filter(caller: Caller, *, type_: str | None, category: str | None, confidence: Confidence | None,
                industry: str | None, feed: str | None, since: datetime | None, until: datetime | None,
                include_expired: bool, include_allowlisted: bool, now: datetime) -> IndicatorFilter:
    """The request's filters, with ``since`` clamped to the tier's lookback (silently, as documented)."""
    earliest = now - timedelta(days=caller.tier.lookback_days)
    since = as_utc(since) if since else None
    until = as_utc(until) if until else None
    return IndicatorFilter(
        types=split_list(type_, [t.value for t in IndicatorType], "type"),
        min_confidence=confidence.value if confidence else None,
        categories=split_list(category, [c.value for c in SourceCategory], "category"),
        feeds=tuple(f.strip() for f in (feed or "").split(",") if f.strip()),
        industries=split_list(industry, sorted(INDUSTRIES), "industry"),
        since=max(since, earliest) if since else earliest,
        until=until,
        include_expired=include_expired,
        include_allowlisted=include_allowlisted,
        now=now,
    )


def item(row: IndicatorRow, source: SourceRef | None, include_context: bool) -> dict[str, Any]:
    return {
        "id": row.id,
        "type": row.type,
        "value": row.value,
        "confidence": row.confidence,
        "first_seen": row.first_seen,
        "last_seen": row.last_seen,
        "source": {
            "article_id": source.article_id if source else None,
            "article_title": source.article_title if source else None,
            "article_url": source.article_url if source else None,
            "feed_name": source.feed_name if source else None,
            "category": source.category if source else None,
        },
        "context": (source.context if source else None) if include_context else None,
        "tags": row.tags,
        "mitre_techniques": row.techniques,
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
    type: Annotated[str | None, Query(description="Comma-separated types, e.g. ipv4,domain,sha256.")] = None,  # noqa: A002
    category: Annotated[str | None, Query(description="Source categories: news, research, threat-intel, vendor, government, community.")] = None,
    confidence: Annotated[Confidence | None, Query(description="Minimum confidence.")] = None,
    industry: Annotated[str | None, Query(description="Comma-separated industries the source article names.")] = None,
    feed: Annotated[str | None, Query(description="Comma-separated source names.")] = None,
    since: Annotated[datetime | None, Query(description="Last seen at or after (clamped to the tier's lookback).")] = None,
    until: Annotated[datetime | None, Query(description="Last seen before.")] = None,
    limit: Annotated[int, Query(ge=1, description="Page size (capped by the tier).")] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page (keyset paging).")] = None,
    format: Annotated[Format, Query(description="json, csv or txt.")] = Format.JSON,  # noqa: A002
    include_context: bool = False,
    include_expired: bool = False,
    include_allowlisted: bool = False,
) -> Response:
    caller.need_format(format.value, f"{format.value} output")
    now = datetime.now(UTC)
    filters = feed_filter(caller, type_=type, category=category, confidence=confidence, industry=industry, feed=feed,
                          since=since, until=until, include_expired=include_expired,
                          include_allowlisted=include_allowlisted, now=now)
    limit = min(limit, caller.tier.max_results)
    after = parse_cursor(cursor)
    with store.transaction() as session:
        page = list_indicators(session, filters, limit=limit + 1, offset=offset, after=after,
                               with_total=format is Format.JSON)
    more = len(page.rows) > limit
    page.rows = page.rows[:limit]
    if format is Format.TXT:
        return Response("".join(f"{r.value}\n" for r in page.rows), media_type=_MEDIA[format])
    if format is Format.CSV:
        return Response(_csv(page), media_type=_MEDIA[format])
    next_cursor = str(page.last_key) if more and page.last_key is not None else None
    body = {
        "meta": {
            "total": page.total, "limit": limit, "offset": offset, "generated_at": now, "feed_version": FEED_VERSION,
            "source": "iocflow", "next_cursor": next_cursor,
            "filters": {
                "type": list(filters.types), "category": list(filters.categories), "confidence": filters.min_confidence,
                "industry": list(filters.industries), "feed": list(filters.feeds), "since": filters.since,
                "until": filters.until, "include_expired": include_expired, "include_allowlisted": include_allowlisted,
            },
        },
        "data": [item(r, page.sources.get(r.pk), include_context) for r in page.rows],
        "links": {
            "self": _link(request),
            "next": _link(request, cursor=next_cursor, offset=None) if next_cursor else None,
            "prev": _link(request, offset=max(0, offset - limit)) if offset > 0 and after is None else None,
        },
    }
    return Response(orjson.dumps(body, option=orjson.OPT_UTC_Z), media_type="application/json")


def _csv(page: Page) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in page.rows:
        source = page.sources.get(row.pk)
        writer.writerow([
            row.id, row.type, row.value, row.confidence, iso_z(row.first_seen), iso_z(row.last_seen),
            _csv_safe(source.article_url or source.article_title or "") if source else "",
            _csv_safe(source.feed_name) if source else "", source.category if source else "",
            _csv_safe(";".join(row.tags)),
        ])
    return buffer.getvalue()


def _csv_safe(text: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection) in free text; indicator values are served exact."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
