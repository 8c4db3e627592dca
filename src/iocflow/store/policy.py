"""The store's rules, each written once: confidence, expiry, and how sightings merge.

Confidence of one sighting
    The extractor's confidence, capped by how reliable the source is: an A/B
    source passes it through, a C or F (cannot be judged) source caps it at
    medium, a D/E source caps it at low. A feed row or a pushed indicator has
    extraction confidence high (the source states it is an indicator); an
    article's hit has whatever the extractor said.

Confidence of an indicator
    The best confidence among its sightings, raised one step (up to high) when
    at least ``CORROBORATION_SOURCES`` distinct sources reported it.

Expiry
    ``last_seen + TTL[type]``; hashes, CVEs and the like never expire. Seeing an
    indicator again moves ``last_seen`` and so extends its expiry. A source may
    give an explicit expiry (XDR pushes do) or say it never expires. Expiry only
    ever moves later: the indicator expires at the latest of its default, any
    explicit expiry and its previous expiry, and never once any source said
    never. (To retire an indicator early, allowlist it.)

Severity, reputation, reliability
    The most severe rating any source gave (a source that gives none rates by
    reputation: bad high, suspicious medium, unknown low, good info); the worst
    reputation (bad > suspicious > good > unknown); the most reliable source.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from iocflow.store.vocabulary import Confidence, IndicatorType, Reliability, Reputation, Severity

CORROBORATION_SOURCES = 2

_RELIABILITY_CAP: dict[Reliability, Confidence] = {
    Reliability.A: Confidence.HIGH,
    Reliability.B: Confidence.HIGH,
    Reliability.C: Confidence.MEDIUM,
    Reliability.F: Confidence.MEDIUM,
    Reliability.D: Confidence.LOW,
    Reliability.E: Confidence.LOW,
}
_BY_RANK = sorted(Confidence, key=lambda c: c.rank)

_NETWORK_DAYS = 30
_NAME_DAYS = 90
#: Default time to live per type, in days; ``None`` = never expires.
DEFAULT_TTL_DAYS: dict[IndicatorType, int | None] = {t: None for t in IndicatorType} | {
    IndicatorType.IPV4: _NETWORK_DAYS,
    IndicatorType.IPV6: _NETWORK_DAYS,
    IndicatorType.IPV4_CIDR: _NETWORK_DAYS,
    IndicatorType.IPV6_CIDR: _NETWORK_DAYS,
    IndicatorType.SOCKET_ADDRESS: _NETWORK_DAYS,
    IndicatorType.DOMAIN: _NAME_DAYS,
    IndicatorType.URL: _NAME_DAYS,
    IndicatorType.EMAIL: _NAME_DAYS,
    IndicatorType.XMPP: _NAME_DAYS,
    IndicatorType.USER_AGENT: _NAME_DAYS,
    IndicatorType.JA3: _NAME_DAYS,
    IndicatorType.JARM: _NAME_DAYS,
}


def sighting_confidence(extraction: Confidence, reliability: Reliability) -> Confidence:
    """One sighting's confidence: the extraction's, capped by the source's reliability."""
    cap = _RELIABILITY_CAP[reliability]
    return extraction if extraction.rank <= cap.rank else cap


def indicator_confidence(best_sighting_rank: int, distinct_sources: int) -> Confidence:
    """An indicator's confidence from its sightings: the best one, corroboration raises a step."""
    rank = best_sighting_rank + (1 if distinct_sources >= CORROBORATION_SOURCES else 0)
    return _BY_RANK[min(rank, len(_BY_RANK) - 1)]


def ttl_days(kind: IndicatorType, overrides: Mapping[str, int | None] | None = None) -> int | None:
    """Days an indicator of this type lives after it was last seen (``None`` = forever)."""
    if overrides and kind.value in overrides:
        return overrides[kind.value]
    return DEFAULT_TTL_DAYS[kind]


def default_expiry(kind: IndicatorType, last_seen: datetime, overrides: Mapping[str, int | None] | None = None) -> datetime | None:
    """When an indicator last seen at ``last_seen`` expires by default."""
    days = ttl_days(kind, overrides)
    return None if days is None else last_seen + timedelta(days=days)


def reliability_order(value: Reliability) -> int:
    """Sort key, most reliable first: A, B, C, then F (cannot be judged), D, E."""
    return "ABCFDE".index(value.value)


def default_severity(reputation: Reputation) -> Severity:
    """Severity when no source rated it: what the reputation implies."""
    return _SEVERITY_BY_REPUTATION[reputation]


_SEVERITY_BY_REPUTATION = {
    Reputation.BAD: Severity.HIGH,
    Reputation.SUSPICIOUS: Severity.MEDIUM,
    Reputation.UNKNOWN: Severity.LOW,
    Reputation.GOOD: Severity.INFO,
}
