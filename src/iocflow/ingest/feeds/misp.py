"""MISP feeds: a feed's ``manifest.json`` and the event files it names, or one event document.

The format is the MISP core format (draft-dulaunoy-misp-core-format); a feed,
as MISP and PyMISP's feed generator publish it (the CIRCL OSINT feed is the
default one), is a folder of ``<event uuid>.json`` files, each
``{"Event": {...}}``, and a ``manifest.json`` keyed by event uuid whose values
summarise each event (``info``, ``Orgc``, ``Tag``, ``date``, ``analysis``,
``threat_level_id``, ``timestamp``). Given a manifest, each event is read with
``fetch("<uuid>.json")``; an event that cannot be fetched, is not JSON or is
not an event is one rejected row (no line, its uuid as value) and the rest of
the feed is read. A document that is neither an event nor a manifest raises
``FeedError``. Where an event file lacks ``Orgc``, ``Tag``, ``date`` or
``threat_level_id``, the manifest's summary stands in.

Every attribute, of the event or of one of its objects (``Object[].Attribute``),
is a row. Attribute types and what they become:

* ``ip-src``/``ip-dst`` an ipv4/ipv6 address or CIDR; ``ip-src|port``,
  ``ip-dst|port`` the address (the port goes to ``extra``); ``domain``,
  ``hostname``, ``hostname|port`` a domain; ``domain|ip`` two observations;
* ``url`` and ``uri`` a URL (a ``uri`` that is only a path is rejected);
* ``md5``, ``sha1``, ``sha256``, ``sha512``, ``ssdeep``, ``imphash``,
  ``authentihash``; ``filename`` (a ``file_path`` if it holds a path);
  ``filename|<hash>`` and ``malware-sample`` (``name|md5``) two observations;
* ``email``, ``email-src``, ``email-dst``; ``vulnerability`` a CVE; ``AS``
  (``AS64496`` or ``64496``); ``mac-address``; ``btc``; ``xmr``; ``regkey``
  and ``regkey|value`` the key (the data goes to ``extra``); ``user-agent``;
  ``ja3-fingerprint-md5``; ``jarm-fingerprint``.

``text``, ``comment``, ``other`` (notes) and ``link`` (a reference to a report,
not an indicator) are rejected with that reason, as is any other type, by
name, and a deleted attribute; so every attribute is counted either way.

Mapping: the event's ``threat_level_id`` -> severity (1 high, 2 medium, 3 low,
4 undefined: the feed's default). ``to_ids`` false (MISP: context, not meant
for detection) -> confidence medium and reputation suspicious; true -> high
and the feed's default (bad). Tags of the event and of the attribute (event
first): an ATT&CK tag (``misp-galaxy:mitre-attack-pattern="Phishing - T1566"``,
any ``misp-galaxy:mitre-*attack-pattern``, or a ``mitre-attack*:`` tag ending
in an ID) -> techniques, when the ATT&CK table knows the ID; the first malware
galaxy (``malpedia``, ``mitre-malware``, ``mitre-tool``, ``ransomware``,
``rat``, ``botnet``, ``banker``, ``stealer``, ``backdoor``, ``tool``, ...)
-> malware, else the first ``threat-actor``/``mitre-intrusion-set`` galaxy;
every other tag (``tlp:*`` included) -> tags as written. The event's
``date`` -> first_seen and the attribute's ``timestamp`` (Unix seconds) ->
last_seen, unless the attribute states its own ``first_seen``/``last_seen``;
``Orgc.name`` -> reporter; the attribute's ``comment`` (else its object's)
-> comment; the event's ``info`` -> context; ``ref`` is the attribute uuid.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from iocflow.exceptions import FeedError
from iocflow.extract import attack
from iocflow.ingest.feeds.base import (
    FeedFormat,
    Fetch,
    clean_tags,
    field_time,
    load_json,
    parse_time,
    text_of,
)
from iocflow.ingest.report import Parsed
from iocflow.ingest.values import identify
from iocflow.store.records import Observation
from iocflow.store.vocabulary import Confidence, IndicatorType, Reliability, Reputation, Severity, SourceCategory

_NAME = "misp"
_T = IndicatorType


@dataclass(frozen=True, slots=True)
class _Part:
    """One indicator inside an attribute value: the types it may be."""

    allowed: frozenset[IndicatorType]
    #: The type the feed states when the extractor reads the value as something broader (an imphash is an MD5).
    stated: IndicatorType | None = None


def _part(*types: IndicatorType, stated: IndicatorType | None = None) -> _Part:
    return _Part(frozenset(types), stated)


_IP = _part(_T.IPV4, _T.IPV6, _T.IPV4_CIDR, _T.IPV6_CIDR)
_DOMAIN = _part(_T.DOMAIN)
_FILENAME = _part(_T.FILENAME, _T.FILE_PATH)
_EMAIL = _part(_T.EMAIL)
_REGKEY = _part(_T.REGISTRY_KEY)
_HASH_PARTS: dict[str, _Part] = {
    "md5": _part(_T.MD5),
    "sha1": _part(_T.SHA1),
    "sha256": _part(_T.SHA256),
    "sha512": _part(_T.SHA512),
    "ssdeep": _part(_T.SSDEEP),
    "imphash": _part(_T.MD5, stated=_T.IMPHASH),
    "authentihash": _part(_T.SHA256, stated=_T.AUTHENTIHASH),
}
#: ``extra`` key of a composite's second half that is context, not an indicator.
_PORT, _DATA = "port", "registry_data"
#: MISP attribute type -> its parts, in value order (``a|b``); a string names a context part.
_TYPES: dict[str, tuple[_Part | str, ...]] = {
    "ip-src": (_IP,), "ip-dst": (_IP,),
    "ip-src|port": (_IP, _PORT), "ip-dst|port": (_IP, _PORT),
    "domain": (_DOMAIN,), "hostname": (_DOMAIN,), "hostname|port": (_DOMAIN, _PORT),
    "domain|ip": (_DOMAIN, _IP),
    "url": (_part(_T.URL),), "uri": (_part(_T.URL),),
    **{name: (part,) for name, part in _HASH_PARTS.items()},
    "filename": (_FILENAME,),
    **{f"filename|{name}": (_FILENAME, part) for name, part in _HASH_PARTS.items()},
    "malware-sample": (_FILENAME, _HASH_PARTS["md5"]),
    "email": (_EMAIL,), "email-src": (_EMAIL,), "email-dst": (_EMAIL,),
    "vulnerability": (_part(_T.CVE),),
    "AS": (_part(_T.ASN),),
    "mac-address": (_part(_T.MAC),),
    "btc": (_part(_T.BITCOIN),), "xmr": (_part(_T.MONERO),),
    "regkey": (_REGKEY,), "regkey|value": (_REGKEY, _DATA),
    "user-agent": (_part(_T.USER_AGENT),),
    "ja3-fingerprint-md5": (_part(_T.MD5, stated=_T.JA3),),
    "jarm-fingerprint": (_part(_T.JARM),),
}
#: Types that are not indicators, and why they are not stored.
_NOT_INDICATORS: dict[str, str] = {
    "text": "a 'text' attribute is a note, not an indicator",
    "comment": "a 'comment' attribute is a note, not an indicator",
    "other": "an 'other' attribute is a note, not an indicator",
    "link": "a 'link' attribute is a reference to a report, not an indicator",
}

_SEVERITIES: dict[str, Severity | None] = {"1": Severity.HIGH, "2": Severity.MEDIUM, "3": Severity.LOW, "4": None}
_GALAXY = "misp-galaxy:"
_MALWARE_GALAXIES = frozenset({
    "malpedia", "mitre-malware", "mitre-tool", "mitre-enterprise-attack-malware", "mitre-mobile-attack-malware",
    "mitre-enterprise-attack-tool", "ransomware", "rat", "botnet", "banker", "stealer", "backdoor", "android",
    "tool", "exploit-kit",
})
_ACTOR_GALAXIES = frozenset({"threat-actor", "mitre-intrusion-set", "mitre-enterprise-attack-intrusion-set"})
_NOT_ATTACK_KINDS = frozenset({"mitigation"})
_FALSE = frozenset({"0", "false", "no"})


def parse(data: bytes, fetch: Fetch | None = None) -> Parsed:
    """A MISP event document, or a feed manifest and every event it names (read through ``fetch``)."""
    doc = load_json(data, source=_NAME)
    parsed = Parsed()
    if isinstance(doc, dict) and "Event" in doc:
        event = doc["Event"]
        if not isinstance(event, dict):
            raise FeedError("'Event' is not a JSON object", source=_NAME)
        _read_event(event, {}, parsed)
        return parsed
    manifest = _manifest(doc)
    if not manifest:
        return parsed
    if fetch is None:
        raise FeedError("a MISP feed manifest names event files, and no way to fetch them was given", source=_NAME)
    for event_uuid, summary in manifest.items():
        event = _fetch_event(event_uuid, fetch, parsed)
        if event is not None:
            _read_event(event, summary, parsed, event_uuid)
    return parsed


def _manifest(doc: object) -> dict[str, Mapping[str, Any]]:
    """The manifest's events in order; ``FeedError`` if the document is no manifest."""
    if not isinstance(doc, dict):
        raise FeedError("JSON that is neither a MISP event nor a MISP feed manifest", source=_NAME)
    for key, summary in doc.items():
        if not _is_uuid(key) or not isinstance(summary, dict):
            raise FeedError(f"neither a MISP event (no 'Event') nor a feed manifest (key {key[:60]!r} is not "
                            "an event uuid with an object)", source=_NAME)
    return doc


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == 36


def _fetch_event(event_uuid: str, fetch: Fetch, parsed: Parsed) -> Mapping[str, Any] | None:
    """The event of ``<uuid>.json``, or None with the file counted and rejected."""
    name = f"{event_uuid}.json"
    try:
        data = fetch(name)
    except (FeedError, OSError) as exc:
        parsed.rows_read += 1
        parsed.reject(f"event {event_uuid}: cannot fetch {name}: {exc}", value=event_uuid)
        return None
    try:
        doc = load_json(data, source=None)
    except FeedError as exc:
        parsed.rows_read += 1
        parsed.reject(f"event {event_uuid}: {name}: {exc}", value=event_uuid)
        return None
    event = doc.get("Event") if isinstance(doc, dict) else None
    if not isinstance(event, dict):
        parsed.rows_read += 1
        parsed.reject(f"event {event_uuid}: {name} is not a MISP event (no 'Event' object)", value=event_uuid)
        return None
    return event


# -- one event --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Event:
    """What an event says about every one of its attributes."""

    uuid: str
    first_seen: datetime | None
    severity: Severity | None
    reporter: str | None
    info: str | None
    tags: tuple[str, ...]


def _read_event(event: Mapping[str, Any], summary: Mapping[str, Any], parsed: Parsed,
                listed_as: str | None = None) -> None:
    event_uuid = text_of(event.get("uuid")) or listed_as or "?"
    rows = list(_attributes(event))
    try:
        details = _event_details(event, summary, event_uuid)
    except ValueError as exc:
        parsed.rows_read += max(len(rows), 1)
        parsed.reject(f"event {event_uuid}: {exc}; its {len(rows)} attributes are not read", value=event_uuid)
        return
    for attr, obj in rows:
        parsed.rows_read += 1
        if isinstance(attr, dict):
            _read_attribute(attr, obj, details, parsed)
        else:
            parsed.reject(f"event {event_uuid}: an attribute that is not a JSON object", value=attr)


def _event_details(event: Mapping[str, Any], summary: Mapping[str, Any], event_uuid: str) -> _Event:
    def get(key: str) -> Any:
        value = event.get(key)
        return summary.get(key) if value is None or value in ("", []) else value

    date = get("date")
    try:
        first_seen = parse_time(date)
    except ValueError:
        raise ValueError(f"date is not a date: {date!r}") from None
    level = text_of(get("threat_level_id"))
    if level is not None and level not in _SEVERITIES:
        raise ValueError(f"threat_level_id must be 1-4, got {level!r}")
    orgc = get("Orgc")
    return _Event(
        uuid=event_uuid,
        first_seen=first_seen,
        severity=_SEVERITIES.get(level) if level else None,
        reporter=text_of(orgc.get("name")) if isinstance(orgc, dict) else None,
        info=text_of(get("info")),
        tags=_tag_names(get("Tag")),
    )


def _attributes(event: Mapping[str, Any]) -> Iterator[tuple[object, Mapping[str, Any] | None]]:
    """(attribute, its object or None): the event's own attributes, then each object's."""
    for attr in _list(event.get("Attribute")):
        yield attr, None
    for obj in _list(event.get("Object")):
        if isinstance(obj, dict):
            for attr in _list(obj.get("Attribute")):
                yield attr, obj


def _list(raw: object) -> list[object]:
    """A list's items; feeds write null, leave the key out, or give one item as the object itself."""
    return raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else []


# -- one attribute ----------------------------------------------------------------------------


def _read_attribute(attr: Mapping[str, Any], obj: Mapping[str, Any] | None, event: _Event, parsed: Parsed) -> None:
    attr_type = text_of(attr.get("type")) or ""
    raw = attr.get("value")
    label = f"event {event.uuid} attribute {text_of(attr.get('uuid')) or '?'} ({attr_type or 'no type'})"
    if attr.get("deleted") is True or (obj is not None and obj.get("deleted") is True):
        parsed.reject(f"{label}: deleted", value=raw)
        return
    parts = _TYPES.get(attr_type)
    if parts is None:
        reason = _NOT_INDICATORS.get(attr_type, f"attribute type {attr_type!r} is not an indicator type iocflow reads")
        parsed.reject(f"{label}: {reason}", value=raw)
        return
    if not isinstance(raw, str) or not raw.strip():
        parsed.reject(f"{label}: no value", value=raw)
        return
    pieces = _split(raw, attr_type, len(parts))
    if pieces is None:
        parsed.reject(f"{label}: a {attr_type} value has {len(parts)} parts joined by '|'", value=raw)
        return
    try:
        details = _attribute_details(attr, obj, event)
    except ValueError as exc:
        parsed.reject(f"{label}: {exc}", value=raw)
        return
    halves = list(zip(parts, pieces, strict=True))
    extra = {part: piece.strip() for part, piece in halves if isinstance(part, str) and piece.strip()}
    for part, piece in halves:
        if isinstance(part, str):
            continue
        try:
            kind, value = _identify(piece, part)
        except ValueError as exc:
            parsed.reject(f"{label}: {exc}", value=piece)
            continue
        parsed.add(Observation(kind, value, extra=dict(extra), **details), where=f"{label}: ")


def _split(raw: str, attr_type: str, count: int) -> list[str] | None:
    """A composite value's parts; a file name may hold '|', so ``filename|*`` splits at the last one."""
    if count == 1:
        return [raw]
    pieces = raw.rsplit("|", 1) if attr_type.startswith("filename|") or attr_type == "malware-sample" \
        else raw.split("|", 1)
    return pieces if len(pieces) == count else None


def _attribute_details(attr: Mapping[str, Any], obj: Mapping[str, Any] | None, event: _Event) -> dict[str, Any]:
    """What the attribute and its event say about each value in it; ``ValueError`` for a bad time."""
    for_ids = not _is_false(attr.get("to_ids", True))
    tags, techniques, malware = _classify([*event.tags, *_tag_names(attr.get("Tag"))])
    comment = text_of(attr.get("comment")) or (text_of(obj.get("comment")) if obj is not None else None)
    return {
        "first_seen": field_time(attr, "first_seen") or event.first_seen,
        "last_seen": field_time(attr, "last_seen") or _epoch(attr.get("timestamp")),
        "confidence": Confidence.HIGH if for_ids else Confidence.MEDIUM,
        "reputation": None if for_ids else Reputation.SUSPICIOUS,
        "severity": event.severity,
        "tags": tags,
        "techniques": techniques,
        "malware": malware,
        "comment": comment,
        "reporter": event.reporter,
        "context": event.info,
        "ref": text_of(attr.get("uuid")),
    }


def _is_false(raw: object) -> bool:
    return raw is False or raw == 0 or (isinstance(raw, str) and raw.strip().lower() in _FALSE)


def _epoch(raw: object) -> datetime | None:
    """MISP's ``timestamp``: Unix seconds as a JSON string (or number)."""
    if raw is None or raw == "":
        return None
    text = str(raw).strip()
    if isinstance(raw, bool) or not text.isdigit():
        raise ValueError(f"timestamp is not Unix seconds: {raw!r}")
    try:
        return datetime.fromtimestamp(int(text), UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"timestamp is out of range: {raw!r}") from None


# -- tags -------------------------------------------------------------------------------------


def _tag_names(raw: object) -> tuple[str, ...]:
    """Names of a ``Tag`` list (``[{"name", "colour"}]``; plain strings accepted)."""
    items = raw if isinstance(raw, list) else []
    return clean_tags([item.get("name") if isinstance(item, dict) else item for item in items
                       if isinstance(item, dict | str)])


def _classify(names: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
    """(tags, techniques, malware): each tag becomes exactly one of them."""
    names = list(dict.fromkeys(names))
    techniques: dict[str, str] = {}
    for name in names:
        technique = _technique(name)
        if technique:
            techniques[name] = technique
    malware = _first_cluster(names, _MALWARE_GALAXIES) or _first_cluster(names, _ACTOR_GALAXIES)
    used = set(techniques) | ({malware[0]} if malware else set())
    tags = tuple(name for name in names if name not in used)
    return tags, tuple(dict.fromkeys(techniques.values())), malware[1] if malware else None


def _first_cluster(names: list[str], galaxies: frozenset[str]) -> tuple[str, str] | None:
    """(tag, cluster) of the first tag naming a cluster of one of ``galaxies``."""
    for name in names:
        cluster = _galaxy_value(name, galaxies)
        if cluster:
            return name, cluster
    return None


def _galaxy_value(tag: str, galaxies: frozenset[str]) -> str | None:
    """The cluster of ``misp-galaxy:<galaxy>="<cluster>"`` when the galaxy is one of ``galaxies``."""
    if not tag.startswith(_GALAXY):
        return None
    galaxy, sep, cluster = tag[len(_GALAXY):].partition("=")
    if not sep or galaxy.strip().lower() not in galaxies:
        return None
    return text_of(cluster.strip().strip('"'))


def _technique(tag: str) -> str | None:
    """The ATT&CK ID an ATT&CK tag ends in (``... - T1059``, ``mitre-attack:T1059``), if the table knows it."""
    namespace, sep, rest = tag.partition(":")
    if not sep:
        return None
    namespace = namespace.strip().lower()
    if namespace == _GALAXY[:-1]:
        galaxy = rest.partition("=")[0].strip().lower()
        if not (galaxy.startswith("mitre-") and "attack-pattern" in galaxy):
            return None
    elif not namespace.startswith("mitre-attack"):
        return None
    candidate = rest.rpartition("=")[2].strip().strip('"').rpartition(" - ")[2].rpartition(":")[2].strip()
    entries = attack.lookup(candidate) if candidate else ()
    return entries[0].id if entries and entries[0].kind not in _NOT_ATTACK_KINDS else None


# -- values -----------------------------------------------------------------------------------


def _identify(piece: str, part: _Part) -> tuple[IndicatorType, str]:
    """Type and canonical value of one part of an attribute value."""
    kind, value = identify(piece, part.allowed)
    return (part.stated or kind), value


FORMAT = FeedFormat(
    name=_NAME,
    title="MISP feed (CIRCL OSINT by default)",
    parse=parse,
    default_url="https://www.circl.lu/doc/misp/feed-osint/manifest.json",
    category=SourceCategory.THREAT_INTEL,
    reliability=Reliability.B,
    documentation=(
        "A MISP feed: its manifest.json, whose events are fetched as <uuid>.json beside it, or one MISP event "
        "document. Indicator attributes (and those of objects) are read; notes and links are counted as rejected."
    ),
)
