"""The feed formats iocflow reads, by name, and how to recognise one from its bytes.

The format modules are imported on first use, so reading one feed does not load them all.
"""

from __future__ import annotations

import importlib
from functools import cache

from iocflow.exceptions import FeedError
from iocflow.ingest.feeds.base import FeedFormat

#: Format name -> module under ``iocflow.ingest.feeds`` exporting ``FORMAT``.
NAMES = ("urlhaus", "feodo", "threatfox", "stix", "misp")


@cache
def formats() -> dict[str, FeedFormat]:
    loaded = (importlib.import_module(f"iocflow.ingest.feeds.{name}").FORMAT for name in NAMES)
    return {f.name: f for f in loaded}


def get_format(name: str) -> FeedFormat:
    try:
        return formats()[name.lower()]
    except KeyError:
        raise FeedError(f"unknown feed format {name!r}; known: {', '.join(NAMES)}") from None


def detect_format(data: bytes) -> FeedFormat:
    """Which format a document is, from its first bytes; ``FeedError`` when none fits."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"{", b"[")):
        if b'"type"' in head and b'"bundle"' in head or b'"spec_version"' in head:
            return formats()["stix"]
        if b'"event"' in head or b'"threat_level_id"' in head or b'"orgc"' in head:
            return formats()["misp"]
        if b'"ioc_value"' in head or b'"ioc_type"' in head or b'"ioc"' in head:
            return formats()["threatfox"]
        if b'"ip_address"' in head or b'"as_number"' in head:
            return formats()["feodo"]
        if b'"urlhaus_reference"' in head or b'"url_status"' in head or b'"urls"' in head:
            return formats()["urlhaus"]
    else:
        if b"urlhaus" in head or b"dateadded,url,url_status" in head:
            return formats()["urlhaus"]
        if b"feodo" in head or b'"dst_ip"' in head or b"dst_ip" in head:
            return formats()["feodo"]
        if b"threatfox" in head:
            return formats()["threatfox"]
    raise FeedError("cannot tell the feed's format from its content; pass --format")
