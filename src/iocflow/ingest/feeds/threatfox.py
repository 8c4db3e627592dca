"""ThreatFox (abuse.ch): IOCs tied to a malware family, from its JSON export or its API.

Two JSON documents are read, told apart by their shape:

* the export (``/export/json/recent/``, ``/export/json/full/``): an object keyed
  by ThreatFox id, each value a list holding one ``{"ioc_value", "ioc_type",
  "threat_type", "malware", "malware_alias", "malware_printable",
  "first_seen_utc", "last_seen_utc", "confidence_level", "reference", "tags",
  "anonymous", "reporter"}``, ``tags`` a comma-separated string or null;
* the API's answer to ``{"query": "get_iocs"}``: ``{"query_status": "ok",
  "data": [{"id", "ioc", "ioc_type", "threat_type", "malware_printable",
  "confidence_level", "first_seen", "last_seen", "tags", ...}]}``, ``tags`` a list.

Mapping. ``ioc_type`` names the indicator type: ``domain``, ``url``,
``md5_hash``, ``sha1_hash``, ``sha256_hash``, and ``ip:port``, which becomes
two observations, the ``socket_address`` and its ``ipv4``/``ipv6`` address
(a firewall blocks the address, an NDR rule matches the service). Other types
are rejected by name. ``confidence_level`` (0-100) is the observation's
confidence: 75 and above high, 50 to 74 medium, below 50 low (a reporter
less than half sure is a lead, not a block), then the store caps it by the
source's reliability as for any feed. A row without a level is rejected.

``malware`` is ``malware_printable`` (``Cobalt Strike``), left empty for
ThreatFox's ``unknown`` family; ``threat_type`` (``botnet_cc``,
``payload_delivery``, ``payload``) is kept, ``reporter`` too, ``ref`` is the
ThreatFox id. Tags are the IOC's own tags (``"None"`` dropped), plus the
threat type, ``c2`` for ``botnet_cc`` (as Feodo's C2s are tagged), the family,
and ``compromised`` when ThreatFox flags the IOC as a compromised legitimate
site; the store keeps tags on the indicator, the other fields only on the
sighting. ``reference``, ``malware_alias`` and the Malpedia name
(``malware``) go to ``extra``. Severity is left to the reputation (bad: high):
ThreatFox mixes C2s, delivery sites and payload hashes.

A bad row is reported at its ThreatFox id in the export, or its index (from
0) in the API's ``data`` list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from iocflow.exceptions import FeedError
from iocflow.ingest.feeds.base import (
    FeedFormat,
    Fetch,
    abusech_rows,
    clean_tags,
    field_time,
    id_keyed_entries,
    id_prefix,
    is_id,
    is_json,
    load_json,
    text_of,
)
from iocflow.ingest.report import Parsed
from iocflow.ingest.values import identify
from iocflow.store.records import Observation
from iocflow.store.vocabulary import Confidence, IndicatorType, Reliability, Reputation, SourceCategory

_NAME = "threatfox"
_SOCKET = "ip:port"
#: ThreatFox's ``ioc_type`` to what ``identify`` may find in the value.
_TYPES: dict[str, frozenset[IndicatorType]] = {
    _SOCKET: frozenset({IndicatorType.SOCKET_ADDRESS}),
    "domain": frozenset({IndicatorType.DOMAIN}),
    "url": frozenset({IndicatorType.URL}),
    "md5_hash": frozenset({IndicatorType.MD5}),
    "sha1_hash": frozenset({IndicatorType.SHA1}),
    "sha256_hash": frozenset({IndicatorType.SHA256}),
}
_IP = frozenset({IndicatorType.IPV4, IndicatorType.IPV6})
#: Lowest ``confidence_level`` for each confidence, highest first.
_CONFIDENCE_FLOORS = ((75, Confidence.HIGH), (50, Confidence.MEDIUM), (0, Confidence.LOW))
_UNKNOWN_MALWARE = "unknown"


def parse(data: bytes, fetch: Fetch | None = None) -> Parsed:
    """Every IOC in a ThreatFox JSON export or ``get_iocs`` API answer."""
    is_json(data, source=_NAME, what="a ThreatFox export")  # refuses empty documents and HTML pages
    doc = load_json(data, source=_NAME)
    if not isinstance(doc, dict):
        raise FeedError("JSON that is neither a ThreatFox export nor its API answer", source=_NAME)
    if "query_status" in doc:
        return _parse_api(doc)
    return _parse_export(doc)


def _parse_export(doc: Mapping[str, Any]) -> Parsed:
    if doc and not any(is_id(key) for key in doc):
        raise FeedError("a JSON object not keyed by ThreatFox id: not a ThreatFox export", source=_NAME)
    parsed = Parsed()
    for key, line, item in id_keyed_entries(parsed, doc, expected="a list holding the IOC"):
        _add(parsed, item, key, line)
    return parsed


def _parse_api(doc: Mapping[str, Any]) -> Parsed:
    parsed = Parsed()
    for index, item in abusech_rows(parsed, doc, rows="data", source=_NAME, title="ThreatFox"):
        _add(parsed, item, item.get("id"), index)
    return parsed


# -- one row ----------------------------------------------------------------------------------


def _add(parsed: Parsed, row: Mapping[str, Any], ref: object, line: int | None) -> None:
    """The row's observations, or its rejection with the reason."""
    try:
        observations = _observations(row, ref)
    except ValueError as exc:
        raw = _value(row)
        parsed.reject(f"{id_prefix(ref, line)}{exc}", line=line, value=raw or None)
        return
    parsed.add(*observations, line=line, where=id_prefix(ref, line))


def _value(row: Mapping[str, Any]) -> object:
    return row.get("ioc_value", row.get("ioc"))


def _observations(row: Mapping[str, Any], ref: object) -> list[Observation]:
    raw = _value(row)
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("missing ioc_value")
    ioc_type = text_of(row.get("ioc_type"))
    if ioc_type is None:
        raise ValueError("missing ioc_type")
    allowed = _TYPES.get(ioc_type.lower())
    if allowed is None:
        raise ValueError(f"unsupported ioc_type {ioc_type!r}")
    try:
        kind, value = identify(raw, allowed)
    except ValueError as exc:
        raise ValueError(f"ioc_value: {exc}") from None
    observation = Observation(
        kind,
        value,
        first_seen=field_time(row, "first_seen_utc", "first_seen"),
        last_seen=field_time(row, "last_seen_utc", "last_seen"),
        confidence=_confidence(row.get("confidence_level")),
        tags=_tags(row),
        indicator_class="Malware",
        malware=_family(row),
        threat_type=text_of(row.get("threat_type")),
        reporter=text_of(row.get("reporter")),
        ref=text_of(ref),
        extra=_extra(row),
    )
    if kind is not IndicatorType.SOCKET_ADDRESS:
        return [observation]
    # The canonical socket address is "a.b.c.d:port" or "[v6]:port".
    ip_kind, ip = identify(value.rpartition(":")[0].strip("[]"), _IP)
    return [observation, replace(observation, type=ip_kind, value=ip)]


def _confidence(raw: object) -> Confidence:
    """ThreatFox's 0-100 ``confidence_level`` as high (75+), medium (50-74) or low."""
    if raw is None or raw == "":
        raise ValueError("missing confidence_level")
    if isinstance(raw, bool):
        raise ValueError(f"confidence_level is not a number: {raw!r}")
    try:
        level = float(raw) if isinstance(raw, int | float) else float(str(raw).strip())
    except ValueError:
        raise ValueError(f"confidence_level is not a number: {raw!r}") from None
    if not 0 <= level <= 100:
        raise ValueError(f"confidence_level is outside 0-100: {raw!r}")
    return next(confidence for floor, confidence in _CONFIDENCE_FLOORS if level >= floor)


def _family(row: Mapping[str, Any]) -> str | None:
    if (text_of(row.get("malware")) or "").lower() == _UNKNOWN_MALWARE:
        return None
    return text_of(row.get("malware_printable"))


def _tags(row: Mapping[str, Any]) -> tuple[str, ...]:
    threat_type = text_of(row.get("threat_type"))
    added = [threat_type] if threat_type else []
    if threat_type == "botnet_cc":
        added.append("c2")
    if family := _family(row):
        added.append(family)
    if _flag(row.get("is_compromised")):
        added.append("compromised")
    return clean_tags([*clean_tags(row.get("tags")), *added])


def _extra(row: Mapping[str, Any]) -> dict[str, object]:
    extra: dict[str, object] = {}
    for key, name in (("reference", "reference"), ("malware_alias", "malware_alias"), ("malware", "malpedia")):
        text = text_of(row.get(key))
        if text and text.lower() not in {"none", "null", _UNKNOWN_MALWARE}:
            extra[name] = text
    return extra


def _flag(raw: object) -> bool:
    return raw is True or str(raw).strip().lower() in {"true", "1"}


FORMAT = FeedFormat(
    name=_NAME,
    title="ThreatFox IOCs (abuse.ch)",
    parse=parse,
    default_url="https://threatfox.abuse.ch/export/json/recent/",
    category=SourceCategory.THREAT_INTEL,
    reliability=Reliability.B,
    reputation=Reputation.BAD,
    severity=None,
    documentation="https://threatfox.abuse.ch/export/",
)
