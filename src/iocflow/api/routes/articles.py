"""``GET /api/v1/articles``: the reports indicators came from, newest first, cursor-paged."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Query
from starlette.responses import Response

from iocflow.api.deps import ReadIocsDep, StoreDep
from iocflow.api.errors import ApiError
from iocflow.api.routes.iocs import split_list
from iocflow.store.queries import ArticleFilter, list_articles
from iocflow.store.vocabulary import SourceCategory
from iocflow.times import as_utc

router = APIRouter(prefix="/api/v1", tags=["articles"])


def _cursor(raw: str | None) -> tuple[datetime, str] | None:
    if raw is None:
        return None
    try:
        stamp, _, article = base64.urlsafe_b64decode(raw.encode() + b"==").decode().partition("|")
        return datetime.fromisoformat(stamp), article
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_parameter", "cursor must be the next_cursor of a previous page",
                       {"parameter": "cursor"}) from None


@router.get("/articles", summary="Source articles, newest first")
def articles(
    caller: ReadIocsDep,
    store: StoreDep,
    since: datetime | None = None,
    until: datetime | None = None,
    feed: Annotated[str | None, Query(description="Comma-separated source names.")] = None,
    category: str | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in the title or URL.")] = None,
    limit: Annotated[int, Query(ge=1)] = 50,
    cursor: str | None = None,
) -> Response:
    limit = min(limit, caller.tier.max_results)
    filters = ArticleFilter(
        since=as_utc(since) if since else None,
        until=as_utc(until) if until else None,
        feeds=tuple(f.strip() for f in (feed or "").split(",") if f.strip()),
        categories=split_list(category, [c.value for c in SourceCategory], "category"),
        text=q,
    )
    with store.transaction() as session:
        rows = list_articles(session, filters, limit=limit + 1, after=_cursor(cursor))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1][0]
        next_cursor = base64.urlsafe_b64encode(f"{last.ingested_at.isoformat()}|{last.id}".encode()).decode().rstrip("=")
    data = [{
        "id": a.id, "title": a.title, "url": a.url, "published_at": a.published_at, "ingested_at": a.ingested_at,
        "source": {"name": src.name, "category": src.category} if src else None,
        "techniques": a.techniques, "industries": a.industries, "indicator_count": count,
    } for a, src, count in rows]
    return Response(orjson.dumps({"data": data, "meta": {"limit": limit, "next_cursor": next_cursor}},
                                 option=orjson.OPT_UTC_Z), media_type="application/json")
