"""Indicators as a Cortex XDR ``insert_jsons`` request body, ready to POST to a tenant.

``POST /public_api/v1/indicators/insert_jsons`` takes::

    {"request_data": [{"indicator": "evil.example", "type": "DOMAIN_NAME", "severity": "HIGH",
                       "expiration_date": 1794395200000, "comment": "...", "reputation": "BAD",
                       "class": "Malware", "vendors": [{"vendor_name": "iocflow", "reputation": "BAD"}]}],
     "validate": true}

the same shape iocflow itself accepts (``iocflow.ingest.xdr``), so an export can be pushed
to XDR or to another iocflow unchanged.

XDR takes four types: HASH (md5, sha1, sha256), IP (ipv4, ipv6), DOMAIN_NAME (domain) and
FILENAME (filename); every other type (:data:`NOT_EXPORTED`) is skipped and counted in
:attr:`XdrExport.skipped`. A type in neither table is a KeyError, not a silent omission.
``severity`` and ``reputation`` are iocflow's ratings upper-cased (INFO..CRITICAL,
GOOD/BAD/SUSPICIOUS/UNKNOWN). ``expiration_date`` is the expiry in milliseconds since the
epoch, or ``"Never"`` when the indicator does not expire (iocflow stores no expiry then).
``reliability`` is the A-F rating of the indicator's most reliable source, sent on the item
and on iocflow's vendor entry. ``validate`` is true so XDR refuses the whole
batch rather than storing part of it when one item is bad.

XDR and iocflow accept at most :data:`MAX_ITEMS` items per request; :func:`requests`
splits a large export into several bodies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any, Final

from iocflow.ingest.xdr import MAX_ITEMS
from iocflow.store.views import IndicatorRecord
from iocflow.store.vocabulary import IndicatorType

__all__ = [
    "MAX_ITEMS", "NOT_EXPORTED", "VENDOR", "XDR_TYPES", "XdrExport", "export", "indicator", "request", "requests",
]

VENDOR: Final = "iocflow"

#: iocflow type -> XDR indicator type; only these are exported.
XDR_TYPES: Final[dict[IndicatorType, str]] = {
    IndicatorType.MD5: "HASH", IndicatorType.SHA1: "HASH", IndicatorType.SHA256: "HASH",
    IndicatorType.IPV4: "IP", IndicatorType.IPV6: "IP",
    IndicatorType.DOMAIN: "DOMAIN_NAME",
    IndicatorType.FILENAME: "FILENAME",
}

#: Types XDR has no indicator type for: skipped and counted.
NOT_EXPORTED: Final[frozenset[IndicatorType]] = frozenset({
    IndicatorType.URL, IndicatorType.IPV4_CIDR, IndicatorType.IPV6_CIDR, IndicatorType.SOCKET_ADDRESS,
    IndicatorType.EMAIL, IndicatorType.XMPP, IndicatorType.MAC, IndicatorType.ASN, IndicatorType.SHA512,
    IndicatorType.SSDEEP, IndicatorType.IMPHASH, IndicatorType.AUTHENTIHASH, IndicatorType.JA3, IndicatorType.JARM,
    IndicatorType.CVE, IndicatorType.REGISTRY_KEY, IndicatorType.FILE_PATH, IndicatorType.USER_AGENT,
    IndicatorType.TLP, IndicatorType.BITCOIN, IndicatorType.MONERO, IndicatorType.ETHEREUM,
    IndicatorType.GOOGLE_ADSENSE, IndicatorType.GOOGLE_ANALYTICS, IndicatorType.PHONE, IndicatorType.MITRE_ATTACK,
})

_CLASS_MAX: Final = 64  # iocflow keeps at most this many characters of a class; longer would not round-trip


@dataclass(frozen=True, slots=True)
class XdrExport:
    """A request body and what was left out of it: ``skipped`` counts items per type XDR cannot take."""

    body: dict[str, Any]
    skipped: Counter[IndicatorType] = field(default_factory=Counter)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def _expiration(item: IndicatorRecord) -> int | str:
    return int(item.expires_at.timestamp() * 1000) if item.expires_at else "Never"


def indicator(item: IndicatorRecord) -> dict[str, Any]:
    """One ``request_data`` entry; the item's type must be in :data:`XDR_TYPES`."""
    entry: dict[str, Any] = {
        "indicator": item.value,
        "type": XDR_TYPES[item.type],
        "severity": item.severity.value.upper(),
        "reputation": item.reputation.value.upper(),
        "expiration_date": _expiration(item),
        "reliability": item.reliability.value,
        "vendors": [
            {"vendor_name": VENDOR, "reputation": item.reputation.value.upper(), "reliability": item.reliability.value},
        ],
    }
    if item.comment:
        entry["comment"] = item.comment
    if item.indicator_class:
        entry["class"] = item.indicator_class[:_CLASS_MAX]
    return entry


def _exportable(item: IndicatorRecord) -> bool:
    """Whether XDR takes the item's type; a type in neither table is a vocabulary change not caught up with here."""
    if item.type in XDR_TYPES:
        return True
    if item.type in NOT_EXPORTED:
        return False
    raise KeyError(f"indicator type {item.type!r} is in neither XDR_TYPES nor NOT_EXPORTED")


def export(items: Iterable[IndicatorRecord], *, now: datetime) -> XdrExport:
    """The request body for every exportable item, and the count of skipped ones per type.

    ``now`` is accepted for the exporters' common signature; the body holds no export time.
    """
    del now
    entries: list[dict[str, Any]] = []
    skipped: Counter[IndicatorType] = Counter()
    for item in items:
        if _exportable(item):
            entries.append(indicator(item))
        else:
            skipped[item.type] += 1
    return XdrExport({"request_data": entries, "validate": True}, skipped)


def request(items: Iterable[IndicatorRecord], *, now: datetime) -> dict[str, Any]:
    """The ``insert_jsons`` body; items of types XDR cannot take are left out (see :func:`export`)."""
    return export(items, now=now).body


def requests(items: Iterable[IndicatorRecord], *, now: datetime, batch: int = MAX_ITEMS) -> Iterator[dict[str, Any]]:
    """Bodies of at most ``batch`` items each, for exports larger than one request may be."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    exportable = (item for item in items if _exportable(item))
    while chunk := list(islice(exportable, batch)):
        yield request(chunk, now=now)
