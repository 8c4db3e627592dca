"""Feodo Tracker (abuse.ch): the botnet C2 IP blocklist, as JSON or CSV.

Two documents are read, told apart by their content:

* ``/downloads/ipblocklist.json``: a list of ``{"ip_address", "port", "status",
  "hostname", "as_number", "as_name", "country", "first_seen", "last_online",
  "malware"}``;
* ``/downloads/ipblocklist.csv``: a ``#`` banner, the quoted header
  ``"first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"``,
  then one quoted row per C2.

Mapping. Each row is two observations with the same details: the ``ipv4`` (or
``ipv6``) address, and the ``socket_address`` ``ip:port`` the C2 listens on,
so a firewall can block the address while a proxy or NDR rule can match the
exact service. ``malware`` is the family Feodo names (``QakBot``, ``Emotet``);
``threat_type`` is ``botnet_cc`` (ThreatFox's word for the same thing), and the
tags are ``botnet_cc``, ``c2`` and the family, so the indicator can be filtered
by them (the store keeps tags on the indicator, malware only on the sighting).
``indicator_class`` is ``Malware``; severity is high (the feed's default):
a listed address answered as a live botnet C2.

``first_seen`` is ``first_seen``/``first_seen_utc`` (UTC). ``last_online`` is a
date only; it is read as 00:00 UTC that day, which undersells it by up to a
day but never puts it in the future, and it is raised to ``first_seen`` when
the C2 was first seen later that same day.

``status`` (online/offline) is not a tag: tags add up over time, so a C2 that
went offline would keep ``online`` for ever. It goes to ``extra["status"]``;
liveness is what ``last_seen`` and the store's expiry say. ``hostname`` is the
address's reverse DNS name (a hoster's ``static.x.y.z.clients...``), not a
domain the malware uses, so it is no indicator; it goes to ``extra`` with the
AS number, AS name and country.

A bad row is reported at its 1-based line in the CSV or its index (from 0)
in the JSON list; a bad port, address or date rejects the whole row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from iocflow.exceptions import FeedError
from iocflow.ingest.feeds.base import (
    FeedFormat,
    Fetch,
    clean_tags,
    csv_fields,
    csv_lines,
    csv_row,
    field_time,
    is_json,
    load_json,
    text_lines,
    text_of,
)
from iocflow.ingest.report import Parsed
from iocflow.ingest.values import identify
from iocflow.store.records import Observation
from iocflow.store.vocabulary import IndicatorType, Reliability, Reputation, Severity, SourceCategory

_NAME = "feodo"
_IP = frozenset({IndicatorType.IPV4, IndicatorType.IPV6})
_SOCKET = frozenset({IndicatorType.SOCKET_ADDRESS})
_THREAT_TYPE = "botnet_cc"
#: The CSV's column names, as the JSON's keys.
_CSV_KEYS = {
    "first_seen_utc": "first_seen",
    "dst_ip": "ip_address",
    "dst_port": "port",
    "c2_status": "status",
    "last_online": "last_online",
    "malware": "malware",
}
_REQUIRED_COLUMNS = frozenset({"dst_ip", "dst_port"})
_EXTRA_KEYS = ("status", "hostname", "as_number", "as_name", "country")


def parse(data: bytes, fetch: Fetch | None = None) -> Parsed:
    """Every C2 in a Feodo Tracker IP blocklist, JSON or CSV."""
    if is_json(data, source=_NAME, what="a Feodo Tracker blocklist"):
        return _parse_json(data)
    text, warning = text_lines(data, source=_NAME)
    parsed = _parse_csv(text)
    if warning:
        parsed.warnings.append(warning)
    return parsed


# -- JSON -------------------------------------------------------------------------------------


def _parse_json(data: bytes) -> Parsed:
    doc = load_json(data, source=_NAME)
    if not isinstance(doc, list):
        raise FeedError("JSON that is not a list of C2 entries: not a Feodo Tracker blocklist", source=_NAME)
    parsed = Parsed()
    for index, item in enumerate(doc):
        parsed.rows_read += 1
        if not isinstance(item, dict):
            parsed.reject("row is not a JSON object", line=index)
            continue
        _add(parsed, item, index)
    return parsed


# -- CSV --------------------------------------------------------------------------------------


def _parse_csv(text: str) -> Parsed:
    parsed = Parsed()
    columns: list[str] | None = None
    for number, line in csv_lines(text):
        if not line.strip() or line.startswith("#"):
            continue
        if columns is None:
            # The first line that is not banner is the quoted header.
            columns = _header(line)
            if columns is None:
                raise FeedError(f"line {number}: no '\"first_seen_utc\",\"dst_ip\",...' header: "
                                "not a Feodo Tracker CSV blocklist", source=_NAME)
            continue
        fields = csv_row(parsed, line, number, columns)
        if fields is not None:
            _add(parsed, {_CSV_KEYS.get(name, name): value for name, value in fields.items()}, number)
    if columns is None:
        raise FeedError("no '\"first_seen_utc\",\"dst_ip\",...' header: not a Feodo Tracker CSV blocklist",
                        source=_NAME)
    return parsed


def _header(line: str) -> list[str] | None:
    try:
        names = [name.strip().lower() for name in csv_fields(line)]
    except ValueError:
        return None
    return names if _REQUIRED_COLUMNS <= set(names) else None


# -- one row ----------------------------------------------------------------------------------


def _add(parsed: Parsed, row: Mapping[str, Any], line: int) -> None:
    """The row's two observations, or its rejection with the reason."""
    try:
        observations = _observations(row)
    except ValueError as exc:
        raw = row.get("ip_address")
        parsed.reject(str(exc), line=line, value=raw or None)
        return
    parsed.add(*observations, line=line)


def _observations(row: Mapping[str, Any]) -> tuple[Observation, Observation]:
    raw_ip = row.get("ip_address")
    if not isinstance(raw_ip, str) or not raw_ip.strip():
        raise ValueError("missing ip_address")
    try:
        ip_type, ip = identify(raw_ip, _IP)
    except ValueError as exc:
        raise ValueError(f"ip_address: {exc}") from None
    port = _port(row.get("port"))
    host = f"[{ip}]" if ip_type is IndicatorType.IPV6 else ip
    _, socket = identify(f"{host}:{port}", _SOCKET)
    first = field_time(row, "first_seen")
    last = field_time(row, "last_online")
    if first is not None and last is not None and last < first:
        last = first  # a date-only last_online on the day it was first seen
    malware = text_of(row.get("malware"))
    tags = clean_tags([_THREAT_TYPE, "c2", *([malware] if malware else [])])
    address = Observation(
        ip_type,
        ip,
        first_seen=first,
        last_seen=last,
        tags=tags,
        malware=malware,
        threat_type=_THREAT_TYPE,
        indicator_class="Malware",
        extra={key: row[key] for key in _EXTRA_KEYS if row.get(key) not in (None, "")},
    )
    return address, replace(address, type=IndicatorType.SOCKET_ADDRESS, value=socket)


def _port(raw: object) -> int:
    if raw is None or raw == "":
        raise ValueError("missing port")
    text = "" if isinstance(raw, bool) else str(raw).strip()
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 65536:
        raise ValueError(f"port is not a TCP port: {raw!r}")
    return int(text)


FORMAT = FeedFormat(
    name=_NAME,
    title="Feodo Tracker botnet C2 IP blocklist (abuse.ch)",
    parse=parse,
    default_url="https://feodotracker.abuse.ch/downloads/ipblocklist.json",
    category=SourceCategory.THREAT_INTEL,
    reliability=Reliability.B,
    reputation=Reputation.BAD,
    severity=Severity.HIGH,
    documentation="https://feodotracker.abuse.ch/blocklist/",
)
