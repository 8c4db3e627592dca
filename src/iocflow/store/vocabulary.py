"""The store's closed vocabularies: indicator types, the analyst ratings and the API keys' scopes.

Indicator types are the extractor's kinds (one name per type, defined in
``iocflow.extract.model.Kind``), with the three ATT&CK kinds folded into one
``mitre_attack`` type (an ATT&CK ID is stored once whatever its class; the
ATT&CK table says which class it is) and ``filename``, which tools push but
free text never yields on its own. ``IndicatorType`` lists them as a plain
class, so type checkers and readers see its members; a test
(``tests/store/test_vocabulary.py``) keeps it equal to ``Kind``.
"""

from __future__ import annotations

import enum

from iocflow.extract.model import Confidence, Kind

__all__ = [
    "DEFAULT_SCOPES", "INDUSTRIES", "Confidence", "IndicatorType", "Reliability", "Reputation", "Scope", "Severity",
    "SourceCategory", "SourceKind", "type_of_kind",
]

_ATTACK_KINDS = frozenset({Kind.ATTACK_TECHNIQUE, Kind.ATTACK_TACTIC, Kind.ATTACK_MITIGATION})


class _Named(str, enum.Enum):
    # A member equals its value (``IndicatorType.URL == "url"``), so it hashes as its value too; Enum's own
    # hash (of the member's name) broke that rule and, written in Python, was a cost on the ingest path,
    # which looks types up in sets and dicts for every row.
    __hash__ = str.__hash__

    def __str__(self) -> str:
        return self.value


class IndicatorType(_Named):
    """Every indicator type the store keeps (the extractor's kinds, ATT&CK folded, plus filename)."""

    URL = "url"
    DOMAIN = "domain"
    IPV4 = "ipv4"
    IPV6 = "ipv6"
    IPV4_CIDR = "ipv4_cidr"
    IPV6_CIDR = "ipv6_cidr"
    SOCKET_ADDRESS = "socket_address"
    EMAIL = "email"
    XMPP = "xmpp"
    MAC = "mac"
    ASN = "asn"
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    SHA512 = "sha512"
    SSDEEP = "ssdeep"
    IMPHASH = "imphash"
    AUTHENTIHASH = "authentihash"
    JA3 = "ja3"
    JARM = "jarm"
    CVE = "cve"
    REGISTRY_KEY = "registry_key"
    FILE_PATH = "file_path"
    USER_AGENT = "user_agent"
    TLP = "tlp"
    BITCOIN = "bitcoin"
    MONERO = "monero"
    ETHEREUM = "ethereum"
    GOOGLE_ADSENSE = "google_adsense"
    GOOGLE_ANALYTICS = "google_analytics"
    PHONE = "phone"
    # Not kinds of the extractor: the three ATT&CK kinds in one, and a name tools push.
    MITRE_ATTACK = "mitre_attack"
    FILENAME = "filename"


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


class Scope(_Named):
    """What an API key may do; ``admin`` holds every scope. The store keeps each key's scopes by value."""

    READ_IOCS = "read:iocs"
    READ_STIX = "read:stix"
    WRITE_INDICATORS = "write:indicators"
    EXTRACT = "extract"
    ADMIN = "admin"


#: Scopes a new key gets when none are asked for.
DEFAULT_SCOPES = (Scope.READ_IOCS.value, Scope.EXTRACT.value)


#: Industries an article can tag its indicators with (the words naming each live with the tagger, ingest/articles.py).
INDUSTRIES = (
    "finance", "healthcare", "government", "technology", "manufacturing", "retail", "energy", "education",
    "telecom", "transportation", "defense", "water",
)
