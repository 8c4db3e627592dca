"""Indicators as Sigma detection rules: one multi-document YAML text, many indicators per rule.

Where each type is looked for is ``iocflow.enrich.hunting.SIGMA_SPECS`` (the per-indicator
hunting rules and these exports agree): IPs in ``network_connection`` ``DestinationIp``,
domains in ``dns_query`` ``QueryName``, hashes in ``process_creation``
``Hashes|contains: 'SHA256=<hash>'`` (Sysmon's ``ALGO=value,...`` list), file names and
paths in ``file_event`` ``TargetFilename``, user agents in ``proxy`` ``c-useragent``, registry
keys in ``registry_event`` ``TargetObject`` (the key below its hive, since logs spell the hive
``HKLM``, ``HKEY_LOCAL_MACHINE`` or ``\\REGISTRY\\MACHINE``: the key itself by ``endswith``, its
values and subkeys by ``contains``). URLs (``proxy``) match either the whole URL in ``c-uri``
(forward proxies log it whole) or ``cs-host`` together with the path and query in ``c-uri``
(proxies that log them apart). Types with no log source (CVE, ATT&CK, wallets, e-mail...) and a
registry hive alone are left out. The searched text is ``hunting.search_text``'s, as in the
per-indicator hunting queries.

Rules: indicators are grouped by (log source, level) in first-seen order and cut into
chunks of :data:`CHUNK_SIZE`; each chunk is one rule, a ``selection`` that is a list of
maps (any map matching is a hit): one ``{field: [values]}`` map per field, and one
two-field map per host+path URL. ``id`` is a UUIDv5 of the log source, level and the
indicators' ids, so the same indicators give the same rule and a different set a
different rule. ``status`` is experimental, ``level`` the severity (info ->
informational), ``tags`` the log source's ATT&CK tactic and the indicators' techniques
(``T1059.001`` -> ``attack.t1059.001``), ``references`` the source articles.

Escaping: each value is Sigma-escaped (``\\``, ``*`` and ``?`` get a backslash, so a
value never acts as a wildcard), then written by PyYAML; a string with a line break, a
control or any other non-printable character is forced into YAML's double-quoted style,
which escapes them (PyYAML's single-quoted style loses U+0085). Values that are not valid
Unicode (lone surrogates) are left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

import yaml

from iocflow.enrich.hunting import SIGMA_SPECS, search_text, sigma_escape
from iocflow.export.records import ExportItem
from iocflow.store.records import uuid5
from iocflow.store.vocabulary import IndicatorType

__all__ = ["CHUNK_SIZE", "LEVELS", "SIGMA_TYPES", "Matcher", "matchers", "rule_dicts", "rules"]

#: Indicators per rule. 50 typical values (up to ~100 characters) convert to well under
#: the 10,000-character Splunk/KQL query size the hunting module keeps to, and a rule
#: stays reviewable; larger groups become several rules.
CHUNK_SIZE: Final = 50

#: iocflow severity -> Sigma level.
LEVELS: Final = {"info": "informational", "low": "low", "medium": "medium", "high": "high", "critical": "critical"}

#: The types exported as Sigma; any other is left out.
SIGMA_TYPES: Final = frozenset(kind.value for kind in SIGMA_SPECS)

_TECHNIQUE: Final = re.compile(r"[Tt]\d{4}(?:\.\d{3})?")

Matcher = tuple[tuple[str, str], ...]  # (field|modifier, Sigma-escaped value) pairs, all of which must match


@dataclass(frozen=True, slots=True)
class _Group:
    category: str
    product: str | None
    level: str


# ---------------------------------------------------------------- detection


def _url_matchers(url: str) -> list[Matcher]:
    """The whole URL in ``c-uri``; and, when it has a host, ``cs-host`` with the path and query."""
    matchers: list[Matcher] = [(("c-uri", sigma_escape(url)),)]
    parts = urlsplit(url)
    if parts.hostname:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        matchers.append((("cs-host", sigma_escape(parts.hostname)), ("c-uri", sigma_escape(path))))
    return matchers


def matchers(item: ExportItem) -> list[Matcher]:
    """The alternatives that each detect ``item``, as (field, escaped value) pairs."""
    if item.type == "url":
        return _url_matchers(item.value)
    kind = IndicatorType(item.type)
    value = search_text(kind, item.value)
    if not value:  # a registry hive alone: there is nothing below it to look for
        return []
    spec = SIGMA_SPECS[kind]
    return [
        ((selection.key, sigma_escape(prefix + value + suffix)),)
        for selection in spec.selections
        for prefix, suffix in selection.affixes
    ]


def _selection(found: Iterable[Matcher]) -> list[dict[str, Any]]:
    """A Sigma selection as a list of maps: single-field matchers merged per field, others one map each."""
    by_field: dict[str, list[str]] = {}
    maps: list[dict[str, Any]] = []
    for matcher in dict.fromkeys(found):  # distinct, first-seen order
        if len(matcher) == 1:
            (key, value), = matcher
            if key not in by_field:
                by_field[key] = []
                maps.append({key: by_field[key]})
            by_field[key].append(value)
        else:
            maps.append(dict(matcher))
    return maps


# ---------------------------------------------------------------- rules


def _tags(group: _Group, chunk: Sequence[ExportItem]) -> list[str]:
    tactics = {SIGMA_SPECS[IndicatorType(item.type)].tag: None for item in chunk}
    techniques = {
        f"attack.{technique.lower()}": None
        for item in chunk for technique in item.techniques if _TECHNIQUE.fullmatch(technique)
    }
    return [*tactics, *techniques]


def _references(chunk: Sequence[ExportItem]) -> list[str]:
    urls = {item.source.article_url: None for item in chunk if item.source and item.source.article_url}
    return list(urls)


def _rule(group: _Group, chunk: Sequence[ExportItem], now: datetime) -> dict[str, Any]:
    ids = ",".join(item.id for item in chunk)
    types = ", ".join(dict.fromkeys(item.type for item in chunk))
    noun = "indicator" if len(chunk) == 1 else "indicators"
    logsource = {"category": group.category, **({"product": group.product} if group.product else {})}
    rule: dict[str, Any] = {
        "title": f"iocflow: {len(chunk)} {types} {noun} ({group.category})",
        "id": uuid5(f"sigma:{group.category}:{group.product}:{group.level}:{ids}"),
        "status": "experimental",
        "description": f"Matches {len(chunk)} {types} {noun} of {group.level} severity exported by iocflow.",
        "references": _references(chunk),
        "author": "iocflow",
        "date": now.strftime("%Y-%m-%d"),
        "tags": _tags(group, chunk),
        "logsource": logsource,
        "detection": {"selection": _selection(m for item in chunk for m in matchers(item)), "condition": "selection"},
        "falsepositives": ["Legitimate activity involving the same values"],
        "level": group.level,
    }
    if not rule["references"]:
        del rule["references"]
    return rule


def _exportable(item: ExportItem) -> bool:
    if item.type not in SIGMA_TYPES or not item.value:
        return False
    try:
        item.value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return bool(search_text(IndicatorType(item.type), item.value))  # a registry hive alone has nothing to match


def _groups(items: Iterable[ExportItem]) -> dict[_Group, list[ExportItem]]:
    groups: dict[_Group, list[ExportItem]] = {}
    for item in items:
        if _exportable(item):
            spec = SIGMA_SPECS[IndicatorType(item.type)]
            key = _Group(spec.category, spec.product, LEVELS.get(item.severity, "medium"))
            groups.setdefault(key, []).append(item)
    return groups


def rule_dicts(items: Iterable[ExportItem], *, now: datetime) -> Iterator[dict[str, Any]]:
    """The rules as plain dicts, before YAML."""
    for group, members in _groups(items).items():
        for start in range(0, len(members), CHUNK_SIZE):
            yield _rule(group, members[start : start + CHUNK_SIZE], now)


# ---------------------------------------------------------------- YAML


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper, with strings that hold line breaks or non-printables double-quoted, and no aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    risky = any(not ch.isprintable() or ch in "\x85\u2028\u2029\ufeff" for ch in text)
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"' if risky else None)


_Dumper.add_representer(str, _represent_str)


def rules(items: Iterable[ExportItem], *, now: datetime) -> str:
    """Sigma rules for the items as one multi-document YAML text ("" when none can be written)."""
    documents = list(rule_dicts(items, now=now))
    if not documents:
        return ""
    return yaml.dump_all(
        documents, Dumper=_Dumper, sort_keys=False, allow_unicode=True, explicit_start=True, width=1_000_000
    )
