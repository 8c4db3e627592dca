"""ArcSight Common Event Format (CEF): one syslog-ready line per indicator.

A SIEM that cannot read STIX can still take CEF over syslog, so each indicator becomes
one event line (the syslog header is the transport's job and is not written here)::

    CEF:0|iocflow|iocflow|0.1.0|ioc:domain|Bad domain indicator|8|dhost=evil.example cs1Label=Indicator Type ...

Header: Device Event Class ID is ``ioc:<type>`` (one signature per type), Name is built
from the closed reputation and type vocabularies, Severity is :data:`SEVERITY` (0-10).
Header fields never carry indicator text, because the CEF standard allows no line break
in the header; they are still escaped (``\\`` and ``|``), and a CR or LF there becomes a
space.

Extension keys come from the CEF dictionary: the value goes in the key made for it
(:data:`VALUE_KEYS`: ``dst`` for IPv4, ``c6a3`` for IPv6, ``dhost`` for domains,
``request`` for URLs, ``fileHash``, ``fname``, ``filePath``,
``requestClientApplication``), any other type in ``cs2`` ("Indicator Value"); ``cs1`` is
the type, ``cn1`` the confidence on the STIX 0-100 scale, ``start``/``end`` first/last
seen and ``deviceCustomDate1`` the expiry (milliseconds since the epoch), ``rt`` the
export time, ``externalId`` the indicator id, ``cat`` its class, ``msg`` its comment,
``cs3``-``cs6`` tags, ATT&CK techniques, reputation and source feed.

Extension values are escaped as the standard says: ``\\`` -> ``\\\\``, ``=`` -> ``\\=``,
LF -> ``\\n``, CR -> ``\\r``; so a value cannot end its field or its line. Nothing else
is altered (tabs, other control characters and non-ASCII text are written as they are,
UTF-8 on the wire); empty values are left out, as the standard asks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Final

from iocflow import __version__
from iocflow.store.views import IndicatorRecord
from iocflow.store.vocabulary import Confidence, IndicatorType, Severity

__all__ = [
    "CONFIDENCE", "OTHER_VALUE_KEY", "SEVERITY", "VALUE_KEYS", "escape_extension", "escape_header", "line", "lines",
]

VENDOR: Final = "iocflow"
PRODUCT: Final = "iocflow"

#: iocflow severity -> CEF severity (0-3 low, 4-6 medium, 7-8 high, 9-10 very high).
SEVERITY: Final[dict[Severity, int]] = {
    Severity.INFO: 1, Severity.LOW: 3, Severity.MEDIUM: 5, Severity.HIGH: 8, Severity.CRITICAL: 10,
}

#: iocflow confidence -> 0-100, the STIX 2.1 "Low/Med/High" scale (Appendix A), so CEF and STIX agree.
CONFIDENCE: Final[dict[Confidence, int]] = {Confidence.LOW: 15, Confidence.MEDIUM: 50, Confidence.HIGH: 85}

#: The CEF dictionary key an indicator's value is written to. Deliberately partial: a type the dictionary has
#: no key for (CVEs, e-mail addresses, ATT&CK IDs, ...) is written to :data:`OTHER_VALUE_KEY`.
VALUE_KEYS: Final[dict[IndicatorType, str]] = {
    IndicatorType.IPV4: "dst",
    IndicatorType.IPV6: "c6a3",  # dst is IPv4-only in the standard; c6a3 is the destination IPv6 custom field
    IndicatorType.DOMAIN: "dhost",
    IndicatorType.URL: "request",
    **{t: "fileHash" for t in (
        IndicatorType.MD5, IndicatorType.SHA1, IndicatorType.SHA256, IndicatorType.SHA512, IndicatorType.IMPHASH,
        IndicatorType.SSDEEP, IndicatorType.AUTHENTIHASH)},
    IndicatorType.FILENAME: "fname",
    IndicatorType.FILE_PATH: "filePath",
    IndicatorType.USER_AGENT: "requestClientApplication",
}
#: Where the value of every other type goes: a custom string, labelled "Indicator Value".
OTHER_VALUE_KEY: Final = "cs2"

_LABELS: Final = {"c6a3": "Destination IPv6 Address"}

_HEADER_ESCAPES: Final = str.maketrans({"\\": "\\\\", "|": "\\|", "\r": " ", "\n": " "})
_EXTENSION_ESCAPES: Final = str.maketrans({"\\": "\\\\", "=": "\\=", "\n": "\\n", "\r": "\\r"})


def escape_header(text: str) -> str:
    """``text`` as a CEF header field: ``\\`` and ``|`` escaped, line breaks (not allowed there) as spaces."""
    return text.translate(_HEADER_ESCAPES)


def escape_extension(text: str) -> str:
    """``text`` as a CEF extension value: ``\\``, ``=``, LF and CR escaped as the standard says."""
    return text.translate(_EXTENSION_ESCAPES)


def _epoch_ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def _name(item: IndicatorRecord) -> str:
    return f"{item.reputation.value.capitalize()} {item.type.value} indicator"


def _fields(item: IndicatorRecord, now: datetime) -> list[tuple[str, str | None]]:
    """The extension as (key, value) pairs in output order; ``None`` or empty values are dropped later."""
    value_key = VALUE_KEYS.get(item.type, OTHER_VALUE_KEY)
    return [
        (value_key, item.value),
        (f"{value_key}Label", _LABELS.get(value_key) or ("Indicator Value" if value_key == OTHER_VALUE_KEY else None)),
        ("cs1Label", "Indicator Type"), ("cs1", item.type.value),
        ("cn1Label", "Confidence"), ("cn1", str(CONFIDENCE[item.confidence])),
        ("externalId", item.id),
        ("rt", _epoch_ms(now)),
        ("start", _epoch_ms(item.first_seen)),
        ("end", _epoch_ms(item.last_seen)),
        ("deviceCustomDate1Label", "Expires" if item.expires_at else None),
        ("deviceCustomDate1", _epoch_ms(item.expires_at) if item.expires_at else None),
        ("cat", item.indicator_class),
        ("cs3Label", "Tags"), ("cs3", ",".join(item.tags)),
        ("cs4Label", "ATT&CK Techniques"), ("cs4", ",".join(item.techniques)),
        ("cs5Label", "Reputation"), ("cs5", item.reputation.value),
        ("cs6Label", "Source"), ("cs6", item.source.feed_name if item.source else None),
        ("msg", item.comment),
    ]


def _extension(pairs: list[tuple[str, str | None]]) -> str:
    present = dict(pairs)
    kept = [
        (key, value) for key, value in pairs
        if value and (not key.endswith("Label") or present.get(key.removesuffix("Label")))  # no label without its field
    ]
    return " ".join(f"{key}={escape_extension(value)}" for key, value in kept if value)


def line(item: IndicatorRecord, *, now: datetime) -> str:
    """One indicator as one CEF line (no syslog header, no trailing newline)."""
    header = [
        "CEF:0", VENDOR, PRODUCT, __version__, f"ioc:{item.type.value}", _name(item), str(SEVERITY[item.severity]),
    ]
    return "|".join([header[0], *(escape_header(h) for h in header[1:])]) + "|" + _extension(_fields(item, now))


def lines(items: Iterable[IndicatorRecord], *, now: datetime) -> Iterator[str]:
    """One CEF line per indicator, in input order; lazy, so a large export streams."""
    for item in items:
        yield line(item, now=now)
