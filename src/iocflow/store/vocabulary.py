"""The store's closed vocabularies: indicator types and the analyst ratings.

Indicator types are the extractor's kinds (one name per type, defined in
``iocflow.extract.model.Kind``), with the three ATT&CK kinds folded into one
``mitre_attack`` type (an ATT&CK ID is stored once whatever its class; the
ATT&CK table says which class it is) and ``filename``, which tools push but
free text never yields on its own.
"""

from __future__ import annotations

import enum

from iocflow.extract.model import Confidence, Kind

__all__ = [
    "INDUSTRIES", "Confidence", "IndicatorType", "Reliability", "Reputation", "Severity", "SourceCategory",
    "SourceKind", "type_of_kind",
]

_ATTACK_KINDS = frozenset({Kind.ATTACK_TECHNIQUE, Kind.ATTACK_TACTIC, Kind.ATTACK_MITIGATION})


class _Named(str, enum.Enum):
    # A member equals its value (``IndicatorType.URL == "url"``), so it hashes as its value too; Enum's own
    # hash (of the member's name) broke that rule and, written in Python, was a cost on the ingest path,
    # which looks types up in sets and dicts for every row.
    __hash__ = str.__hash__

    def __str__(self) -> str:
        return self.value


IndicatorType = _Named(  # type: ignore[misc]
    "IndicatorType",
    [(k.name, k.value) for k in Kind if k not in _ATTACK_KINDS] + [("MITRE_ATTACK", "mitre_attack"), ("FILENAME", "filename")],
)
IndicatorType.__doc__ = "Every indicator type the store keeps (the extractor's kinds, ATT&CK folded, plus filename)."


def type_of_kind(kind: Kind) -> IndicatorType:
    """The store type an extracted kind is kept under."""
    return IndicatorType.MITRE_ATTACK if kind in _ATTACK_KINDS else IndicatorType(kind.value)


class Severity(_Named):
    """How bad it is if the indicator is real; ordered from least to most severe."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


class Reputation(_Named):
    """What the sources say the indicator is. Precedence when they disagree: bad > suspicious > good > unknown."""

    UNKNOWN = "unknown"
    GOOD = "good"
    SUSPICIOUS = "suspicious"
    BAD = "bad"

    @property
    def rank(self) -> int:
        return _REPUTATION_RANK[self]


_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}
_REPUTATION_RANK = {r: i for i, r in enumerate(Reputation)}


class Reliability(_Named):
    """The Admiralty scale's source reliability: A completely reliable .. E unreliable, F cannot be judged."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"


class SourceKind(_Named):
    """How indicators reached the store."""

    FEED = "feed"
    ARTICLE = "article"
    PUSH = "push"
    MANUAL = "manual"


class SourceCategory(_Named):
    """What kind of publisher a source is; consumers filter feeds by it."""

    NEWS = "news"
    RESEARCH = "research"
    THREAT_INTEL = "threat-intel"
    VENDOR = "vendor"
    GOVERNMENT = "government"
    COMMUNITY = "community"


#: Industries an article can tag its indicators with (the words naming each live with the tagger, ingest/articles.py).
INDUSTRIES = (
    "finance", "healthcare", "government", "technology", "manufacturing", "retail", "energy", "education",
    "telecom", "transportation", "defense", "water",
)
