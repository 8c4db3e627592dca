"""Value objects of the extractor: what kinds exist and what one hit records.

``Kind`` is the one place where an indicator type's name lives; the store, the
API and the exporters all borrow it from here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Kind(str, enum.Enum):
    """Every indicator type iocflow knows. The value is the canonical type name."""

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
    ATTACK_TECHNIQUE = "attack_technique"
    ATTACK_TACTIC = "attack_tactic"
    ATTACK_MITIGATION = "attack_mitigation"
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

    def __str__(self) -> str:  # so f-strings and CSV show the plain name
        return self.value


class Confidence(str, enum.Enum):
    """How sure the extractor is that a hit is a real indicator, not prose."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return _CONFIDENCE_RANK[self]

    def __str__(self) -> str:
        return self.value


_CONFIDENCE_RANK = {Confidence.LOW: 0, Confidence.MEDIUM: 1, Confidence.HIGH: 2}


class Matrix(str, enum.Enum):
    """ATT&CK matrices; PRE-ATT&CK is kept because reports still cite its IDs."""

    ENTERPRISE = "enterprise"
    MOBILE = "mobile"
    ICS = "ics"
    PRE_ATTACK = "pre_attack"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Indicator:
    """One indicator found in a text.

    ``value`` is the canonical, refanged form (the dedup key); ``raw`` is the
    exact source text between ``start`` and ``end`` (offsets into the input
    string). ``parent`` names the kind of the indicator this one was derived
    from (the domain of a URL, the address of a CIDR) so consumers can tell a
    stated indicator from an implied one.
    """

    kind: Kind
    value: str
    raw: str
    start: int
    end: int
    defanged: bool
    confidence: Confidence
    reason: str
    matrices: tuple[Matrix, ...] = ()
    parent: Kind | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "type": self.kind.value,
            "value": self.value,
            "raw": self.raw,
            "start": self.start,
            "end": self.end,
            "defanged": self.defanged,
            "confidence": self.confidence.value,
            "reason": self.reason,
        }
        if self.matrices:
            out["matrices"] = [m.value for m in self.matrices]
        if self.parent is not None:
            out["parent"] = self.parent.value
        return out
