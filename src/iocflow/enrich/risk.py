"""The risk score of a stored indicator: an explainable sum of documented points.

Each rule adds or removes points and says so in a reason; the total (clamped
to 0..100) maps to a level. An allowlisted indicator is ``low`` whatever else
is true, and an indicator nobody reported is ``unknown``.

| evidence | points |
|---|---|
| reputation bad / suspicious / good | +40 / +20 / -40 |
| each distinct source beyond the first | +10 (at most +20) |
| best source reliability A-B / C / D-E | +15 / +5 / -10 |
| a threat-intel or government source / a vendor or research source | +10 / +5 |
| confidence high / medium / low | +15 / +5 / -10 |
| severity critical / high | +15 / +10 |
| last seen within 7 days / more than 90 days ago | +10 / -15 |
| expired | -25 |

Levels: 70 and over critical, 50 high, 30 medium, below 30 low.

The point tables are keyed by the store's vocabularies and list every member,
the ones worth no points with 0, so a renamed or added member is a KeyError
here rather than a silent 0.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from iocflow.store.vocabulary import Confidence, Reliability, Reputation, Severity, SourceCategory

__all__ = ["LEVELS", "Evidence", "RiskLevel", "RiskScore", "score", "unknown"]


class RiskLevel(str, enum.Enum):
    """The level a score maps to; ``unknown`` when no source has reported the value."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value


#: (floor, level), highest first: a score gets the first level whose floor it reaches.
LEVELS: tuple[tuple[int, RiskLevel], ...] = (
    (70, RiskLevel.CRITICAL), (50, RiskLevel.HIGH), (30, RiskLevel.MEDIUM), (0, RiskLevel.LOW),
)

_REPUTATION: dict[Reputation, int] = {
    Reputation.BAD: 40, Reputation.SUSPICIOUS: 20, Reputation.GOOD: -40, Reputation.UNKNOWN: 0,
}
_RELIABILITY: dict[Reliability, int] = {
    Reliability.A: 15, Reliability.B: 15, Reliability.C: 5, Reliability.F: 0, Reliability.D: -10, Reliability.E: -10,
}
#: Best first: F, "cannot be judged", ranks above the sources judged unreliable.
_RELIABILITY_ORDER: tuple[Reliability, ...] = (
    Reliability.A, Reliability.B, Reliability.C, Reliability.F, Reliability.D, Reliability.E,
)
_CATEGORY: dict[SourceCategory, int] = {
    SourceCategory.THREAT_INTEL: 10, SourceCategory.GOVERNMENT: 10, SourceCategory.VENDOR: 5,
    SourceCategory.RESEARCH: 5, SourceCategory.COMMUNITY: 0, SourceCategory.NEWS: 0,
}
_CONFIDENCE: dict[Confidence, int] = {Confidence.HIGH: 15, Confidence.MEDIUM: 5, Confidence.LOW: -10}
#: Only critical and high severity add points.
_SEVERITY: dict[Severity, int] = {
    Severity.CRITICAL: 15, Severity.HIGH: 10, Severity.MEDIUM: 0, Severity.LOW: 0, Severity.INFO: 0,
}
_PER_EXTRA_SOURCE, _MAX_EXTRA_SOURCES = 10, 20
_FRESH, _STALE = timedelta(days=7), timedelta(days=90)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the store knows about one indicator, as the score reads it: one entry per distinct source."""

    reputation: Reputation
    confidence: Confidence
    severity: Severity
    last_seen: datetime
    expires_at: datetime | None
    allowlisted: bool
    allowlist_reason: str | None
    source_reliabilities: Sequence[Reliability]
    source_categories: Sequence[SourceCategory]


@dataclass(frozen=True, slots=True)
class RiskScore:
    level: RiskLevel
    score: int
    reasons: tuple[str, ...]


def unknown() -> RiskScore:
    return RiskScore(RiskLevel.UNKNOWN, 0, ("no source has reported this value",))


def score(evidence: Evidence, *, now: datetime) -> RiskScore:
    """The level, the points and the reason for each point."""
    if evidence.allowlisted:
        return RiskScore(RiskLevel.LOW, 0, (f"allowlisted: {evidence.allowlist_reason or 'on the allowlist'}",))
    parts: list[tuple[int, str]] = []

    def add(points: int, reason: str) -> None:
        if points:
            parts.append((points, f"{points:+d} {reason}"))

    add(_REPUTATION[evidence.reputation], f"reputation {evidence.reputation.value}")
    sources = len(evidence.source_reliabilities)
    add(min(_MAX_EXTRA_SOURCES, _PER_EXTRA_SOURCE * max(0, sources - 1)), f"{sources} independent sources")
    if evidence.source_reliabilities:
        best = min(evidence.source_reliabilities, key=_RELIABILITY_ORDER.index)
        add(_RELIABILITY[best], f"most reliable source rated {best.value}")
    if evidence.source_categories:
        category = max(evidence.source_categories, key=_CATEGORY.__getitem__)
        add(_CATEGORY[category], f"reported by a {category.value} source")
    add(_CONFIDENCE[evidence.confidence], f"confidence {evidence.confidence.value}")
    add(_SEVERITY[evidence.severity], f"severity {evidence.severity.value}")
    age = now - evidence.last_seen
    if age <= _FRESH:
        add(10, "seen in the last 7 days")
    elif age > _STALE:
        add(-15, f"last seen {age.days} days ago")
    if evidence.expires_at is not None and evidence.expires_at <= now:
        add(-25, "expired")
    total = max(0, min(100, sum(p for p, _ in parts)))
    level = next(level for floor, level in LEVELS if total >= floor)
    return RiskScore(level, total, tuple(reason for _, reason in parts))
