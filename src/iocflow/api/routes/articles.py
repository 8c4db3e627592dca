"""``GET /api/v1/articles``: the reports indicators came from, newest first, cursor-paged."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Query
from starlette.responses import Response

from iocflow.api.deps import ReadIocsDep, StoreDep
from iocflow.store.filters import ArticleQuery

router = APIRouter(prefix="/api/v1", tags=["articles"])


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
    query = ArticleQuery.parse(since=since, until=until, feeds=feed, categories=category, text=q)
    page = store.articles(query, limit=limit, cursor=cursor)
    data = [{
        "id": a.id, "title": a.title, "url": a.url, "published_at": a.published_at, "ingested_at": a.ingested_at,
        "source": {"name": a.source.name, "category": a.source.category} if a.source else None,
        "techniques": a.techniques, "industries": a.industries, "indicator_count": a.indicator_count,
    } for a in page.items]
    return Response(orjson.dumps({"data": data, "meta": {"limit": limit, "next_cursor": page.next_cursor}},
                                 option=orjson.OPT_UTC_Z), media_type="application/json")
