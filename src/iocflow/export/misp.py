"""MISP export: events in the MISP core format (``{"Event": {...}}``), one per article or feed on request.

Plain dicts, not PyMISP objects: PyMISP is a large client library that the
server has no other use for, and the event shape is small and fixed; the
tests load every event with ``pymisp.MISPEvent`` and read it back with
iocflow's own MISP importer.

Mapping of an ``IndicatorRecord`` onto an attribute (type, category):

* ipv4, ipv6 and their CIDRs ``ip-dst``; domain ``domain``; url ``url``;
  asn ``AS`` (``AS64496``); mac ``mac-address``; user_agent ``user-agent``;
  ja3 ``ja3-fingerprint-md5``; jarm ``jarm-fingerprint``; socket_address
  ``ip-dst|port`` (``203.0.113.5|8443``; ``hostname|port`` if the host is a
  name): all "Network activity";
* md5, sha1, sha256, sha512, ssdeep, imphash, authentihash (same names),
  filename ``filename``, email ``email-src``: "Payload delivery";
  file_path ``filename`` (MISP keeps paths there): "Artifacts dropped";
  registry_key ``regkey``: "Persistence mechanism"; cve ``vulnerability``:
  "External analysis"; bitcoin ``btc``, monero ``xmr``: "Financial fraud";
  xmpp ``jabber-id``: "Social network"; phone ``phone-number``: "Person".
* mitre_attack records are no attributes: they become event tags (below);
  tlp records become the event's TLP tag (:data:`TAG_TYPES`). ethereum,
  google_adsense and google_analytics have no MISP attribute type and are
  left out (:data:`NO_ATTRIBUTE`). Every indicator type is in exactly one of
  the attribute table, ``TAG_TYPES`` and ``NO_ATTRIBUTE``; one in none is a
  KeyError, not a silent omission.

``to_ids`` (MISP: "use this for detection") is true for high and medium
confidence and false for low, and always false for a ``good`` reputation and
for vulnerability, AS, jabber-id and phone-number, which MISP's own defaults
never feed to an IDS. ``comment`` is the record's comment, else the source's
context. ``first_seen``/``last_seen`` are the record's; ``timestamp`` is
``last_seen`` in Unix seconds. Attribute uuids are UUIDv5 of the item id in the
event's uuid as namespace: stable across exports (re-imports update) yet
unique per event, as MISP requires of attribute uuids.

Tags: the record's tags as written, plus ATT&CK IDs as galaxy tags named from
iocflow's ATT&CK table: techniques and sub-techniques
``misp-galaxy:mitre-attack-pattern="PowerShell - T1059.001"``, mitigations
``misp-galaxy:mitre-course-of-action="<Name> - M1013"``, tactics
``mitre-attack:tactic="Execution - TA0002"`` (MISP has no tactic galaxy).
The event carries the strictest TLP of its records (``tlp:red`` > ``amber+strict``
> ``amber`` > ``green`` > ``clear``/``white``) and the galaxy tags of its
mitre_attack records; the TLP also sets ``distribution``: clear/white 3 (all
communities), green 1 (this community), amber and red, or none stated, 0
(your organisation only): the safe default when the records do not say.

Event: ``threat_level_id`` from the highest severity (critical and high 1,
medium 2, low 3, info 4 undefined); ``analysis`` 2 (completed); ``date`` the
earliest ``first_seen``; ``timestamp`` the latest ``last_seen``;
``published`` with ``publish_timestamp`` = ``now``; ``Orgc`` iocflow (a fixed
uuid); each distinct article URL as a ``link`` attribute ("External analysis",
not for IDS). The event uuid, when not given, is a UUIDv5 of ``info``.
"""

from __future__ import annotations

import ipaddress
import uuid as uuidlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from iocflow.extract import attack
from iocflow.store.records import NAMESPACE
from iocflow.store.views import IndicatorRecord
from iocflow.store.vocabulary import Confidence, IndicatorType, Reputation, Severity
from iocflow.times import as_utc

__all__ = [
    "NO_ATTRIBUTE", "ORG_UUID", "TAG_TYPES", "attack_tag", "attribute_type", "dumps", "event", "events_by_source",
]

#: The iocflow organisation, ``Orgc`` of every event.
ORG_UUID = str(uuidlib.uuid5(NAMESPACE, "misp-org:iocflow"))


@dataclass(frozen=True, slots=True)
class _Mapping:
    """A MISP attribute type and category for one iocflow type."""

    type: str
    category: str


_NETWORK, _PAYLOAD = "Network activity", "Payload delivery"
_TYPES: dict[IndicatorType, _Mapping] = {
    **{t: _Mapping("ip-dst", _NETWORK) for t in (
        IndicatorType.IPV4, IndicatorType.IPV6, IndicatorType.IPV4_CIDR, IndicatorType.IPV6_CIDR)},
    IndicatorType.DOMAIN: _Mapping("domain", _NETWORK),
    IndicatorType.URL: _Mapping("url", _NETWORK),
    IndicatorType.ASN: _Mapping("AS", _NETWORK),
    IndicatorType.MAC: _Mapping("mac-address", _NETWORK),
    IndicatorType.USER_AGENT: _Mapping("user-agent", _NETWORK),
    IndicatorType.JA3: _Mapping("ja3-fingerprint-md5", _NETWORK),
    IndicatorType.JARM: _Mapping("jarm-fingerprint", _NETWORK),
    IndicatorType.SOCKET_ADDRESS: _Mapping("ip-dst|port", _NETWORK),
    **{t: _Mapping(t.value, _PAYLOAD) for t in (  # MISP names these hash types as iocflow does
        IndicatorType.MD5, IndicatorType.SHA1, IndicatorType.SHA256, IndicatorType.SHA512, IndicatorType.SSDEEP,
        IndicatorType.IMPHASH, IndicatorType.AUTHENTIHASH)},
    IndicatorType.FILENAME: _Mapping("filename", _PAYLOAD),
    IndicatorType.EMAIL: _Mapping("email-src", _PAYLOAD),
    IndicatorType.FILE_PATH: _Mapping("filename", "Artifacts dropped"),
    IndicatorType.REGISTRY_KEY: _Mapping("regkey", "Persistence mechanism"),
    IndicatorType.CVE: _Mapping("vulnerability", "External analysis"),
    IndicatorType.BITCOIN: _Mapping("btc", "Financial fraud"),
    IndicatorType.MONERO: _Mapping("xmr", "Financial fraud"),
    IndicatorType.XMPP: _Mapping("jabber-id", "Social network"),
    IndicatorType.PHONE: _Mapping("phone-number", "Person"),
}
#: Types that become tags of their event, not attributes: ATT&CK galaxy tags and the event's TLP.
TAG_TYPES: frozenset[IndicatorType] = frozenset({IndicatorType.MITRE_ATTACK, IndicatorType.TLP})
#: Types MISP has no attribute type for: left out.
NO_ATTRIBUTE: frozenset[IndicatorType] = frozenset({
    IndicatorType.ETHEREUM, IndicatorType.GOOGLE_ADSENSE, IndicatorType.GOOGLE_ANALYTICS,
})
#: A socket address whose host is a name, not an address.
_SOCKET_HOST = _Mapping("hostname|port", _NETWORK)
#: MISP types whose sane default is never to feed an IDS: context, not a detectable artefact.
_NEVER_IDS = frozenset({"vulnerability", "AS", "jabber-id", "phone-number"})
_IDS_CONFIDENCE = frozenset({Confidence.HIGH, Confidence.MEDIUM})
_THREAT_LEVELS: dict[Severity, str] = {
    Severity.CRITICAL: "1", Severity.HIGH: "1", Severity.MEDIUM: "2", Severity.LOW: "3", Severity.INFO: "4",
}
#: TLP tags, least to most restrictive, and the distribution each allows.
_TLP_ORDER = ("tlp:clear", "tlp:white", "tlp:green", "tlp:amber", "tlp:amber+strict", "tlp:red")
_DISTRIBUTION: dict[str | None, str] = {
    "tlp:clear": "3", "tlp:white": "3", "tlp:green": "1",
    "tlp:amber": "0", "tlp:amber+strict": "0", "tlp:red": "0", None: "0",
}
_INHERIT = "5"  # an attribute's distribution: as its event's


def _mapping(item: IndicatorRecord) -> _Mapping | None:
    """The item's MISP type and category (None for :data:`NO_ATTRIBUTE`); a socket's depends on its host."""
    if item.type is IndicatorType.SOCKET_ADDRESS and not _is_ip(item.value.rpartition(":")[0].strip("[]")):
        return _SOCKET_HOST
    return None if item.type in NO_ATTRIBUTE else _TYPES[item.type]


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def attribute_type(indicator_type: IndicatorType) -> str | None:
    """The MISP attribute type an iocflow type is exported as; None for :data:`TAG_TYPES` and :data:`NO_ATTRIBUTE`."""
    if indicator_type in TAG_TYPES or indicator_type in NO_ATTRIBUTE:
        return None
    return _TYPES[indicator_type].type


# -- values and tags --------------------------------------------------------------------------


def _value(item: IndicatorRecord) -> str:
    """MISP's spelling: ``AS64496`` for an AS, ``ip|port`` for a socket address."""
    if item.type is IndicatorType.ASN:
        digits = item.value.upper().removeprefix("ASN").removeprefix("AS")
        return f"AS{digits}"
    if item.type is IndicatorType.SOCKET_ADDRESS:
        host, _, port = item.value.rpartition(":")
        return f"{host.strip('[]')}|{port}"
    return item.value


def attack_tag(attack_id: str) -> str:
    """The MISP tag of an ATT&CK ID, named from the ATT&CK table (a galaxy cluster where MISP has one)."""
    entries = attack.lookup(attack_id)
    if not entries:
        return f"mitre-attack:{attack_id.upper()}"
    entry = entries[0]
    label = f"{entry.name} - {entry.id}".replace('"', "'")
    if entry.kind == "mitigation":
        return f'misp-galaxy:mitre-course-of-action="{label}"'
    if entry.kind == "tactic":
        return f'mitre-attack:tactic="{label}"'
    return f'misp-galaxy:mitre-attack-pattern="{label}"'


def _tags(names: Iterable[str]) -> list[dict[str, str]]:
    return [{"name": name} for name in dict.fromkeys(names)]


def _tlp_of(tags: Iterable[str]) -> str | None:
    """The most restrictive TLP tag among ``tags``, lower-cased; None when there is none."""
    found = [t.lower() for t in tags if t.lower() in _TLP_ORDER]
    return max(found, key=_TLP_ORDER.index) if found else None


# -- attributes -------------------------------------------------------------------------------


def _epoch(moment: datetime) -> str:
    """MISP's ``timestamp``: Unix seconds, as a string."""
    return str(int(as_utc(moment).timestamp()))


def _to_ids(item: IndicatorRecord, misp_type: str) -> bool:
    return item.confidence in _IDS_CONFIDENCE and item.reputation is not Reputation.GOOD and misp_type not in _NEVER_IDS


def _attribute(item: IndicatorRecord, mapping: _Mapping, event_uuid: str) -> dict[str, Any]:
    first, last = as_utc(item.first_seen), as_utc(item.last_seen)
    comment = item.comment or (item.source.context if item.source else None) or ""
    return {
        "uuid": str(uuidlib.uuid5(uuidlib.UUID(event_uuid), item.id)),
        "type": mapping.type,
        "category": mapping.category,
        "value": _value(item),
        "to_ids": _to_ids(item, mapping.type),
        "distribution": _INHERIT,
        "comment": comment,
        "timestamp": _epoch(last),
        "first_seen": first.isoformat(),
        "last_seen": max(first, last).isoformat(),
        "disable_correlation": False,
        "deleted": False,
        "Tag": _tags([*item.tags, *(attack_tag(t) for t in item.techniques)]),
    }


def _link(url: str, event_uuid: str) -> dict[str, Any]:
    """The article a record came from: context for analysts, never for an IDS."""
    return {
        "uuid": str(uuidlib.uuid5(uuidlib.UUID(event_uuid), f"link:{url}")),
        "type": "link", "category": "External analysis", "value": url, "to_ids": False,
        "distribution": _INHERIT, "comment": "source article", "disable_correlation": False, "deleted": False,
    }


# -- events -----------------------------------------------------------------------------------


def _event_uuid(info: str) -> str:
    return str(uuidlib.uuid5(NAMESPACE, f"misp-event:{info}"))


def event(items: Iterable[IndicatorRecord], *, info: str, now: datetime, uuid: str | None = None) -> dict[str, Any]:
    """One MISP event holding ``items``; ``uuid`` defaults to a UUIDv5 of ``info``, so re-exports update."""
    event_uuid = str(uuidlib.UUID(uuid)) if uuid else _event_uuid(info)
    records = list(items)
    attributes: list[dict[str, Any]] = []
    seen: set[str] = set()
    event_tags: list[str] = []
    links: dict[str, None] = {}
    for item in records:
        if item.type is IndicatorType.MITRE_ATTACK:
            event_tags.append(attack_tag(item.value))
        elif item.type is IndicatorType.TLP:
            event_tags.append(item.value.lower())
        elif (mapping := _mapping(item)) is not None and item.id not in seen:
            seen.add(item.id)
            attributes.append(_attribute(item, mapping, event_uuid))
        if item.source is not None and item.source.article_url:
            links[item.source.article_url] = None
    attributes.extend(_link(url, event_uuid) for url in links)
    tlp = _tlp_of([*event_tags, *(t for item in records for t in item.tags)])
    event_tags = [t for t in event_tags if t.lower() not in _TLP_ORDER]
    return {"Event": _event_body(records, info, now, event_uuid, tlp, event_tags, attributes)}


def _event_body(records: list[IndicatorRecord], info: str, now: datetime, event_uuid: str, tlp: str | None,
                tags: list[str], attributes: list[dict[str, Any]]) -> dict[str, Any]:
    firsts = [as_utc(r.first_seen) for r in records]
    lasts = [as_utc(r.last_seen) for r in records]
    severities = [r.severity for r in records if r.type not in TAG_TYPES] or [Severity.INFO]
    worst = min(_THREAT_LEVELS[s] for s in severities)
    return {
        "uuid": event_uuid,
        "info": info,
        "date": (min(firsts) if firsts else as_utc(now)).date().isoformat(),
        "timestamp": _epoch(max(lasts) if lasts else now),
        "published": True,
        "publish_timestamp": _epoch(now),
        "threat_level_id": worst,
        "analysis": "2",
        "distribution": _DISTRIBUTION[tlp],
        "Orgc": {"name": "iocflow", "uuid": ORG_UUID},
        "Tag": _tags([*([tlp] if tlp else []), *tags]),
        "Attribute": attributes,
    }


def _source_key(item: IndicatorRecord) -> tuple[str, str]:
    """(event uuid seed, info) of the event a record goes to: its article, else its feed."""
    source = item.source
    if source is None:
        return "none", "iocflow: indicators without a recorded source"
    if source.article_id:
        title = source.article_title or source.article_url or source.article_id
        return f"article:{source.article_id}", title
    return f"feed:{source.feed_name}", f"iocflow: feed {source.feed_name}"


def events_by_source(items: Iterable[IndicatorRecord], now: datetime) -> list[dict[str, Any]]:
    """One event per source article (or per feed, for records with no article), in order of first record.

    The event uuid is a UUIDv5 of the article id (or feed name), not of the
    title, so a retitled article still updates its event.
    """
    groups: dict[str, tuple[str, list[IndicatorRecord]]] = {}
    for item in items:
        seed, info = _source_key(item)
        groups.setdefault(seed, (info, []))[1].append(item)
    return [
        event(records, info=info, now=now, uuid=str(uuidlib.uuid5(NAMESPACE, f"misp-event-source:{seed}")))
        for seed, (info, records) in groups.items()
    ]


def dumps(document: dict[str, Any]) -> bytes:
    """An event as JSON bytes (UTF-8, not ASCII-escaped), as MISP feeds serve them."""
    return orjson.dumps(document)
