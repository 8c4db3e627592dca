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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

LEVELS = ((70, "critical"), (50, "high"), (30, "medium"), (0, "low"))
UNKNOWN = "unknown"
_REPUTATION = {"bad": 40, "suspicious": 20, "good": -40, "unknown": 0}
_RELIABILITY = {"A": 15, "B": 15, "C": 5, "F": 0, "D": -10, "E": -10}
_CATEGORY = {"threat-intel": 10, "government": 10, "vendor": 5, "research": 5, "community": 0, "news": 0}
_CONFIDENCE = {"high": 15, "medium": 5, "low": -10}
_SEVERITY = {"critical": 15, "high": 10}
_PER_EXTRA_SOURCE, _MAX_EXTRA_SOURCES = 10, 20
_FRESH, _STALE = timedelta(days=7), timedelta(days=90)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the store knows about one indicator, as the score reads it."""

    reputation: str
    confidence: str
    severity: str
    last_seen: datetime
    expires_at: datetime | None
    allowlisted: bool
    allowlist_reason: str | None
    source_reliabilities: Sequence[str]
    source_categories: Sequence[str]


@dataclass(frozen=True, slots=True)
class RiskScore:
    level: str
    score: int
    reasons: tuple[str, ...]


def unknown() -> RiskScore:
    return RiskScore(UNKNOWN, 0, ("no source has reported this value",))


def score(evidence: Evidence, *, now: datetime) -> RiskScore:
    """The level, the points and the reason for each point."""
    if evidence.allowlisted:
        return RiskScore("low", 0, (f"allowlisted: {evidence.allowlist_reason or 'on the allowlist'}",))
    parts: list[tuple[int, str]] = []

    def add(points: int, reason: str) -> None:
        if points:
            parts.append((points, f"{points:+d} {reason}"))

    add(_REPUTATION.get(evidence.reputation, 0), f"reputation {evidence.reputation}")
    sources = len(evidence.source_reliabilities)
    add(min(_MAX_EXTRA_SOURCES, _PER_EXTRA_SOURCE * max(0, sources - 1)), f"{sources} independent sources")
    if evidence.source_reliabilities:
        best = min(evidence.source_reliabilities, key="ABCFDE".index)
        add(_RELIABILITY.get(best, 0), f"most reliable source rated {best}")
    if evidence.source_categories:
        category = max(evidence.source_categories, key=lambda c: _CATEGORY.get(c, 0))
        add(_CATEGORY.get(category, 0), f"reported by a {category} source")
    add(_CONFIDENCE.get(evidence.confidence, 0), f"confidence {evidence.confidence}")
    add(_SEVERITY.get(evidence.severity, 0), f"severity {evidence.severity}")
    age = now - evidence.last_seen
    if age <= _FRESH:
        add(10, "seen in the last 7 days")
    elif age > _STALE:
        add(-15, f"last seen {age.days} days ago")
    if evidence.expires_at is not None and evidence.expires_at <= now:
        add(-25, "expired")
    total = max(0, min(100, sum(p for p, _ in parts)))
    level = next(name for floor, name in LEVELS if total >= floor)
    return RiskScore(level, total, tuple(reason for _, reason in parts))
