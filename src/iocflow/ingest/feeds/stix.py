"""STIX 2.1 bundles: the values in indicators' patterns, and the cyber observables a bundle carries.

A bundle is ``{"type": "bundle", "id": "bundle--...", "objects": [...]}``
(STIX 2.1, OASIS, section 8). Two kinds of object become observations; the
rest (identities, malware, attack patterns, relationships, markings) only
describe them.

Indicators (``type: indicator``, ``pattern_type: stix``). The pattern is
parsed by ``stix2-patterns``, the OASIS grammar that ``stix2-validator`` uses,
and read as a set of alternatives, each one value:

* ``[a = 'x']`` is one value; ``OR`` (between or inside brackets) and
  ``IN ('x', 'y')`` are alternatives, each an observation of its own;
* ``AND`` yields values only where every part names the same object: a file
  by several hashes and/or its name (``[file:hashes.MD5 = '..' AND
  file:name = '..']``, as MISP exports ``filename|md5``: each is an
  observation, as MISP's composite attribute is), or one value whose
  ``*_ref.type`` is pinned (``[network-traffic:dst_ref.type = 'ipv4-addr' AND
  network-traffic:dst_ref.value = '..']``). Any other ``AND`` matches only
  when all parts hold, so it is no single value and is rejected; so are
  ``!=``/``NOT``, ``LIKE``, ``MATCHES``, ``<``/``>``, ``ISSUBSET``/
  ``ISSUPERSET``, ``EXISTS``, ``FOLLOWEDBY`` and the ``WITHIN``/``REPEATS``/
  ``START``-``STOP`` qualifiers, each with its reason.

The properties read: ``ipv4-addr:value``/``ipv6-addr:value`` (an address or a
CIDR), ``domain-name:value``, ``url:value``, ``email-addr:value``,
``mac-addr:value``, ``windows-registry-key:key``, ``autonomous-system:number``,
``network-traffic:dst_ref.value``/``src_ref.value``, ``file:name``
(``filename``, or ``file_path`` if it holds a path) and ``file:hashes.X``
with X any spelling of MD5, SHA-1, SHA-256, SHA-512 or SSDEEP (``MD5``,
``'SHA-256'``, ``SHA256``, ``sha256``; the invalid unquoted ``SHA-256`` is
quoted and parsed again). Other properties and hash algorithms are rejected
by name. Every value goes through ``identify``: defanged values are refanged,
hashes lower-cased, invalid values rejected.

Mapping of an indicator onto each of its observations: ``valid_from`` ->
``first_seen``, ``valid_until`` -> ``expiry``; ``confidence`` (0-100) on the
spec's None/Low/Med/High scale (appendix A): 70-100 high, 30-69 medium, 0-29
low, absent high (a row of a feed), anything else rejects the indicator;
``labels`` and ``indicator_types`` -> tags, and ``indicator_types`` (or a
2.0 ``labels``) -> reputation: ``malicious-activity``/``compromised`` bad,
``anomalous-activity``/``anonymization`` suspicious, ``benign`` good, else the
feed's default. TLP markings (``object_marking_refs`` to the spec's TLP
definitions or to a TLP ``marking-definition`` in the bundle) -> a
``tlp:<colour>`` tag. ATT&CK IDs -> techniques, from ``external_references``
whose ``source_name`` is ``mitre-attack`` (or the mobile/ICS/PRE matrices),
from ``kill_chain_phases`` of an ATT&CK kill chain (a tactic's short name,
``execution``, becomes its ``TA`` ID; other kill chains become tags
``<kill_chain_name>:<phase_name>``) and from attack patterns the indicator
``indicates``; every ID is checked against the ATT&CK table. The first malware
SDO the indicator ``indicates`` -> malware; ``description`` (else ``name``)
-> comment; the ``created_by_ref`` identity's name -> reporter, when the
identity is in the bundle; ``ref`` is the indicator's STIX id. A revoked
indicator, or one whose ``pattern_type`` is not ``stix``, is rejected.

Cyber observables found directly in the bundle (``ipv4-addr``, ``ipv6-addr``,
``domain-name``, ``url``, ``email-addr``, ``mac-addr``,
``windows-registry-key``, ``autonomous-system``, and ``file`` by its hashes)
are observations too, with their TLP tag and their id as ``ref``, the rest
left to the feed's defaults. A ``file`` without a hash iocflow reads is
rejected.

A bad row is reported at its index (from 0) in ``objects``; an indicator
whose pattern has several alternatives may yield observations and
rejections both. A document that is not JSON, or not a bundle, raises
``FeedError``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from iocflow.exceptions import FeedError
from iocflow.extract import attack
from iocflow.extract.model import Matrix
from iocflow.ingest.feeds.base import FeedFormat, Fetch, clean_tags, field_time, load_json, text_of
from iocflow.ingest.report import Parsed
from iocflow.ingest.values import identify
from iocflow.store.records import Observation
from iocflow.store.vocabulary import Confidence, IndicatorType, Reputation

_NAME = "stix"
_T = IndicatorType
_IPV4 = frozenset({_T.IPV4, _T.IPV4_CIDR})
_IPV6 = frozenset({_T.IPV6, _T.IPV6_CIDR})
_FILENAME = frozenset({_T.FILENAME, _T.FILE_PATH})

#: ``(object type, property)`` -> what ``identify`` may find in its value.
_PROPERTIES: dict[tuple[str, str], frozenset[IndicatorType]] = {
    ("ipv4-addr", "value"): _IPV4,
    ("ipv6-addr", "value"): _IPV6,
    ("domain-name", "value"): frozenset({_T.DOMAIN}),
    ("url", "value"): frozenset({_T.URL}),
    ("email-addr", "value"): frozenset({_T.EMAIL}),
    ("mac-addr", "value"): frozenset({_T.MAC}),
    ("windows-registry-key", "key"): frozenset({_T.REGISTRY_KEY}),
    ("autonomous-system", "number"): frozenset({_T.ASN}),
    ("file", "name"): _FILENAME,
}
#: Observable types read from the bundle itself, each by its one value property (``file`` by its hashes).
_OBSERVABLES: dict[str, str] = {obj_type: prop for (obj_type, prop) in _PROPERTIES if obj_type != "file"}
_FILE = "file"
#: A hash algorithm's name, upper-cased without ``-``/``_`` (``'SHA-256'``, ``SHA256``, ``sha256``).
_HASHES: dict[str, IndicatorType] = {
    "MD5": _T.MD5, "SHA1": _T.SHA1, "SHA256": _T.SHA256, "SHA512": _T.SHA512, "SSDEEP": _T.SSDEEP,
}
_HASH_NAMES = "MD5, SHA-1, SHA-256, SHA-512 or SSDEEP"
#: What a ``network-traffic`` ``*_ref.type`` pins its ``*_ref.value`` to.
_REF_TYPES: dict[str, frozenset[IndicatorType]] = {
    "ipv4-addr": _IPV4, "ipv6-addr": _IPV6, "domain-name": frozenset({_T.DOMAIN}), "mac-addr": frozenset({_T.MAC}),
}
_REF_ANY = frozenset().union(*_REF_TYPES.values())
_TRAFFIC_REFS = frozenset({"dst_ref", "src_ref"})

#: indicator-type-ov (and STIX 2.0 labels) -> reputation.
_REPUTATIONS: dict[str, Reputation] = {
    "malicious-activity": Reputation.BAD,
    "compromised": Reputation.BAD,
    "anomalous-activity": Reputation.SUSPICIOUS,
    "anonymization": Reputation.SUSPICIOUS,
    "benign": Reputation.GOOD,
}
#: Lowest confidence (0-100) of each rung of the spec's None/Low/Med/High scale, highest first.
_CONFIDENCE_FLOORS = ((70, Confidence.HIGH), (30, Confidence.MEDIUM), (0, Confidence.LOW))
#: The TLP marking definitions the spec fixes (TLP 1.0, section 7.2.1.4; TLP 2.0's CLEAR).
_STANDARD_TLP: dict[str, str] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "tlp:white",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "tlp:green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "tlp:amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "tlp:red",
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "tlp:clear",
}
#: ATT&CK's ``kill_chain_name`` and ``external_references.source_name`` per matrix.
_ATTACK_CHAINS: dict[str, Matrix] = {
    "mitre-attack": Matrix.ENTERPRISE,
    "mitre-mobile-attack": Matrix.MOBILE,
    "mitre-ics-attack": Matrix.ICS,
    "mitre-pre-attack": Matrix.PRE_ATTACK,
}
_NOT_ATTACK_KINDS = frozenset({"mitigation"})
#: Unquoted hyphenated hash names (``hashes.SHA-256``) that producers write though the grammar refuses them.
_UNQUOTED_HASH = re.compile(r"hashes\.([A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+)")


def parse(data: bytes, fetch: Fetch | None = None) -> Parsed:
    """Every indicator pattern's values and every readable observable in a STIX 2.x bundle."""
    bundle = load_json(data, source=_NAME)
    if not isinstance(bundle, dict) or bundle.get("type") != "bundle":
        raise FeedError("JSON that is not a STIX bundle (no \"type\": \"bundle\")", source=_NAME)
    objects = bundle.get("objects", [])
    if not isinstance(objects, list):
        raise FeedError("the bundle's 'objects' is not a list", source=_NAME)
    links = _Links.of(objects)
    parsed = Parsed()
    for index, obj in enumerate(objects):
        if not isinstance(obj, dict):
            parsed.rows_read += 1
            parsed.reject("not a STIX object", line=index)
            continue
        obj_type = obj.get("type")
        if obj_type == "indicator":
            parsed.rows_read += 1
            _read_indicator(obj, index, links, parsed)
        elif obj_type in _OBSERVABLES or obj_type == _FILE:
            parsed.rows_read += 1
            _read_observable(obj, index, links, parsed)
    return parsed


# -- what the rest of the bundle says about an indicator --------------------------------------


@dataclass(slots=True)
class _Links:
    """Names and relationships looked up by id, gathered in one pass before the rows are read."""

    identities: dict[str, str] = field(default_factory=dict)
    tlp: dict[str, str] = field(default_factory=lambda: dict(_STANDARD_TLP))
    #: indicator id -> the name of the first malware it ``indicates``.
    malware: dict[str, str] = field(default_factory=dict)
    #: indicator id -> ATT&CK IDs of the attack patterns it ``indicates``.
    techniques: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, objects: list[Any]) -> _Links:
        links = cls()
        malware: dict[str, str] = {}
        patterns: dict[str, list[str]] = {}
        relationships: list[Mapping[str, Any]] = []
        for obj in objects:
            if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
                continue
            obj_type, obj_id, name = obj.get("type"), obj["id"], text_of(obj.get("name"))
            if obj_type == "identity" and name:
                links.identities[obj_id] = name
            elif obj_type == "malware" and name and obj.get("revoked") is not True:
                malware[obj_id] = name
            elif obj_type == "attack-pattern" and obj.get("revoked") is not True:
                patterns[obj_id] = _attack_references(obj)
            elif obj_type == "marking-definition" and (tlp := _tlp_of(obj)):
                links.tlp[obj_id] = tlp
            elif obj_type == "relationship" and obj.get("relationship_type") == "indicates":
                relationships.append(obj)
        for rel in relationships:
            source, target = rel.get("source_ref"), rel.get("target_ref")
            if rel.get("revoked") is True or not isinstance(source, str) or not isinstance(target, str):
                continue
            if target in malware:
                links.malware.setdefault(source, malware[target])
            elif target in patterns:
                links.techniques.setdefault(source, []).extend(patterns[target])
        return links

    def tlp_tags(self, obj: Mapping[str, Any]) -> list[str]:
        refs = obj.get("object_marking_refs")
        if not isinstance(refs, list):
            return []
        return [self.tlp[ref] for ref in refs if isinstance(ref, str) and ref in self.tlp]


def _tlp_of(marking: Mapping[str, Any]) -> str | None:
    """``tlp:<colour>`` for a TLP marking definition: 2.0/2.1 ``definition``, or a TLP 2.0 ``name``."""
    definition = marking.get("definition")
    if marking.get("definition_type") == "tlp" and isinstance(definition, dict):
        colour = text_of(definition.get("tlp"))
        if colour:
            return f"tlp:{colour.lower()}"
    name = text_of(marking.get("name"))
    if name and name.upper().startswith("TLP:"):
        return name.lower()
    return None


def _attack_references(obj: Mapping[str, Any]) -> list[str]:
    """ATT&CK IDs in ``external_references`` from one of the ATT&CK matrices."""
    refs = obj.get("external_references")
    found = []
    for ref in refs if isinstance(refs, list) else ():
        if isinstance(ref, dict) and ref.get("source_name") in _ATTACK_CHAINS:
            attack_id = _attack_id(ref.get("external_id"))
            if attack_id:
                found.append(attack_id)
    return found


def _attack_id(raw: object) -> str | None:
    """The ID if the ATT&CK table knows it as a technique, sub-technique or tactic."""
    text = text_of(raw)
    if not text:
        return None
    entries = attack.lookup(text)
    return entries[0].id if entries and entries[0].kind not in _NOT_ATTACK_KINDS else None


@functools.cache
def _tactics() -> dict[tuple[Matrix, str], str]:
    """(matrix, kill-chain phase name) -> tactic ID; ATT&CK's phase names are the tactics' names in kebab case."""
    table: dict[tuple[Matrix, str], str] = {}
    for number in range(1, 200):  # tactic IDs run TA0001-TA0043 and TA0100-TA0111
        for entry in attack.lookup(f"TA{number:04d}"):
            if entry.kind == "tactic":
                table.setdefault((entry.matrix, entry.name.lower().replace(" ", "-")), entry.id)
    return table


# -- indicators -------------------------------------------------------------------------------


def _read_indicator(obj: Mapping[str, Any], index: int, links: _Links, parsed: Parsed) -> None:
    sid = text_of(obj.get("id")) or f"objects[{index}]"
    pattern = obj.get("pattern")
    if obj.get("revoked") is True:
        parsed.reject(f"{sid}: revoked indicator", line=index, value=pattern)
        return
    pattern_type = text_of(obj.get("pattern_type")) or "stix"  # STIX 2.0 indicators have no pattern_type
    if pattern_type != "stix":
        parsed.reject(f"{sid}: pattern_type {pattern_type!r} is not a STIX pattern", line=index, value=pattern)
        return
    if not isinstance(pattern, str) or not pattern.strip():
        parsed.reject(f"{sid}: no pattern", line=index)
        return
    try:
        details = _indicator_details(obj, sid, links)
        alternatives = _read_pattern(pattern)
    except ValueError as exc:
        parsed.reject(f"{sid}: {exc}", line=index, value=pattern)
        return
    seen: set[tuple[IndicatorType, str]] = set()
    for claim in _claims(alternatives):
        if isinstance(claim, _Refusal):
            parsed.reject(f"{sid}: {claim.reason}", line=index, value=claim.text)
            continue
        try:
            kind, value = _identify(claim.raw, claim.allowed)
        except ValueError as exc:
            parsed.reject(f"{sid}: {claim.where}: {exc}", line=index, value=claim.raw)
            continue
        if (kind, value) not in seen:
            seen.add((kind, value))
            parsed.add(Observation(kind, value, **details), line=index, where=f"{sid}: ")


def _indicator_details(obj: Mapping[str, Any], sid: str, links: _Links) -> dict[str, Any]:
    """What an indicator says about each of its values; ``ValueError`` for a bad time or confidence."""
    labels = clean_tags(obj.get("labels"))
    types = clean_tags(obj.get("indicator_types"))
    phase_tags, phase_ids = _kill_chain(obj.get("kill_chain_phases"))
    techniques = [*phase_ids, *_attack_references(obj), *links.techniques.get(sid, ())]
    reputations = [_REPUTATIONS[t.lower()] for t in (*types, *labels) if t.lower() in _REPUTATIONS]
    return {
        "first_seen": field_time(obj, "valid_from"),
        "expiry": field_time(obj, "valid_until"),
        "confidence": _confidence(obj.get("confidence")),
        "reputation": max(reputations, key=lambda r: r.rank) if reputations else None,
        "tags": clean_tags([*labels, *types, *links.tlp_tags(obj), *phase_tags]),
        "techniques": tuple(dict.fromkeys(techniques)),
        "malware": links.malware.get(sid),
        "comment": text_of(obj.get("description")) or text_of(obj.get("name")),
        "reporter": links.identities.get(text_of(obj.get("created_by_ref")) or ""),
        "ref": sid,
    }


def _kill_chain(phases: object) -> tuple[list[str], list[str]]:
    """(tags, ATT&CK IDs): an ATT&CK phase is its tactic's ID, any other kill chain's phase a tag."""
    tags: list[str] = []
    ids: list[str] = []
    for phase in phases if isinstance(phases, list) else ():
        if not isinstance(phase, dict):
            continue
        chain, name = text_of(phase.get("kill_chain_name")), text_of(phase.get("phase_name"))
        if not chain or not name:
            continue
        matrix = _ATTACK_CHAINS.get(chain.lower())
        if matrix is None:
            tags.append(f"{chain}:{name}")
        elif attack_id := (_attack_id(name) or _tactics().get((matrix, name.lower()))):
            ids.append(attack_id)
    return tags, ids


def _confidence(raw: object) -> Confidence:
    """STIX ``confidence`` (0-100) on the None/Low/Med/High scale; absent: a feed row, high."""
    if raw is None:
        return Confidence.HIGH
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 100:
        raise ValueError(f"confidence must be an integer from 0 to 100, got {raw!r}")
    return next(confidence for floor, confidence in _CONFIDENCE_FLOORS if raw >= floor)


# -- patterns ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Comparison:
    """One ``object:path = literal`` test; ``value`` is None for a literal that is no string or integer."""

    object_type: str
    path: tuple[str | int, ...]
    value: str | int | None
    text: str


@dataclass(frozen=True, slots=True)
class _Refusal:
    """Part of a pattern that names no single value, and why."""

    reason: str
    text: str


#: One alternative of a pattern: comparisons that must all hold (mostly just one), or a refusal.
_Alternative = tuple[_Comparison, ...] | _Refusal


@dataclass(frozen=True, slots=True)
class _Claim:
    """A value a pattern or an observable states, and the types it may be."""

    allowed: frozenset[IndicatorType]
    raw: object
    #: Where the value came from, for the rejection message (``file:hashes.'SHA-256'``).
    where: str


def _read_pattern(pattern: str) -> list[_Alternative]:
    """The pattern's alternatives; ``ValueError`` when it does not parse."""
    from stix2patterns.exceptions import ParseException
    from stix2patterns.v21.pattern import Pattern

    try:
        compiled = Pattern(pattern)
    except ParseException as exc:
        repaired = _UNQUOTED_HASH.sub(r"hashes.'\1'", pattern)
        if repaired == pattern:
            raise ValueError(f"pattern does not parse: {exc}") from None
        try:
            compiled = Pattern(repaired)
        except ParseException:
            raise ValueError(f"pattern does not parse: {exc}") from None
    # ``visit`` is the library's public way to hand out its parse tree.
    alternatives: list[_Alternative] = compiled.visit(_TreeReader())
    return alternatives


class _TreeReader:
    def visit(self, tree: Any) -> list[_Alternative]:
        return _alternatives(tree)


@functools.cache
def _grammar() -> Any:
    from stix2patterns.v21.grammars.STIXPatternParser import STIXPatternParser

    return STIXPatternParser


_REFUSED_TESTS: dict[str, str] = {
    "PropTestLikeContext": "LIKE matches a family of values, not one value",
    "PropTestRegexContext": "MATCHES tests a regular expression, not one value",
    "PropTestOrderContext": "'<', '>', '<=', '>=' test a range, not one value",
    "PropTestIsSubsetContext": "ISSUBSET tests membership of a network range, not one value",
    "PropTestIsSupersetContext": "ISSUPERSET tests a network range, not one value",
    "PropTestExistsContext": "EXISTS tests that a property is present, not a value",
    "ObservationExpressionWithinContext": "a WITHIN qualifier describes behaviour over time, not one value",
    "ObservationExpressionRepeatedContext": "a REPEATS qualifier describes behaviour over time, not one value",
    "ObservationExpressionStartStopContext": "a START/STOP qualifier bounds when it matches; read as no single value",
}


def _alternatives(ctx: Any) -> list[_Alternative]:
    """Reduce a parse-tree node to its alternatives (OR and IN add them; AND joins them, or refuses)."""
    p = _grammar()
    refused = _REFUSED_TESTS.get(type(ctx).__name__)
    if refused is not None:
        return [_Refusal(refused, _source(ctx))]
    if isinstance(ctx, p.PatternContext):
        return _alternatives(ctx.observationExpressions())
    if isinstance(ctx, p.ObservationExpressionsContext):
        if ctx.FOLLOWEDBY():
            return [_Refusal("FOLLOWEDBY describes a sequence of events, not one value", _source(ctx))]
        return _alternatives(ctx.observationExpressionOr())
    if isinstance(ctx, p.ObservationExpressionOrContext):
        if ctx.OR():
            return [alt for side in ctx.observationExpressionOr() for alt in _alternatives(side)]
        return _alternatives(ctx.observationExpressionAnd())
    if isinstance(ctx, p.ObservationExpressionAndContext):
        if ctx.AND():
            return [_Refusal("AND between observations matches only when all are seen: not one value",
                             _source(ctx))]
        return _alternatives(ctx.observationExpression())
    if isinstance(ctx, p.ObservationExpressionSimpleContext):
        return _alternatives(ctx.comparisonExpression())
    if isinstance(ctx, p.ObservationExpressionCompoundContext):
        return _alternatives(ctx.observationExpressions())
    if isinstance(ctx, p.ComparisonExpressionContext):
        if ctx.OR():
            return [alt for side in ctx.comparisonExpression() for alt in _alternatives(side)]
        return _alternatives(ctx.comparisonExpressionAnd())
    if isinstance(ctx, p.ComparisonExpressionAndContext):
        if not ctx.AND():
            return _alternatives(ctx.propTest())
        joined: list[_Comparison] = []
        for side in ctx.comparisonExpressionAnd():
            found = _alternatives(side)
            if len(found) != 1 or isinstance(found[0], _Refusal):
                return [_Refusal("AND joins tests that must all hold, here with OR or tests other than '=': "
                                 "not one value", _source(ctx))]
            joined.extend(found[0])
        return [tuple(joined)]
    if isinstance(ctx, p.PropTestParenContext):
        return _alternatives(ctx.comparisonExpression())
    if isinstance(ctx, p.PropTestEqualContext):
        if ctx.NOT() or ctx.NEQ():
            return [_Refusal("'!=' and NOT match everything but a value", _source(ctx))]
        return [(_comparison(ctx.objectPath(), ctx.primitiveLiteral(), _source(ctx)),)]
    if isinstance(ctx, p.PropTestSetContext):
        if ctx.NOT():
            return [_Refusal("NOT IN matches everything but some values", _source(ctx))]
        return [(_comparison(ctx.objectPath(), literal, _source(ctx)),)
                for literal in ctx.setLiteral().primitiveLiteral()]
    return [_Refusal(f"unsupported pattern construct {type(ctx).__name__}", _source(ctx))]


def _source(ctx: Any) -> str:
    """The pattern text a node spans, as written."""
    return str(ctx.start.getInputStream().getText(ctx.start.start, ctx.stop.stop))


def _comparison(path_ctx: Any, literal_ctx: Any, text: str) -> _Comparison:
    first = path_ctx.firstPathComponent()
    steps: list[str | int] = [_unquote(first.StringLiteral().getText()) if first.StringLiteral() else first.getText()]
    component = path_ctx.objectPathComponent()
    if component is not None:
        steps.extend(_path_steps(component))
    return _Comparison(path_ctx.objectType().getText(), tuple(steps), _literal(literal_ctx), text)


def _path_steps(ctx: Any) -> Iterator[str | int]:
    p = _grammar()
    if isinstance(ctx, p.PathStepContext):
        for part in ctx.objectPathComponent():
            yield from _path_steps(part)
    elif isinstance(ctx, p.KeyPathStepContext):
        literal = ctx.StringLiteral()
        yield _unquote(literal.getText()) if literal else ctx.IdentifierWithoutHyphen().getText()
    elif isinstance(ctx, p.IndexPathStepContext):
        index = ctx.IntPosLiteral() or ctx.IntNegLiteral()
        yield int(index.getText()) if index else "*"


def _literal(ctx: Any) -> str | int | None:
    orderable = ctx.orderableLiteral()
    if orderable is None:
        return None  # a boolean
    if orderable.StringLiteral():
        return _unquote(orderable.StringLiteral().getText())
    if orderable.IntPosLiteral() or orderable.IntNegLiteral():
        return int(orderable.getText())
    return None


def _unquote(token: str) -> str:
    """A STIX string literal's content: quotes dropped, ``\\'`` and ``\\\\`` unescaped."""
    body, out, escaped = token[1:-1], [], False
    for ch in body:
        if escaped or ch != "\\":
            out.append(ch)
            escaped = False
        else:
            escaped = True
    return "".join(out)


def _claims(alternatives: list[_Alternative]) -> Iterator[_Claim | _Refusal]:
    """Each alternative's values, or why it has none."""
    for alt in alternatives:
        if isinstance(alt, _Refusal):
            yield alt
        elif len(alt) == 1:
            yield _claim(alt[0])
        else:
            yield from _joined(alt)


def _joined(group: tuple[_Comparison, ...]) -> Iterator[_Claim | _Refusal]:
    """An AND of '=' tests: values if they all name one object (a file by its hashes, a pinned ref)."""
    text = " AND ".join(c.text for c in group)
    if len({c.object_type for c in group}) > 1:
        yield _Refusal("AND across different objects matches only when all are seen: not one value", text)
        return
    pins = [c for c in group if _is_ref_type(c.path)]
    values = [c for c in group if not _is_ref_type(c.path)]
    if group[0].object_type == _FILE and all(_names_file(c.path) for c in values):
        for comparison in values:
            yield _claim(comparison)
    elif len(values) == 1:
        claim = _claim(values[0])
        for pin in pins:
            if isinstance(claim, _Refusal):
                break
            if pin.path[0] != values[0].path[0] or not isinstance(pin.value, str) or pin.value not in _REF_TYPES:
                claim = _Refusal("AND with a type test that does not pin the value's object", text)
            else:
                claim = _Claim(claim.allowed & _REF_TYPES[pin.value], claim.raw, claim.where)
        yield claim
    else:
        yield _Refusal("AND of several values matches only when all hold: not one value", text)


def _is_ref_type(path: tuple[str | int, ...]) -> bool:
    return len(path) == 2 and path[0] in _TRAFFIC_REFS and path[1] == "type"


def _names_file(path: tuple[str | int, ...]) -> bool:
    return path == ("name",) or (len(path) == 2 and path[0] == "hashes")


def _claim(comparison: _Comparison) -> _Claim | _Refusal:
    """What a single '=' test states, or why iocflow does not read it."""
    obj_type, path = comparison.object_type, comparison.path
    where = f"{obj_type}:{'.'.join(str(step) for step in path)}"
    if comparison.value is None:
        return _Refusal(f"{where} is compared with a literal that is not a string or an integer", comparison.text)
    allowed: frozenset[IndicatorType] | None = None
    if len(path) == 1:
        allowed = _PROPERTIES.get((obj_type, str(path[0])))
    elif obj_type == _FILE and len(path) == 2 and path[0] == "hashes":
        hash_type = _HASHES.get(_hash_key(path[1]))
        if hash_type is None:
            return _Refusal(f"hash algorithm {path[1]!r} is not one iocflow stores ({_HASH_NAMES})", comparison.text)
        allowed = frozenset({hash_type})
    elif obj_type == "network-traffic" and len(path) == 2 and path[0] in _TRAFFIC_REFS and path[1] == "value":
        allowed = _REF_ANY
    if allowed is None:
        return _Refusal(f"{where} is not a property iocflow reads as an indicator", comparison.text)
    return _Claim(allowed, comparison.value, where)


def _hash_key(name: object) -> str:
    return str(name).upper().replace("-", "").replace("_", "")


# -- observables ------------------------------------------------------------------------------


def _read_observable(obj: Mapping[str, Any], index: int, links: _Links, parsed: Parsed) -> None:
    sid = text_of(obj.get("id")) or f"objects[{index}]"
    obj_type = str(obj.get("type"))
    claims: list[_Claim] = []
    if obj_type == _FILE:
        hashes = obj.get("hashes")
        for algorithm, raw in hashes.items() if isinstance(hashes, dict) else ():
            hash_type = _HASHES.get(_hash_key(algorithm))
            if hash_type is not None:
                claims.append(_Claim(frozenset({hash_type}), raw, f"file:hashes.{algorithm}"))
        if not claims:
            parsed.reject(f"{sid}: a file without an {_HASH_NAMES} hash", line=index, value=obj.get("name"))
            return
    else:
        prop = _OBSERVABLES[obj_type]
        claims.append(_Claim(_PROPERTIES[obj_type, prop], obj.get(prop), f"{obj_type}:{prop}"))
    tags = clean_tags(links.tlp_tags(obj))
    for claim in claims:
        try:
            kind, value = _identify(claim.raw, claim.allowed)
        except ValueError as exc:
            parsed.reject(f"{sid}: {claim.where}: {exc}", line=index, value=claim.raw)
            continue
        parsed.add(Observation(kind, value, tags=tags, ref=sid), line=index, where=f"{sid}: ")


# -- values -----------------------------------------------------------------------------------


def _identify(raw: object, allowed: frozenset[IndicatorType]) -> tuple[IndicatorType, str]:
    """Type and canonical value of a stated value (a number for an AS)."""
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ValueError("no value" if raw is None else f"value is not a string: {raw!r}")
    return identify(str(raw), allowed)


FORMAT = FeedFormat(
    name=_NAME,
    title="STIX 2.1 bundle",
    parse=parse,
    default_url="",
    documentation=(
        "A STIX 2.1 bundle (STIX 2.0 reads too): each indicator's STIX pattern is read for its '=' values "
        "(OR and IN give several; AND only when it names one file or a pinned ref), and ipv4/ipv6/domain/url/"
        "email/mac/registry-key/autonomous-system/file observables in the bundle are read as they are. "
        "No publisher of its own: give the bundle's URL or file."
    ),
)
