"""STIX 2.1 export: a bundle with one Indicator per record, the articles as Reports, iocflow as their Identity.

Why plain dicts and not the ``stix2`` library: the library checks every
property on construction (several times slower on a 100k-record export) and
would become a runtime dependency; the objects here have a fixed, small
shape, and the test suite checks them with the official tools instead
(``stix2-validator``, ``stix2.parse(allow_custom=False)``, ``stix2-patterns``).

Mapping of an ``IndicatorRecord`` (STIX 2.1, OASIS, sections 4, 9 and 10):

* ``id`` -> ``indicator--<item.id>``: the item id is already a UUIDv5 of
  ``type:value``, so re-exports update (same id, later ``modified``) rather
  than duplicate. ``created`` = ``first_seen``, ``modified`` = ``last_seen``,
  ``valid_from`` = ``first_seen``, ``valid_until`` = ``expires_at``. The spec
  wants ``valid_until`` later than ``valid_from``: an item that expired at or
  before its first sighting gets ``valid_from + 1 s``, the smallest window
  second-precision consumers still read, so it stays an expired indicator
  rather than one valid forever.
* ``confidence`` (section 3.3, appendix A's None/Low/Med/High scale): high 85,
  medium 50, low 15, each the middle of its band, so a reader on the same
  scale (iocflow's own STIX importer among them) maps it back unchanged.
* ``indicator_types`` from the reputation (bad ``malicious-activity``,
  suspicious ``anomalous-activity``, good ``benign``, unknown ``unknown``),
  plus any tag that is itself an ``indicator-type-ov`` word
  (``compromised``, ``anonymization``, ``attribution``); ``labels`` = tags;
  ``tlp:white/clear/green/amber/red`` tags -> ``object_marking_refs`` to the
  spec's TLP marking definitions.
* ATT&CK: techniques, sub-techniques and mitigations -> ``external_references``
  (``source_name`` ``mitre-attack``, or the mobile/ICS/PRE matrix's,
  ``external_id``, ``url`` ``https://attack.mitre.org/techniques/T1059/001/``,
  the ATT&CK name as ``description``); tactics -> ``kill_chain_phases`` of the
  ``mitre-attack`` kill chain (``phase_name`` ``execution``). Only tactics go
  to kill-chain phases: iocflow does not know which tactic a technique serves.
* ``comment`` (else the source's context, else ``"<type> indicator reported
  by <feed>"``, since the spec wants both a name and a description) ->
  ``description``; the value (cut at 250 characters) is the ``name``.

Patterns by type (string literals quoted with ``'``; ``\\`` and ``'`` inside
escaped as ``\\\\`` and ``\\'``, the only two escapes the grammar has):
ipv4/ipv4_cidr ``[ipv4-addr:value = '..']``, ipv6/ipv6_cidr ``ipv6-addr``,
domain ``domain-name:value``, url ``url:value``, email ``email-addr:value``,
mac ``mac-addr:value`` (lower-cased, as the spec requires), asn
``autonomous-system:number = 64496``, md5/sha1/sha256/sha512/ssdeep
``file:hashes.MD5``/``'SHA-1'``/``'SHA-256'``/``'SHA-512'``/``SSDEEP``,
imphash ``file:extensions.'windows-pebinary-ext'.imphash``, filename
``file:name``, file_path ``file:parent_directory_ref.path`` AND
``file:name``, registry_key ``windows-registry-key:key`` (hive spelled out,
``HKLM`` -> ``HKEY_LOCAL_MACHINE``, as the spec requires), user_agent
``network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'``,
socket_address ``network-traffic:dst_ref`` (type and value) AND ``dst_port``.

A ``cve`` becomes a Vulnerability SDO (``vulnerability--<item.id>``, an
external reference ``cve``/``CVE-...``), not an Indicator: a CVE is no
observable. Types with no STIX 2.1 observable (mitre_attack, which rides on
the indicators as references, tlp, xmpp, authentihash, ja3, jarm, bitcoin,
monero, ethereum, google_adsense, google_analytics, phone; :data:`NO_PATTERN`)
are skipped; ``build`` counts them per type (``StixExport.skipped``). Every
indicator type is either in the pattern table or in :data:`NO_PATTERN`, so a
type added to the vocabulary fails loudly here until it is given one or the other.

Every object but the Identity has ``created_by_ref`` to the iocflow Identity
(a fixed id and fixed timestamps). One Report per distinct source article
(``report--`` UUIDv5 of the article id; ``published`` = its earliest
``first_seen``, as records do not carry the article's own time), its
``object_refs`` the article's indicators and vulnerabilities. The bundle id is
a UUIDv5 of its objects' ids and ``modified`` times: the same records give the
same bytes.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from iocflow.extract import attack
from iocflow.extract.model import Matrix
from iocflow.store.records import NAMESPACE
from iocflow.store.views import IndicatorRecord
from iocflow.store.vocabulary import Confidence, IndicatorType, Reputation
from iocflow.times import as_utc

__all__ = ["CONFIDENCE", "IDENTITY_ID", "NO_PATTERN", "StixExport", "build", "bundle", "dumps", "pattern_string"]

#: The iocflow Identity, the ``created_by_ref`` of every object; fixed so that every export names the same one.
IDENTITY_ID = f"identity--{uuid.uuid5(NAMESPACE, 'stix-identity:iocflow')}"
_IDENTITY_TIME = datetime(2024, 1, 1, tzinfo=UTC)

#: iocflow confidence -> STIX confidence: the middle of each band of the spec's None/Low/Med/High scale.
CONFIDENCE: dict[Confidence, int] = {Confidence.HIGH: 85, Confidence.MEDIUM: 50, Confidence.LOW: 15}

_REPUTATION_TYPES: dict[Reputation, str] = {
    Reputation.BAD: "malicious-activity", Reputation.SUSPICIOUS: "anomalous-activity", Reputation.GOOD: "benign",
    Reputation.UNKNOWN: "unknown",
}
#: indicator-type-ov words a tag may already be.
_INDICATOR_TYPES = frozenset({
    "anomalous-activity", "anonymization", "benign", "compromised", "malicious-activity", "attribution", "unknown",
})
#: The TLP 1.0 marking definitions STIX 2.1 fixes (section 7.2.1.4); TLP 2.0's CLEAR is TLP 1.0's WHITE.
_TLP_MARKINGS: dict[str, str] = {
    "tlp:white": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "tlp:clear": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "tlp:green": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "tlp:amber": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    "tlp:red": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}
_ATTACK_SOURCES: dict[Matrix, str] = {
    Matrix.ENTERPRISE: "mitre-attack", Matrix.MOBILE: "mitre-mobile-attack",
    Matrix.ICS: "mitre-ics-attack", Matrix.PRE_ATTACK: "mitre-pre-attack",
}
_ATTACK_PAGES: dict[str, str] = {
    "technique": "techniques", "subtechnique": "techniques", "tactic": "tactics", "mitigation": "mitigations",
}
_HIVES: dict[str, str] = {
    "HKLM": "HKEY_LOCAL_MACHINE", "HKCU": "HKEY_CURRENT_USER", "HKCR": "HKEY_CLASSES_ROOT",
    "HKU": "HKEY_USERS", "HKCC": "HKEY_CURRENT_CONFIG",
}


# -- patterns ---------------------------------------------------------------------------------


def _literal(value: str) -> str:
    """A STIX pattern string literal: backslash first, so the quote's escape is not escaped again."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _equals(path: str, value: str) -> str:
    return f"[{path} = {_literal(value)}]"


def _asn(value: str) -> str:
    """``ASN64496``/``AS64496``/``64496`` -> ``[autonomous-system:number = 64496]`` (an integer, unquoted)."""
    digits = value.upper().removeprefix("ASN").removeprefix("AS")
    if not digits.isdigit():
        raise ValueError(f"not an AS number: {value!r}")
    return f"[autonomous-system:number = {int(digits)}]"


def _registry_key(value: str) -> str:
    """The spec wants the hive spelled out (``HKEY_LOCAL_MACHINE``, not ``HKLM``)."""
    hive, sep, rest = value.partition("\\")
    return _equals("windows-registry-key:key", _HIVES.get(hive.upper(), hive) + sep + rest)


def _file_path(value: str) -> str:
    """A path is a file's name in a directory: ``parent_directory_ref.path`` AND ``name``."""
    cut = max(value.rfind("\\"), value.rfind("/"))
    if cut <= 0 or cut == len(value) - 1:
        return _equals("file:name", value)
    directory, name = value[:cut], value[cut + 1:]
    return (f"[file:parent_directory_ref.path = {_literal(directory)}"
            f" AND file:name = {_literal(name)}]")


def _socket(value: str) -> str:
    """``203.0.113.5:8443`` / ``[2001:db8::1]:443`` -> destination (its type pinned) AND port."""
    host, _, port = value.rpartition(":")
    host = host.strip("[]")
    if not port.isdigit() or not host:
        raise ValueError(f"not a socket address: {value!r}")
    kind = _address_type(host)
    return (f"[network-traffic:dst_ref.type = '{kind}' AND network-traffic:dst_ref.value = {_literal(host)}"
            f" AND network-traffic:dst_port = {int(port)}]")


def _address_type(host: str) -> str:
    """The observable type a socket's host is: an address of either version, else a domain name."""
    try:
        return "ipv4-addr" if ipaddress.ip_address(host).version == 4 else "ipv6-addr"
    except ValueError:
        return "domain-name"


def _by_path(path: str) -> Callable[[str], str]:
    return lambda value: _equals(path, value)


_PATTERNS: dict[IndicatorType, Callable[[str], str]] = {
    IndicatorType.IPV4: _by_path("ipv4-addr:value"),
    IndicatorType.IPV4_CIDR: _by_path("ipv4-addr:value"),
    IndicatorType.IPV6: _by_path("ipv6-addr:value"),
    IndicatorType.IPV6_CIDR: _by_path("ipv6-addr:value"),
    IndicatorType.DOMAIN: _by_path("domain-name:value"),
    IndicatorType.URL: _by_path("url:value"),
    IndicatorType.EMAIL: _by_path("email-addr:value"),
    IndicatorType.MAC: lambda value: _equals("mac-addr:value", value.lower()),
    IndicatorType.ASN: _asn,
    IndicatorType.MD5: _by_path("file:hashes.MD5"),
    IndicatorType.SHA1: _by_path("file:hashes.'SHA-1'"),
    IndicatorType.SHA256: _by_path("file:hashes.'SHA-256'"),
    IndicatorType.SHA512: _by_path("file:hashes.'SHA-512'"),
    IndicatorType.SSDEEP: _by_path("file:hashes.SSDEEP"),
    IndicatorType.IMPHASH: _by_path("file:extensions.'windows-pebinary-ext'.imphash"),
    IndicatorType.FILENAME: _by_path("file:name"),
    IndicatorType.FILE_PATH: _file_path,
    IndicatorType.REGISTRY_KEY: _registry_key,
    IndicatorType.USER_AGENT: _by_path("network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'"),
    IndicatorType.SOCKET_ADDRESS: _socket,
}

#: Types with no STIX 2.1 pattern: a CVE becomes a Vulnerability, ATT&CK IDs ride on the indicators as references,
#: the rest have no observable at all.
NO_PATTERN: frozenset[IndicatorType] = frozenset({
    IndicatorType.CVE, IndicatorType.MITRE_ATTACK, IndicatorType.TLP, IndicatorType.XMPP, IndicatorType.AUTHENTIHASH,
    IndicatorType.JA3, IndicatorType.JARM, IndicatorType.BITCOIN, IndicatorType.MONERO, IndicatorType.ETHEREUM,
    IndicatorType.GOOGLE_ADSENSE, IndicatorType.GOOGLE_ANALYTICS, IndicatorType.PHONE,
})


def pattern_string(indicator_type: IndicatorType, value: str) -> str | None:
    """The STIX pattern matching ``value``, or None when the type is in :data:`NO_PATTERN`.

    A type in neither table is a KeyError: a vocabulary change this module has not caught up with.
    """
    if indicator_type in NO_PATTERN:
        return None
    return _PATTERNS[indicator_type](value)


# -- times ------------------------------------------------------------------------------------


def _timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with millisecond precision, the form the spec's examples and most consumers use."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _valid_until(item: IndicatorRecord) -> datetime | None:
    """``expires_at``, kept strictly after ``first_seen`` (see the module docstring)."""
    if item.expires_at is None:
        return None
    start, end = as_utc(item.first_seen), as_utc(item.expires_at)
    return end if end > start else start + timedelta(seconds=1)


# -- objects ----------------------------------------------------------------------------------


def _identity() -> dict[str, Any]:
    stamp = _timestamp(_IDENTITY_TIME)
    return {
        "type": "identity", "spec_version": "2.1", "id": IDENTITY_ID, "created": stamp, "modified": stamp,
        "name": "iocflow", "identity_class": "system",
        "description": "iocflow threat-intelligence platform: indicators extracted from articles and feeds.",
    }


def _common(kind: str, object_id: str, item: IndicatorRecord) -> dict[str, Any]:
    """Properties every SDO from a record shares; ``modified`` never precedes ``created``."""
    created, modified = as_utc(item.first_seen), as_utc(item.last_seen)
    return {
        "type": kind, "spec_version": "2.1", "id": object_id, "created_by_ref": IDENTITY_ID,
        "created": _timestamp(created), "modified": _timestamp(max(created, modified)),
    }


def _attack_references(techniques: Iterable[str]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(external_references, kill_chain_phases) for ATT&CK IDs; unknown IDs are kept as enterprise references."""
    refs: list[dict[str, str]] = []
    phases: list[dict[str, str]] = []
    for attack_id in dict.fromkeys(techniques):
        entries = attack.lookup(attack_id)
        entry = entries[0] if entries else None
        if entry is not None and entry.kind == "tactic":
            phases.append({"kill_chain_name": _ATTACK_SOURCES[entry.matrix],
                           "phase_name": entry.name.lower().replace(" ", "-")})
            continue
        canonical = entry.id if entry else attack_id.upper()
        page = _ATTACK_PAGES[entry.kind] if entry else "techniques"
        ref = {
            "source_name": _ATTACK_SOURCES[entry.matrix] if entry else "mitre-attack",
            "external_id": canonical,
            "url": f"https://attack.mitre.org/{page}/{canonical.replace('.', '/')}/",
        }
        if entry is not None:
            ref["description"] = entry.name
        refs.append(ref)
    return refs, phases


def _indicator_types(item: IndicatorRecord) -> list[str]:
    found = [_REPUTATION_TYPES[item.reputation]]
    found += [tag.lower() for tag in item.tags if tag.lower() in _INDICATOR_TYPES]
    return list(dict.fromkeys(found))


def _markings(item: IndicatorRecord) -> list[str]:
    return list(dict.fromkeys(_TLP_MARKINGS[t.lower()] for t in item.tags if t.lower() in _TLP_MARKINGS))


def _description(item: IndicatorRecord) -> str:
    """The comment, else the source's context, else a plain statement: the spec wants a name and a description."""
    if item.comment:
        return item.comment
    if item.source is not None and item.source.context:
        return item.source.context
    reporter = item.source.feed_name if item.source is not None else "iocflow"
    return f"{item.type.value} indicator reported by {reporter}"


def _describe(obj: dict[str, Any], item: IndicatorRecord) -> dict[str, Any]:
    """Optional properties: the spec forbids empty lists, so each is set only when it has content."""
    extras: dict[str, Any] = {
        "description": _description(item),
        "labels": list(dict.fromkeys(item.tags)),
        "object_marking_refs": _markings(item),
    }
    obj.update({key: value for key, value in extras.items() if value})
    return obj


def _indicator(item: IndicatorRecord, pattern: str) -> dict[str, Any]:
    refs, phases = _attack_references(item.techniques)
    obj = _common("indicator", f"indicator--{item.id}", item)
    obj.update({
        "name": item.value if len(item.value) <= 250 else item.value[:247] + "...",
        "indicator_types": _indicator_types(item),
        "pattern": pattern,
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": _timestamp(item.first_seen),
        "confidence": CONFIDENCE[item.confidence],
    })
    until = _valid_until(item)
    if until is not None:
        obj["valid_until"] = _timestamp(until)
    if phases:
        obj["kill_chain_phases"] = phases
    if refs:
        obj["external_references"] = refs
    return _describe(obj, item)


def _vulnerability(item: IndicatorRecord) -> dict[str, Any]:
    """A CVE is what an attack exploits, not something to observe: a Vulnerability SDO named by its CVE id."""
    refs, _ = _attack_references(item.techniques)
    obj = _common("vulnerability", f"vulnerability--{item.id}", item)
    obj.update({
        "name": item.value,
        "confidence": CONFIDENCE[item.confidence],
        "external_references": [
            {"source_name": "cve", "external_id": item.value,
             "url": f"https://www.cve.org/CVERecord?id={item.value}"},
            *refs,
        ],
    })
    return _describe(obj, item)


# -- reports ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Article:
    """What a Report needs, gathered while the records stream by."""

    article_id: str
    feed_name: str
    title: str | None
    url: str | None
    first: datetime
    last: datetime
    refs: list[str] = field(default_factory=list)


def _report(article: _Article) -> dict[str, Any]:
    created, modified = _timestamp(article.first), _timestamp(max(article.first, article.last))
    report: dict[str, Any] = {
        "type": "report", "spec_version": "2.1",
        "id": f"report--{uuid.uuid5(NAMESPACE, f'stix-report:{article.article_id}')}",
        "created_by_ref": IDENTITY_ID, "created": created, "modified": modified,
        "name": article.title or article.url or f"Article {article.article_id}",
        "report_types": ["threat-report"],
        "published": created,
        "object_refs": article.refs,
    }
    reference: dict[str, str] = {"source_name": article.feed_name or "iocflow"}
    if article.url:
        reference["url"] = article.url
    else:
        reference["external_id"] = article.article_id
    report["external_references"] = [reference]
    return report


def _note_article(articles: dict[str, _Article], item: IndicatorRecord, object_id: str) -> None:
    source = item.source
    if source is None or not source.article_id:
        return
    first, last = as_utc(item.first_seen), as_utc(item.last_seen)
    article = articles.get(source.article_id)
    if article is None:
        article = articles[source.article_id] = _Article(
            source.article_id, source.feed_name, source.article_title, source.article_url, first, last)
    article.first, article.last = min(article.first, first), max(article.last, last)
    article.refs.append(object_id)


# -- the bundle -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StixExport:
    """A bundle and what did not fit in it: records per type that STIX 2.1 has no observable for."""

    bundle: dict[str, Any]
    skipped: dict[IndicatorType, int]


def _convert(item: IndicatorRecord) -> dict[str, Any] | None:
    if item.type is IndicatorType.CVE:
        return _vulnerability(item)
    pattern = pattern_string(item.type, item.value)
    return _indicator(item, pattern) if pattern is not None else None


def _bundle_id(objects: list[dict[str, Any]]) -> str:
    """Content-addressed: the same objects at the same versions give the same bundle id."""
    key = "\n".join(f"{obj['id']}@{obj.get('modified', '')}" for obj in objects)
    return f"bundle--{uuid.uuid5(NAMESPACE, 'stix-bundle:' + key)}"


def build(items: Iterable[IndicatorRecord], *, now: datetime) -> StixExport:
    """The bundle for ``items`` (in their order, Reports after them) and the skipped count per type.

    ``now`` is taken so every exporter shares one signature; STIX objects take
    their times from the records only, so an export repeated later is
    byte-identical unless the records changed.
    """
    del now  # see the docstring
    objects: list[dict[str, Any]] = [_identity()]
    seen: set[str] = set()
    skipped: Counter[IndicatorType] = Counter()
    articles: dict[str, _Article] = {}
    for item in items:
        obj = _convert(item)
        if obj is None:
            skipped[item.type] += 1
            continue
        if obj["id"] in seen:  # one page sequence never repeats a record, a caller's list might
            continue
        seen.add(obj["id"])
        objects.append(obj)
        _note_article(articles, item, obj["id"])
    objects.extend(_report(article) for article in articles.values())
    return StixExport({"type": "bundle", "id": _bundle_id(objects), "objects": objects}, dict(skipped))


def bundle(items: Iterable[IndicatorRecord], *, now: datetime) -> dict[str, Any]:
    """A STIX 2.1 bundle of ``items``; records STIX cannot express are left out (``build`` counts them)."""
    return build(items, now=now).bundle


def dumps(items: Iterable[IndicatorRecord], *, now: datetime) -> bytes:
    """The bundle as JSON bytes (UTF-8, not ASCII-escaped)."""
    return orjson.dumps(bundle(items, now=now))
