"""Request parameters shared by several routes, declared once as FastAPI dependencies.

``indicator_query`` is the feed's selection (``/api/v1/iocs``,
``/api/v1/export/*``, ``/api/v1/rules/sigma``): the same names, types and
descriptions everywhere, parsed by ``IndicatorQuery.parse`` and bounded by the
caller's tier.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Query

from iocflow.api.deps import Caller, CallerDep
from iocflow.store.filters import IndicatorQuery
from iocflow.store.vocabulary import Confidence


def indicator_query(
    caller: CallerDep,
    type: Annotated[str | None, Query(description="Comma-separated types, e.g. ipv4,domain,sha256.")] = None,  # noqa: A002
    category: Annotated[str | None, Query(
        description="Source categories: news, research, threat-intel, vendor, government, community.")] = None,
    confidence: Annotated[Confidence | None, Query(description="Minimum confidence.")] = None,
    industry: Annotated[str | None, Query(description="Comma-separated industries the source article names.")] = None,
    feed: Annotated[str | None, Query(description="Comma-separated source names.")] = None,
    since: Annotated[datetime | None, Query(description="Last seen at or after (clamped to the tier's lookback).")] = None,
    until: Annotated[datetime | None, Query(description="Last seen before.")] = None,
    include_expired: Annotated[bool, Query(description="Also indicators past their expiry.")] = False,
    include_allowlisted: Annotated[bool, Query(description="Also allowlisted indicators.")] = False,
) -> IndicatorQuery:
    """The request's selection, with ``since`` raised to the tier's lookback (silently, as documented)."""
    query = IndicatorQuery.parse(types=type, categories=category, min_confidence=confidence, industries=industry,
                                 feeds=feed, since=since, until=until, include_expired=include_expired,
                                 include_allowlisted=include_allowlisted, now=datetime.now(UTC))
    return within_lookback(query, caller)


def within_lookback(query: IndicatorQuery, caller: Caller) -> IndicatorQuery:
    """``query`` with ``since`` no earlier than the caller's tier lets it look back."""
    now = query.now or datetime.now(UTC)
    earliest = now - timedelta(days=caller.tier.lookback_days)
    return replace(query, since=max(query.since, earliest) if query.since else earliest, now=now)


IndicatorQueryDep = Annotated[IndicatorQuery, Depends(indicator_query)]
