"""Indicators as a Cortex XDR ``insert_jsons`` request body, ready to POST to a tenant.

``POST /public_api/v1/indicators/insert_jsons`` takes::

    {"request_data": [{"indicator": "evil.example", "type": "DOMAIN_NAME", "severity": "HIGH",
                       "expiration_date": 1794395200000, "comment": "...", "reputation": "BAD",
                       "class": "Malware", "vendors": [{"vendor_name": "iocflow", "reputation": "BAD"}]}],
     "validate": true}

the same shape iocflow itself accepts (``iocflow.ingest.xdr``), so an export can be pushed
to XDR or to another iocflow unchanged.

XDR takes four types: HASH (md5, sha1, sha256), IP (ipv4, ipv6), DOMAIN_NAME (domain) and
FILENAME (filename); every other type is skipped and counted in :attr:`XdrExport.skipped`.
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

from iocflow.export.records import ExportItem
from iocflow.ingest.xdr import MAX_ITEMS

__all__ = ["MAX_ITEMS", "VENDOR", "XDR_TYPES", "XdrExport", "export", "indicator", "request", "requests"]

VENDOR: Final = "iocflow"

#: iocflow type -> XDR indicator type; only these are exported.
XDR_TYPES: Final = {
    "md5": "HASH", "sha1": "HASH", "sha256": "HASH",
    "ipv4": "IP", "ipv6": "IP",
    "domain": "DOMAIN_NAME",
    "filename": "FILENAME",
}

_CLASS_MAX: Final = 64  # iocflow keeps at most this many characters of a class; longer would not round-trip


@dataclass(frozen=True, slots=True)
class XdrExport:
    """A request body and what was left out of it: ``skipped`` counts items per type XDR cannot take."""

    body: dict[str, Any]
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def _expiration(item: ExportItem) -> int | str:
    return int(item.expires_at.timestamp() * 1000) if item.expires_at else "Never"


def indicator(item: ExportItem) -> dict[str, Any]:
    """One ``request_data`` entry; the item's type must be in :data:`XDR_TYPES`."""
    entry: dict[str, Any] = {
        "indicator": item.value,
        "type": XDR_TYPES[item.type],
        "severity": item.severity.upper(),
        "reputation": item.reputation.upper(),
        "expiration_date": _expiration(item),
        "reliability": item.reliability,
        "vendors": [{"vendor_name": VENDOR, "reputation": item.reputation.upper(), "reliability": item.reliability}],
    }
    if item.comment:
        entry["comment"] = item.comment
    if item.indicator_class:
        entry["class"] = item.indicator_class[:_CLASS_MAX]
    return entry


def export(items: Iterable[ExportItem], *, now: datetime) -> XdrExport:
    """The request body for every exportable item, and the count of skipped ones per type.

    ``now`` is accepted for the exporters' common signature; the body holds no export time.
    """
    del now
    entries: list[dict[str, Any]] = []
    skipped: Counter[str] = Counter()
    for item in items:
        if item.type in XDR_TYPES:
            entries.append(indicator(item))
        else:
            skipped[item.type] += 1
    return XdrExport({"request_data": entries, "validate": True}, skipped)


def request(items: Iterable[ExportItem], *, now: datetime) -> dict[str, Any]:
    """The ``insert_jsons`` body; items of types XDR cannot take are left out (see :func:`export`)."""
    return export(items, now=now).body


def requests(items: Iterable[ExportItem], *, now: datetime, batch: int = MAX_ITEMS) -> Iterator[dict[str, Any]]:
    """Bodies of at most ``batch`` items each, for exports larger than one request may be."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    exportable = (item for item in items if item.type in XDR_TYPES)
    while chunk := list(islice(exportable, batch)):
        yield request(chunk, now=now)
