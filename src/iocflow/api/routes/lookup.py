"""``GET /api/v1/lookup``: everything iocflow knows about one value, with a risk score and hunting queries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Query
from starlette.responses import Response

from iocflow.api.deps import ReadIocsDep, StoreDep
from iocflow.enrich.lookup import lookup as lookup_value

router = APIRouter(prefix="/api/v1", tags=["lookup"])


@router.get("/lookup", summary="One indicator: risk score with reasons, ATT&CK, sources, hunting queries")
def lookup(
    caller: ReadIocsDep,
    store: StoreDep,
    value: Annotated[str, Query(min_length=1, max_length=8192, description="The value; defanged is fine.")],
    type: Annotated[str | None, Query(description="A type hint, e.g. domain.")] = None,  # noqa: A002
) -> Response:
    answer = lookup_value(store, value, type, now=datetime.now(UTC)).to_json()
    return Response(orjson.dumps(answer, option=orjson.OPT_UTC_Z), media_type="application/json")
