"""``GET /api/v1/stats``: how many indicators, of which types, from which sources, seen on which days."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Query
from starlette.responses import Response

from iocflow.api.deps import ReadIocsDep, StoreDep

router = APIRouter(prefix="/api/v1", tags=["stats"])


@router.get("/stats", summary="Counts by type, source and day")
def get_stats(_: ReadIocsDep, store: StoreDep,
              days: Annotated[int, Query(ge=1, le=366, description="Days covered by by_day.")] = 30) -> Response:
    stats = store.stats(days=days, now=datetime.now(UTC))
    body = {
        "total": stats.total, "by_type": {kind.value: n for kind, n in stats.by_type.items()},
        "by_source": [{"source": s.source, "category": s.category, "indicators": s.indicators} for s in stats.by_source],
        "by_day": stats.by_day, "allowlisted": stats.allowlisted, "expired": stats.expired, "articles": stats.articles,
    }
    return Response(orjson.dumps(body), media_type="application/json")
