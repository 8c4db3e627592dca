"""The feed formats iocflow reads, by name, and how to recognise one from its bytes."""

from __future__ import annotations

from iocflow.exceptions import FeedError
from iocflow.ingest.feeds import feodo, misp, stix, threatfox, urlhaus
from iocflow.ingest.feeds.base import FeedFormat

FORMATS: dict[str, FeedFormat] = {f.name: f for f in (urlhaus.FORMAT, feodo.FORMAT, threatfox.FORMAT, stix.FORMAT, misp.FORMAT)}


def get_format(name: str) -> FeedFormat:
    try:
        return FORMATS[name.lower()]
    except KeyError:
        raise FeedError(f"unknown feed format {name!r}; known: {', '.join(FORMATS)}") from None


def detect_format(data: bytes) -> FeedFormat:
    """Which format a document is, from its first bytes; ``FeedError`` when none fits."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"{", b"[")):
        if b'"type"' in head and b'"bundle"' in head or b'"spec_version"' in head:
            return FORMATS["stix"]
        if b'"event"' in head or b'"threat_level_id"' in head or b'"orgc"' in head:
            return FORMATS["misp"]
        if b'"ioc_value"' in head or b'"ioc_type"' in head or b'"ioc"' in head:
            return FORMATS["threatfox"]
        if b'"ip_address"' in head or b'"as_number"' in head:
            return FORMATS["feodo"]
        if b'"urlhaus_reference"' in head or b'"url_status"' in head or b'"urls"' in head:
            return FORMATS["urlhaus"]
    else:
        if b"urlhaus" in head or b"dateadded,url,url_status" in head:
            return FORMATS["urlhaus"]
        if b"feodo" in head or b'"dst_ip"' in head or b"dst_ip" in head:
            return FORMATS["feodo"]
        if b"threatfox" in head:
            return FORMATS["threatfox"]
    raise FeedError("cannot tell the feed's format from its content; pass --format")
