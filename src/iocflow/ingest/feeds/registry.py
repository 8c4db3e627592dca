"""The feed formats iocflow reads, by name, and how to recognise one from its bytes.

The format modules are imported on first use, so reading one feed does not load them all.
"""

from __future__ import annotations

import importlib
from functools import cache

from iocflow.exceptions import FeedError
from iocflow.ingest.feeds.base import FeedFormat, first_characters

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
    """Which format a document is, from its first characters (in any encoding ``base`` reads); ``FeedError``
    when none fits."""
    head = first_characters(data, 4096).lstrip(" \t\r\n").lower()
    if head.startswith(("{", "[")):
        if '"type"' in head and '"bundle"' in head or '"spec_version"' in head:
            return formats()["stix"]
        if '"event"' in head or '"threat_level_id"' in head or '"orgc"' in head:
            return formats()["misp"]
        if '"ioc_value"' in head or '"ioc_type"' in head or '"ioc"' in head:
            return formats()["threatfox"]
        if '"ip_address"' in head or '"as_number"' in head:
            return formats()["feodo"]
        if '"urlhaus_reference"' in head or '"url_status"' in head or '"urls"' in head:
            return formats()["urlhaus"]
    else:
        if "urlhaus" in head or "dateadded,url,url_status" in head:
            return formats()["urlhaus"]
        if "feodo" in head or '"dst_ip"' in head or "dst_ip" in head:
            return formats()["feodo"]
        if "threatfox" in head:
            return formats()["threatfox"]
    raise FeedError("cannot tell the feed's format from its content; pass --format")
