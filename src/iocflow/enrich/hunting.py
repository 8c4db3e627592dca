"""Ready-to-run hunting queries for stored indicators: Splunk SPL, Microsoft KQL, Elastic ES|QL, Sigma.

``queries_for(kind, value)`` answers "where has this been seen?" on each platform;
``bulk_queries(indicators)`` does the same for many indicators at once, grouped by type
into list lookups and cut into chunks that stay under each platform's query-size limit.

Design (the style guide's section 3, after pySigma's ``TextQueryBackend``): a :class:`Dialect` is
``ClassVar`` tokens -- how a string literal is quoted and escaped, how a field is compared
with a list of values, how one table's conditions and the whole query are laid out -- plus
a table of where each indicator type is recorded (:class:`Source`, :class:`Field`).
:class:`SplunkDialect`, :class:`KqlDialect` and :class:`EsqlDialect` subclass it and
override only what their language cannot say with tokens; :class:`TestDialect` is tokens
only and is what the shared machinery is tested on. Sigma rules are YAML documents rather
than query text, so they have their own writer at the end of the module, :func:`sigma_rules`:
the only one in iocflow. The lookup's rule for one indicator and the Sigma export's
(``iocflow.export.sigma``) are the same rule: same detection, level from the severity, tags,
references, id and title. A value the store does not hold has no severity; its rule has the
documented default level, :data:`SIGMA_DEFAULT_LEVEL`.

Escaping is the security-critical part; each dialect does it in one place (``escape``):

* KQL: double-quoted literal; ``\\`` ``"`` and the control characters ``\\n \\r \\t`` are
  backslash-escaped. Kusto's lexer (Kusto.Language ``LexicalGrammar.DoubleQuoteStringLiteral``)
  ends such a literal only at an unescaped ``"`` and refuses raw CR/LF in it, so after this
  escaping nothing a value holds can end the literal or start a line. ``@"..."`` verbatim
  literals were not chosen: they cannot hold CR or LF at all.
* ES|QL: double-quoted literal; ``\\`` ``"`` ``\\n`` ``\\r`` ``\\t`` escaped -- exactly the
  escapes of the ``QUOTED_STRING`` lexer rule (Elasticsearch ``lexer/Expression.g4``), whose
  only other terminators are raw CR/LF. Triple-quoted strings were not chosen: they cannot
  hold three quotes in a row or a line break.
* SPL: double-quoted literal with ``\\`` and ``"`` escaped. Splunk documents that ``*`` cannot
  be escaped in a search (search-manual "Backslashes"), backticks expand macros and comments,
  and ``$name$`` is a token in dashboards and alert actions; none of these, nor any
  non-printable character, is ever written into an SPL literal. In the ``tstats`` filter each
  becomes a ``*`` wildcard (a superset), and the leg is narrowed by an ``eval`` ``where`` that
  compares with ``urldecode("%2A...")`` -- the value percent-encoded to ASCII letters, digits
  and ``%._-~`` -- so the match stays literal.
* Sigma: the value is Sigma-escaped (``\\`` ``*`` ``?`` get a backslash, Sigma specification
  "Escaping") and written as a YAML double-quoted scalar in which ``\\``, ``"`` and every
  character outside printable Unicode (controls, line separators, BOM) is escaped, so the
  document always parses back to the value, which pySigma reads without wildcards.

Query-size limits (``max_query_chars``; the sources are quoted on each constant):
SPL 10,000, KQL 10,000, ES|QL 100,000 characters, Sigma rules 8,000.

Which indicator types can be hunted is :data:`HUNTABLE_TYPES`; any other type (CVE, ATT&CK,
TLP, wallets, phone numbers...) raises :class:`HuntingError`, a ``ValueError``: there is no
log field to look it up in. A platform with nothing to search for a type that others can
hunt (e-mail addresses in Sigma, which has no mail log source) is absent from the answer.
Values are expected in the store's canonical form; escaping never relies on it.
"""

from __future__ import annotations

import enum
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import ClassVar, Final, TypeVar

from iocflow.exceptions import ExportError
from iocflow.extract import url_host, url_path
from iocflow.store.records import indicator_id, uuid5
from iocflow.store.views import IndicatorRecord
from iocflow.store.vocabulary import IndicatorType, Severity

__all__ = [
    "ESQL", "HUNTABLE_TYPES", "KQL", "PLATFORMS", "SIGMA_CHUNK_SIZE", "SIGMA_DEFAULT_LEVEL", "SIGMA_LEVELS",
    "SIGMA_MAX_CHARS", "SIGMA_SPECS", "SPLUNK", "Dialect", "EsqlDialect", "Field", "HuntingError", "KqlDialect",
    "Match", "Matcher", "SigmaIndicator", "Source", "SplunkDialect", "TestDialect", "bulk_queries", "queries_for",
    "search_text", "sigma_escape", "sigma_matchers", "sigma_rule", "sigma_rules",
]

T = IndicatorType  # short, for the tables below
_T = TypeVar("_T")


class HuntingError(ExportError, ValueError):
    """No hunting query can be written: the type has no log field, or the value is unusable.

    A ``ValueError`` too, so callers validating input can catch the usual exception.
    """

    def __init__(self, message: str, *, kind: IndicatorType | None = None, value: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.value = value


# ---------------------------------------------------------------- tables


class Match(enum.Enum):
    """How a field is compared with an indicator; each dialect renders the ones its tables use."""

    EQUALS = "equals"  # the whole field, ignoring case where the platform can
    EXACT = "exact"  # the whole field as stored (hashes: lowercase hex everywhere we look)
    IP = "ip"  # the whole field, an IP-typed column
    ENDS_WITH = "ends_with"
    CONTAINS = "contains"
    TERMS = "terms"  # KQL ``has``: the value as whole terms anywhere (a domain inside a URL)
    UNDER = "under"  # a registry key: the key itself, or its values and subkeys


@dataclass(frozen=True, slots=True)
class Field:
    """One field a value may be recorded in.

    ``prefix`` is a constant written before the value and escaped with it: the backslash
    that makes a hive-relative registry key match only at a key boundary.
    """

    name: str
    match: Match = Match.EQUALS
    prefix: str = ""


@dataclass(frozen=True, slots=True)
class Source:
    """One place to look on a platform: a table, data model dataset or index pattern.

    ``where`` is a constant pre-filter written before the field conditions (the DNS
    ``ActionType`` of Defender's DeviceEvents); it never holds indicator text.
    """

    name: str
    fields: tuple[Field, ...]
    where: str = ""


_BACKSLASH: Final = "\\"
_HASH_TYPES: Final = frozenset({T.MD5, T.SHA1, T.SHA256, T.SHA512, T.IMPHASH})

# ---------------------------------------------------------------- value preparation

_HIVES: Final = frozenset({
    "HKEY_LOCAL_MACHINE", "HKLM", "HKEY_CURRENT_USER", "HKCU", "HKEY_CLASSES_ROOT", "HKCR", "HKEY_USERS", "HKU",
    "HKEY_CURRENT_CONFIG", "HKCC", "HKEY_PERFORMANCE_DATA",
})


def _key_below_hive(value: str) -> str:
    """The hive-relative part of a registry key.

    Logs spell the hive differently (Sysmon ``HKLM\\``, Defender ``HKEY_LOCAL_MACHINE\\``,
    the kernel ``\\REGISTRY\\MACHINE\\``), and ``HKCU`` is ``HKU\\<SID>`` in most of them, so
    hunts match on what follows the hive.
    """
    head, _, rest = value.lstrip("\\").partition("\\")
    if head.strip("<>").rstrip(":").upper() in _HIVES:
        key = rest
    elif head.upper() == "REGISTRY":  # \REGISTRY\MACHINE\SOFTWARE\...
        key = rest.partition("\\")[2]
    else:
        key = value
    return key.strip("\\")


def search_text(kind: IndicatorType, value: str) -> str:
    """The text searched for: hashes lowercased, registry keys without their hive (empty for a hive alone).

    The per-indicator queries here and the Sigma exporter's rules search the same text.
    """
    if kind in _HASH_TYPES:
        return value.lower()
    if kind is T.REGISTRY_KEY:
        return _key_below_hive(value)
    return value


def _problem(kind: IndicatorType, value: str) -> str | None:
    """Why no query can mean ``value``: empty, unencodable, a registry hive alone (``None``: it can)."""
    if not isinstance(value, str) or not value.strip():
        return f"{kind} indicator has an empty value"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"{kind} indicator is not valid Unicode (lone surrogate)"
    if not search_text(kind, value):
        return f"registry key {value!r} names no key below its hive"
    return None


def _check_value(kind: IndicatorType, value: str) -> None:
    problem = _problem(kind, value)
    if problem is not None:
        raise HuntingError(problem, kind=kind, value=value)


# ---------------------------------------------------------------- dialect base


class Dialect:
    """A query language as tokens, with the machinery that lays them out.

    ``condition_templates`` map a :class:`Match` to a ``str.format`` template using
    ``{field}`` and either ``{values}`` (one comparison against the joined list) or
    ``{value}`` (one comparison per value, joined with ``or_token``). ``value_templates``
    wrap the escaped value (``{}``); a template tuple writes one pattern per entry.
    Templates are filled in a single ``str.format`` pass, which never rescans what it
    inserted, so text inside a value cannot be read as a placeholder.
    """

    platform: ClassVar[str]
    max_query_chars: ClassVar[int]
    sources: ClassVar[Mapping[IndicatorType, tuple[Source, ...]]]
    quote: ClassVar[str] = '"'
    escapes: ClassVar[Mapping[str, str]] = {}
    value_templates: ClassVar[Mapping[Match, tuple[str, ...]]] = {}
    condition_templates: ClassVar[Mapping[Match, str]]
    folds_case: ClassVar[frozenset[Match]] = frozenset()  # matches whose values this dialect lowercases
    list_separator: ClassVar[str] = ", "
    or_token: ClassVar[str] = " or "
    and_token: ClassVar[str] = " and "
    group_template: ClassVar[str] = "({})"
    leg_template: ClassVar[str] = "{source} where {condition}"
    leg_separator: ClassVar[str] = "\n"
    query_template: ClassVar[str] = "{legs}"

    # -- literals: the one place each dialect escapes

    def escape(self, text: str) -> str:
        """``text`` as the inside of a quoted literal of this dialect."""
        return "".join(self.escapes.get(ch, ch) for ch in text)

    def literal(self, text: str) -> str:
        return self.quote + self.escape(text) + self.quote

    # -- queries

    def supports(self, kind: IndicatorType) -> bool:
        return kind in self.sources

    def query(self, kind: IndicatorType, terms: Sequence[str]) -> str:
        """One query finding any of ``terms`` (prepared values of one type)."""
        legs = [self.leg(source, terms) for source in self.sources[kind]]
        return self.query_template.format(legs=self.leg_separator.join(legs))

    def leg(self, source: Source, terms: Sequence[str]) -> str:
        """One table's part of the query."""
        return self.leg_template.format(source=source.name, condition=self.leg_condition(source, terms))

    def leg_condition(self, source: Source, terms: Sequence[str]) -> str:
        """A table's filter: its pre-filter, then its fields' conditions or-ed."""
        condition = self.or_token.join(self.condition(field, terms) for field in source.fields)
        if not source.where:
            return condition
        if len(source.fields) > 1:
            condition = self.group_template.format(condition)
        return source.where + self.and_token + condition

    def condition(self, field: Field, terms: Sequence[str]) -> str:
        template = self.condition_templates[field.match]
        patterns = [p for term in terms for p in self.patterns(field, term)]
        if "{values}" in template:
            return template.format(field=field.name, values=self.list_separator.join(patterns))
        parts = [template.format(field=field.name, value=p) for p in patterns]
        return parts[0] if len(parts) == 1 else self.group_template.format(self.or_token.join(parts))

    def patterns(self, field: Field, term: str) -> list[str]:
        """The literal(s) ``term`` is written as in ``field``'s comparison."""
        text = field.prefix + term
        if field.match in self.folds_case:
            text = text.lower()
        body = self.escape(text)
        templates = self.value_templates.get(field.match) or (self.quote + "{}" + self.quote,)
        return [template.format(body) for template in templates]

    def queries(self, kind: IndicatorType, terms: Sequence[str]) -> list[str]:
        """Queries covering every term once, each within ``max_query_chars``."""
        return _chunked(lambda chunk: self.query(kind, chunk), terms, self.max_query_chars, self.platform, kind)


def _chunked(
    render: Callable[[Sequence[str]], str], terms: Sequence[str], limit: int, platform: str, kind: IndicatorType
) -> list[str]:
    """Greedy chunks of ``terms``: each the longest run whose rendering fits ``limit``.

    The rendering grows with every term, so the longest fitting run is found by doubling
    then bisecting: O(log n) renders per chunk instead of one per term.
    """
    out: list[str] = []
    start = 0
    while start < len(terms):
        count = _longest_fit(render, terms, start, limit)
        if count == 0:
            value = terms[start]
            raise HuntingError(
                f"a {platform} query for the {kind} indicator {value[:60]!r}... exceeds {limit} characters",
                kind=kind, value=value,
            )
        out.append(render(terms[start : start + count]))
        start += count
    return out


def _longest_fit(render: Callable[[Sequence[_T]], str], terms: Sequence[_T], start: int, limit: int) -> int:
    """How many terms from ``start`` fit in one rendering (0: not even one)."""

    def fits(n: int) -> bool:
        return len(render(terms[start : start + n])) <= limit

    remaining = len(terms) - start
    good, probe = 0, 1  # the first ``good`` terms fit
    while probe <= remaining and fits(probe):
        good, probe = probe, probe * 2
    bad = min(probe, remaining + 1)  # known not to fit, or past the end
    while bad - good > 1:
        mid = (good + bad) // 2
        good, bad = (mid, bad) if fits(mid) else (good, mid)
    return good


# ---------------------------------------------------------------- Splunk SPL


def _dm(dataset: str, *fields: Field) -> Source:
    return Source(dataset, fields)


_SPL_HASHES = (
    _dm("Endpoint.Processes", Field("Processes.process_hash", Match.CONTAINS)),
    _dm("Endpoint.Filesystem", Field("Filesystem.file_hash", Match.CONTAINS)),
)
_SPL_IPS = (
    _dm("Network_Traffic.All_Traffic", Field("All_Traffic.src", Match.IP), Field("All_Traffic.dest", Match.IP)),
    _dm("Authentication", Field("Authentication.src", Match.IP)),
    _dm("Network_Resolution.DNS", Field("DNS.answer", Match.IP)),
)


class SplunkDialect(Dialect):
    """Splunk SPL over the Common Information Model, one ``tstats`` per data-model field.

    Each field gets its own ``tstats ... by <field>`` leg (``tstats`` drops rows whose ``by``
    fields are null, so fields are never grouped together), renamed to ``matched_value``
    and tagged with ``matched_field``, the legs joined with ``append``. Hash fields are
    matched as substrings: the Sysmon add-on fills ``process_hash`` with the whole
    ``MD5=...,SHA256=...,IMPHASH=...`` list, which is also where an imphash is found.

    Limit: Splunk documents no maximum search length (``limits.conf`` caps results, not
    search text); 10,000 characters is a conservative practical bound that keeps a search
    pasteable into the search bar and savable as a saved search or dashboard panel.
    """

    platform = "splunk"
    max_query_chars = 10_000
    escapes = {"\\": "\\\\", '"': '\\"'}
    #: Characters never written into an SPL literal: ``*`` cannot be escaped (search manual,
    #: "Backslashes"), a backtick starts a macro or a triple-backtick comment, ``$`` delimits
    #: a dashboard or alert-action token.
    unsafe: ClassVar[str] = "*`$"
    value_templates = {
        Match.ENDS_WITH: ('"*{}"',),
        Match.CONTAINS: ('"*{}*"',),
        Match.UNDER: ('"*{}"', '"*{}\\\\*"'),
    }
    condition_templates = {match: "{field} IN ({values})" for match in Match if match is not Match.TERMS}
    or_token = " OR "
    and_token = " AND "
    leg_template = (
        "| tstats summariesonly=false allow_old_summaries=true count min(_time) AS first_seen"
        " max(_time) AS last_seen from datamodel={source} where {condition} by {field}\n"
        "| rename {field} AS matched_value\n"
        '| eval matched_field="{field}"'
    )
    query_template = "{legs}\n| convert ctime(first_seen) ctime(last_seen)"
    sources = {
        T.MD5: _SPL_HASHES, T.SHA1: _SPL_HASHES, T.SHA256: _SPL_HASHES, T.SHA512: _SPL_HASHES,
        T.IMPHASH: (_SPL_HASHES[0],),
        T.DOMAIN: (
            _dm("Network_Resolution.DNS", Field("DNS.query")),
            _dm("Web", Field("Web.url_domain"), Field("Web.dest")),
        ),
        T.IPV4: _SPL_IPS, T.IPV6: _SPL_IPS,
        T.URL: (_dm("Web", Field("Web.url", Match.EXACT)),),
        T.EMAIL: (_dm("Email", Field("All_Email.src_user"), Field("All_Email.recipient")),),
        T.FILENAME: (
            _dm("Endpoint.Processes", Field("Processes.process_name")),
            _dm("Endpoint.Filesystem", Field("Filesystem.file_name")),
        ),
        T.FILE_PATH: (
            _dm("Endpoint.Processes", Field("Processes.process_path")),
            _dm("Endpoint.Filesystem", Field("Filesystem.file_path")),
        ),
        T.REGISTRY_KEY: (_dm("Endpoint.Registry", Field("Registry.registry_path", Match.UNDER, prefix="\\")),),
        T.USER_AGENT: (_dm("Web", Field("Web.http_user_agent", Match.EXACT)),),
    }

    def escape(self, text: str) -> str:
        """The inside of an SPL search literal; characters SPL cannot hold literally become ``*``."""
        return "".join("*" if self.is_unsafe(ch) else self.escapes.get(ch, ch) for ch in text)

    def is_unsafe(self, ch: str) -> bool:
        return ch in self.unsafe or not ch.isprintable()

    def needs_exact(self, field: Field, term: str) -> bool:
        return any(self.is_unsafe(ch) for ch in field.prefix + term)

    def exact_literal(self, text: str) -> str:
        """``text`` as an eval expression that is exactly ``text``: ``urldecode`` of its
        UTF-8 percent-encoding, whose characters (letters, digits, ``%._-~``) need no escape."""
        return 'urldecode("' + urllib.parse.quote(text, safe="") + '")'

    def query(self, kind: IndicatorType, terms: Sequence[str]) -> str:
        legs = [
            leg
            for source in self.sources[kind]
            for field in source.fields
            for leg in self.field_legs(source, field, terms)
        ]
        return self.query_template.format(legs=legs[0] + "".join(f"\n| append [\n{leg}\n]" for leg in legs[1:]))

    def field_legs(self, source: Source, field: Field, terms: Sequence[str]) -> list[str]:
        """The plain leg for values SPL can hold, and a narrowed leg for those it cannot."""
        plain = [t for t in terms if not self.needs_exact(field, t)]
        special = [t for t in terms if self.needs_exact(field, t)]
        legs = [self.field_leg(source, field, plain)] if plain else []
        if special:
            check = self.or_token.join(self.exact_check(field, t) for t in special)
            legs.append(self.field_leg(source, field, special) + "\n| where " + check)
        return legs

    def field_leg(self, source: Source, field: Field, terms: Sequence[str]) -> str:
        return self.leg_template.format(source=source.name, condition=self.condition(field, terms), field=field.name)

    def exact_check(self, field: Field, term: str) -> str:
        """An eval test that ``matched_value`` matches ``term`` literally, as ``field.match`` says."""
        text = field.prefix + term
        match field.match:
            case Match.ENDS_WITH:
                return self._ends_with(text)
            case Match.CONTAINS:
                return self._contains(text)
            case Match.UNDER:
                return f"({self._ends_with(text)} OR {self._contains(text + _BACKSLASH)})"
            case _:
                return f"lower(matched_value)==lower({self.exact_literal(text)})"

    def _ends_with(self, text: str) -> str:
        lit = self.exact_literal(text)
        return f"lower(substr(matched_value, max(len(matched_value)-len({lit})+1, 1)))==lower({lit})"

    def _contains(self, text: str) -> str:
        # Splitting on the text removes every occurrence, so the value is shorter iff it held one.
        lit = self.exact_literal(text)
        return f'len(lower(matched_value))!=len(mvjoin(split(lower(matched_value), lower({lit})), ""))'


# ---------------------------------------------------------------- Microsoft KQL


def _t(table: str, *fields: Field, where: str = "") -> Source:
    return Source(table, fields, where)


def _kql_hash(algo: str) -> tuple[Source, ...]:
    """Defender's per-algorithm hash columns, then Sentinel's ASIM and CEF ones."""
    own, parent = Field(algo, Match.EXACT), Field("InitiatingProcess" + algo, Match.EXACT)
    return (
        _t("DeviceProcessEvents", own, parent),
        _t("DeviceFileEvents", own, parent),
        _t("DeviceImageLoadEvents", own, parent),
        _t("DeviceEvents", own, parent),
        _t("DeviceNetworkEvents", parent),
        _t("imProcessCreate", *(Field(f"{who}Process{algo}", Match.EXACT) for who in ("Target", "Acting"))),
        _t("imFileEvent", Field("TargetFile" + algo, Match.EXACT)),
        _t("CommonSecurityLog", Field("FileHash", Match.EXACT)),
    )


def _kql_ip(email_column: str) -> tuple[Source, ...]:
    return (
        _t("DeviceNetworkEvents", Field("RemoteIP", Match.IP)),
        _t("DeviceLogonEvents", Field("RemoteIP", Match.IP)),
        _t("CommonSecurityLog", Field("SourceIP", Match.IP), Field("DestinationIP", Match.IP)),
        _t("SigninLogs", Field("IPAddress", Match.IP)),
        _t("AADSignInEventsBeta", Field("IPAddress", Match.IP)),
        _t("EmailEvents", Field(email_column, Match.IP)),
    )


class KqlDialect(Dialect):
    """Microsoft KQL for Defender XDR advanced hunting and Microsoft Sentinel.

    One ``union isfuzzy=true`` of per-table legs: a table missing from the workspace
    (Defender tables without the XDR connector, Sentinel's ASIM parsers and CEF table in
    Defender alone) is skipped with a warning instead of failing the query (KQL ``union``
    operator, ``isfuzzy``). Each leg filters on its own columns and adds ``HuntTable``.
    The values are written once, in a ``datatable`` that list comparisons (``in~``,
    ``has_any``) read, which keeps a bulk query to one copy of each value.

    Limit: 10,000 characters, the query length a Sentinel analytics rule accepts (Sentinel
    also refuses to save over-long hunting queries, Azure/Azure-Sentinel#1517), and well
    inside the documented 64 KB cap on a log search alert rule's properties (Azure Monitor
    service limits).
    """

    platform = "kql"
    max_query_chars = 10_000
    values_name: ClassVar[str] = "HuntValues"
    escapes = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    condition_templates = {
        Match.EQUALS: "{field} in~ ({values})",
        Match.EXACT: "{field} in~ ({values})",
        Match.IP: "{field} in ({values})",
        Match.TERMS: "{field} has_any ({values})",
        Match.ENDS_WITH: "{field} endswith {value}",
    }
    leg_template = '({source}\n    | where {condition}\n    | extend HuntTable = "{source}")'
    leg_separator = ",\n    "
    query_template = "union isfuzzy=true\n    {legs}"
    single_template: ClassVar[str] = '{source}\n| where {condition}\n| extend HuntTable = "{source}"'
    sources = {
        T.MD5: _kql_hash("MD5"), T.SHA1: _kql_hash("SHA1"),
        T.SHA256: (*_kql_hash("SHA256"), _t("EmailAttachmentInfo", Field("SHA256", Match.EXACT))),
        T.SHA512: (
            _t("imProcessCreate", *(Field(f"{who}ProcessSHA512", Match.EXACT) for who in ("Target", "Acting"))),
            _t("imFileEvent", Field("TargetFileSHA512", Match.EXACT)),
            _t("CommonSecurityLog", Field("FileHash", Match.EXACT)),
        ),
        T.IMPHASH: (
            _t("imProcessCreate", *(Field(f"{who}ProcessIMPHASH", Match.EXACT) for who in ("Target", "Acting"))),
        ),
        T.DOMAIN: (
            _t("DeviceNetworkEvents", Field("RemoteUrl", Match.TERMS)),
            _t("DeviceEvents", Field("tostring(parse_json(AdditionalFields).DnsQueryString)"),
               where='ActionType == "DnsQueryResponse"'),
            _t("DnsEvents", Field("Name")),
            _t("_Im_Dns", Field("DnsQuery")),
            _t("EmailUrlInfo", Field("UrlDomain")),
            _t("UrlClickEvents", Field("Url", Match.TERMS)),
            _t("CommonSecurityLog", Field("DestinationHostName"), Field("RequestURL", Match.TERMS)),
        ),
        T.IPV4: _kql_ip("SenderIPv4"), T.IPV6: _kql_ip("SenderIPv6"),
        T.URL: (
            _t("DeviceNetworkEvents", Field("RemoteUrl")),
            _t("EmailUrlInfo", Field("Url")),
            _t("UrlClickEvents", Field("Url")),
            _t("imWebSession", Field("Url")),
            _t("CommonSecurityLog", Field("RequestURL")),
        ),
        T.EMAIL: (
            _t("EmailEvents", *map(Field, ("SenderFromAddress", "SenderMailFromAddress", "RecipientEmailAddress"))),
        ),
        T.FILENAME: (
            _t("DeviceProcessEvents", Field("FileName"), Field("InitiatingProcessFileName")),
            _t("DeviceFileEvents", Field("FileName")),
            _t("DeviceImageLoadEvents", Field("FileName")),
            _t("EmailAttachmentInfo", Field("FileName")),
        ),
        T.FILE_PATH: (
            _t("DeviceProcessEvents", Field("FolderPath"), Field("InitiatingProcessFolderPath")),
            _t("DeviceFileEvents", Field("FolderPath")),
            _t("DeviceImageLoadEvents", Field("FolderPath")),
        ),
        T.REGISTRY_KEY: (_t("DeviceRegistryEvents", Field("RegistryKey", Match.ENDS_WITH, prefix="\\")),),
        T.USER_AGENT: (
            _t("SigninLogs", Field("UserAgent", Match.EXACT)),
            _t("AADSignInEventsBeta", Field("UserAgent", Match.EXACT)),
            _t("CommonSecurityLog", Field("RequestClientApplication", Match.EXACT)),
            _t("imWebSession", Field("HttpUserAgent", Match.EXACT)),
            _t("W3CIISLog", Field("csUserAgent", Match.EXACT)),
        ),
    }

    def query(self, kind: IndicatorType, terms: Sequence[str]) -> str:
        sources = self.sources[kind]
        if len(sources) == 1:  # nothing to union
            body = self.single_template.format(source=sources[0].name, condition=self.leg_condition(sources[0], terms))
        else:
            body = super().query(kind, terms)
        if not any(self.reads_list(f) for source in self.sources[kind] for f in source.fields):
            return body
        rows = ",\n    ".join(self.literal(term) for term in terms)
        return f"let {self.values_name} = datatable(Value: string) [\n    {rows}\n];\n{body}"

    def reads_list(self, field: Field) -> bool:
        """Whether ``field`` compares against the shared ``datatable`` rather than inline literals."""
        return "{values}" in self.condition_templates[field.match] and not field.prefix

    def condition(self, field: Field, terms: Sequence[str]) -> str:
        if self.reads_list(field):
            return self.condition_templates[field.match].format(field=field.name, values=self.values_name)
        return super().condition(field, terms)


# ---------------------------------------------------------------- Elastic ES|QL


def _ecs(*fields: Field) -> tuple[Source, ...]:
    return (Source("logs-*", fields),)


class EsqlDialect(Dialect):
    """Elastic ES|QL over ECS fields in the ``logs-*`` data streams Elastic Agent writes.

    Text that Windows and DNS treat case-insensitively is compared after ``TO_LOWER``;
    hashes as stored (ECS hashes are lowercase hex); addresses through ``TO_IP``. ES|QL
    rejects a column that no index in ``FROM`` maps, so a deployment without, say, DLL
    events must drop that condition. ``email.to.address`` holds a list: ES|QL compares a
    multi-valued field as null, so only single-recipient mail is found there.

    Limit: 100,000 characters, a tenth of the hard cap ES|QL puts on a statement
    (``EsqlParser.MAX_LENGTH`` = 1,000,000, "ESQL statement is too large").
    """

    platform = "elastic"
    max_query_chars = 100_000
    escapes = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    value_templates = {Match.IP: ('TO_IP("{}")',)}
    folds_case = frozenset({Match.EQUALS})
    condition_templates = {
        Match.EQUALS: "TO_LOWER({field}) IN ({values})",
        Match.EXACT: "{field} IN ({values})",
        Match.IP: "{field} IN ({values})",
    }
    or_token = "\n    OR "
    and_token = " AND "
    leg_template = "FROM {source}\n| WHERE {condition}\n| SORT @timestamp DESC\n| LIMIT 10000"
    sources = {
        **{
            kind: _ecs(*(Field(f"{obj}.hash.{kind.value}", Match.EXACT) for obj in ("file", "process", "dll")))
            for kind in (T.MD5, T.SHA1, T.SHA256, T.SHA512)
        },
        T.IMPHASH: _ecs(*(Field(f"{obj}.pe.imphash", Match.EXACT) for obj in ("file", "process", "dll"))),
        T.DOMAIN: _ecs(Field("dns.question.name"), Field("url.domain"), Field("destination.domain")),
        T.IPV4: _ecs(Field("source.ip", Match.IP), Field("destination.ip", Match.IP)),
        T.IPV6: _ecs(Field("source.ip", Match.IP), Field("destination.ip", Match.IP)),
        T.URL: _ecs(Field("url.full", Match.EXACT), Field("url.original", Match.EXACT)),
        T.EMAIL: _ecs(Field("email.from.address"), Field("email.sender.address"), Field("email.to.address")),
        T.FILENAME: _ecs(Field("file.name"), Field("process.name"), Field("dll.name")),
        T.FILE_PATH: _ecs(Field("file.path"), Field("process.executable"), Field("dll.path")),
        T.REGISTRY_KEY: _ecs(Field("registry.key")),
        T.USER_AGENT: _ecs(Field("user_agent.original", Match.EXACT)),
    }


# ---------------------------------------------------------------- the test dialect

#: Every type some production dialect can hunt; the test dialect covers them all.
HUNTABLE_TYPES: Final[frozenset[IndicatorType]] = frozenset(
    SplunkDialect.sources.keys() | KqlDialect.sources.keys() | EsqlDialect.sources.keys()
)


class TestDialect(Dialect):
    """A dialect made only of tokens, as pySigma's test backend is; the shared machinery's tests run on it.

    SQL-style literals (a quote doubled inside single quotes), every :class:`Match`, and
    two legs per type so the layout tokens are exercised.
    """

    __test__: ClassVar[bool] = False  # not a pytest class
    platform = "test"
    max_query_chars = 1_000
    quote = "'"
    escapes = {"'": "''"}
    condition_templates = {
        Match.EQUALS: "{field} = any[{values}]",
        Match.EXACT: "{field} == any[{values}]",
        Match.IP: "{field} ip any[{values}]",
        Match.TERMS: "{field} has any[{values}]",
        Match.ENDS_WITH: "{field} endswith {value}",
        Match.CONTAINS: "{field} contains {value}",
        Match.UNDER: "{field} under {value}",
    }
    leg_template = "{source}: {condition}"
    leg_separator = "; "
    sources = {
        kind: (
            Source("first", tuple(Field(f"f_{m.value}", m) for m in Match)),
            Source("second", (Field("g", Match.ENDS_WITH, prefix="/"),), where="kind = 'x'"),
        )
        for kind in HUNTABLE_TYPES
    }


# ---------------------------------------------------------------- Sigma
#
# The one Sigma rule writer: ``queries_for`` (``/api/v1/lookup``), ``bulk_queries``
# (``/api/v1/hunt``) and the Sigma export (``iocflow.export.sigma``, ``/api/v1/export/sigma``,
# ``/api/v1/rules/sigma``) all write their rules with :func:`sigma_rules`.


@dataclass(frozen=True, slots=True)
class _Selection:
    """One Sigma selection: a ``field|modifier`` key, each value written once per (prefix, suffix)."""

    key: str
    affixes: tuple[tuple[str, str], ...] = (("", ""),)


@dataclass(frozen=True, slots=True)
class _SigmaSpec:
    category: str
    product: str | None
    tag: str
    selections: tuple[_Selection, ...]


def _hashes(algo: str) -> _SigmaSpec:
    # Sigma's process_creation ``Hashes`` is Sysmon's "ALGO=value,..." list.
    selection = _Selection("Hashes|contains", ((algo + "=", ""),))
    return _SigmaSpec("process_creation", "windows", "attack.execution", (selection,))


_C2: Final = "attack.command-and-control"

#: Sigma log sources per type (Sigma taxonomy appendix): Sysmon-shaped Windows categories, web proxy logs.
#: A URL also matches as ``cs-host`` with its path and query in ``c-uri`` (see :func:`sigma_matchers`).
SIGMA_SPECS: Final[Mapping[IndicatorType, _SigmaSpec]] = {
    T.MD5: _hashes("MD5"), T.SHA1: _hashes("SHA1"), T.SHA256: _hashes("SHA256"), T.SHA512: _hashes("SHA512"),
    T.IMPHASH: _hashes("IMPHASH"),
    T.DOMAIN: _SigmaSpec("dns_query", "windows", _C2, (_Selection("QueryName"),)),
    T.IPV4: _SigmaSpec("network_connection", "windows", _C2, (_Selection("DestinationIp"),)),
    T.IPV6: _SigmaSpec("network_connection", "windows", _C2, (_Selection("DestinationIp"),)),
    T.URL: _SigmaSpec("proxy", None, _C2, (_Selection("c-uri"),)),
    T.USER_AGENT: _SigmaSpec("proxy", None, _C2, (_Selection("c-useragent"),)),
    T.FILE_PATH: _SigmaSpec("file_event", "windows", "attack.execution", (_Selection("TargetFilename"),)),
    T.FILENAME: _SigmaSpec(
        "file_event", "windows", "attack.execution", (_Selection("TargetFilename|endswith", (("\\", ""), ("/", ""))),)
    ),
    T.REGISTRY_KEY: _SigmaSpec(
        "registry_event", "windows", "attack.persistence",
        (_Selection("TargetObject|endswith", (("\\", ""),)), _Selection("TargetObject|contains", (("\\", "\\"),))),
    ),
}

#: A Sigma rule's size cap: small enough that a backend's rendering of it (field names
#: repeated per value in an OR list) stays within the 10,000-character SPL and KQL limits.
SIGMA_MAX_CHARS: Final = 8_000

#: Indicators per rule, at most: 50 typical values convert to well under the SPL/KQL query
#: size, and a rule stays reviewable; larger groups become several rules.
SIGMA_CHUNK_SIZE: Final = 50

#: iocflow severity -> Sigma level.
SIGMA_LEVELS: Final[Mapping[Severity, str]] = {
    Severity.INFO: "informational", Severity.LOW: "low", Severity.MEDIUM: "medium", Severity.HIGH: "high",
    Severity.CRITICAL: "critical",
}

#: The level of a rule for a value with no severity: a lookup of a value the store does not
#: hold, or ``POST /api/v1/hunt``. Nothing rates it, so it is neither raised nor lowered.
SIGMA_DEFAULT_LEVEL: Final = "medium"

_SIGMA_SPECIAL: Final = {"\\": "\\\\", "*": "\\*", "?": "\\?"}
_TECHNIQUE: Final = re.compile(r"[Tt]\d{4}(?:\.\d{3})?")


def sigma_escape(text: str) -> str:
    """``text`` as a Sigma value that matches it literally: backslash before ``\\ * ?``."""
    return "".join(_SIGMA_SPECIAL.get(ch, ch) for ch in text)


@dataclass(frozen=True, slots=True)
class SigmaIndicator:
    """One indicator as a Sigma rule carries it: what to match, and what the store knows about it.

    ``severity`` gives the rule's level (:data:`SIGMA_DEFAULT_LEVEL` when ``None``),
    ``techniques`` its ATT&CK tags, ``references`` its references (source articles).
    """

    kind: IndicatorType
    value: str
    severity: Severity | None = None
    techniques: tuple[str, ...] = ()
    references: tuple[str, ...] = ()

    @classmethod
    def of(cls, record: IndicatorRecord) -> SigmaIndicator:
        """What a rule says about a stored indicator: its severity, techniques and source article."""
        source = record.source
        references = (source.article_url,) if source is not None and source.article_url else ()
        return cls(record.type, record.value, record.severity, record.techniques, references)

    @property
    def level(self) -> str:
        return SIGMA_DEFAULT_LEVEL if self.severity is None else SIGMA_LEVELS[self.severity]


#: (field|modifier, Sigma-escaped value) pairs, all of which must match.
Matcher = tuple[tuple[str, str], ...]


def sigma_matchers(kind: IndicatorType, value: str) -> list[Matcher]:
    """The alternatives that each detect the indicator (any one matching is a hit).

    A URL matches whole in ``c-uri`` (forward proxies log it whole), or, when it has a host,
    as ``cs-host`` together with its path and query in ``c-uri`` (proxies that log them
    apart); host and path are read as the extractor reads them (``iocflow.extract.url_host``).
    """
    if kind is T.URL:
        matchers: list[Matcher] = [(("c-uri", sigma_escape(value)),)]
        host = url_host(value)
        if host and host != value.lower():
            path = url_path(value).partition("#")[0]  # a fragment never leaves the browser
            matchers.append((("cs-host", sigma_escape(host)), ("c-uri", sigma_escape(_rooted(path)))))
        return matchers
    term = search_text(kind, value)
    return [
        ((selection.key, sigma_escape(prefix + term + suffix)),)
        for selection in SIGMA_SPECS[kind].selections
        for prefix, suffix in selection.affixes
    ]


def _rooted(path: str) -> str:
    return path if path.startswith("/") else "/" + path


@dataclass(frozen=True, slots=True)
class _Group:
    category: str
    product: str | None
    level: str


def sigma_rules(indicators: Iterable[SigmaIndicator], *, today: date | None = None) -> list[str]:
    """Sigma rules (one YAML document each, without ``---``) detecting ``indicators``.

    Indicators are grouped by log source and level in first-seen order; each rule holds at
    most :data:`SIGMA_CHUNK_SIZE` of them and stays within :data:`SIGMA_MAX_CHARS` (one
    indicator too long for that gets a rule of its own). Two values of a type that search for
    the same text (``HKLM\\X``, ``HKEY_LOCAL_MACHINE\\X``) are one; the first names it. An
    indicator of a type with no log source (e-mail, CVE...) or with nothing to match (empty,
    not valid Unicode, a registry hive alone) is left out. ``today`` is the rules' ``date``.
    """
    return [text for text, _ in _sigma_documents(indicators, today)]


def _sigma_documents(
    indicators: Iterable[SigmaIndicator], today: date | None
) -> list[tuple[str, Sequence[SigmaIndicator]]]:
    """The rules with the indicators each holds."""
    groups: dict[_Group, dict[tuple[IndicatorType, str], SigmaIndicator]] = {}
    for indicator in indicators:
        kind = indicator.kind
        if kind not in SIGMA_SPECS or _problem(kind, indicator.value) is not None:
            continue
        spec = SIGMA_SPECS[kind]
        members = groups.setdefault(_Group(spec.category, spec.product, indicator.level), {})
        members.setdefault((kind, search_text(kind, indicator.value)), indicator)
    out: list[tuple[str, Sequence[SigmaIndicator]]] = []
    for group, by_term in groups.items():
        members = list(by_term.values())
        start = 0
        while start < len(members):
            window = members[start : start + SIGMA_CHUNK_SIZE]
            count = _longest_fit(lambda chunk: _sigma_document(group, chunk, today), window, 0, SIGMA_MAX_CHARS) or 1
            out.append((_sigma_document(group, window[:count], today), window[:count]))
            start += count
    return out


def _sigma_document(group: _Group, members: Sequence[SigmaIndicator], today: date | None) -> str:
    """One rule. Its id is the indicator's id (``records.indicator_id``) when it holds one
    indicator, so the same indicator always names the same rule; else a UUIDv5 of its log
    source, level and indicators."""
    if len(members) == 1:
        (only,) = members
        rule_id = indicator_id(only.kind, only.value)
        title = f"iocflow: {only.kind} {_shorten(only.value)}"
        description = f"Matches the {only.kind} indicator {only.value} exported by iocflow."
        falsepositive = "Legitimate activity involving the same value"
    else:
        ids = ",".join(indicator_id(m.kind, m.value) for m in members)
        rule_id = uuid5(f"sigma:{group.category}:{group.product}:{group.level}:{ids}")
        types = ", ".join(dict.fromkeys(m.kind.value for m in members))
        title = f"iocflow: {len(members)} {types} indicators ({group.category})"
        description = f"Matches {len(members)} {types} indicators exported by iocflow."
        falsepositive = "Legitimate activity involving the same values"
    references = list(dict.fromkeys(url for m in members for url in m.references))
    tactics = dict.fromkeys(SIGMA_SPECS[m.kind].tag for m in members)
    techniques = dict.fromkeys(
        f"attack.{technique.lower()}" for m in members for technique in m.techniques if _TECHNIQUE.fullmatch(technique)
    )
    lines = [
        f"title: {_yaml_str(title)}",
        f"id: {rule_id}",
        "status: experimental",
        f"description: {_yaml_str(description)}",
        *(["references:", *(f"  - {_yaml_str(url)}" for url in references)] if references else []),
        "author: iocflow",
        *([f'date: "{today.isoformat()}"'] if today is not None else []),
        "tags:",
        *(f"  - {tag}" for tag in (*tactics, *techniques)),
        "logsource:",
        f"  category: {group.category}",
        *([f"  product: {group.product}"] if group.product else []),
        "detection:",
        "  selection:",
        *_sigma_selection(matcher for m in members for matcher in sigma_matchers(m.kind, m.value)),
        "  condition: selection",
        "falsepositives:",
        f"  - {falsepositive}",
        f"level: {group.level}",
    ]
    return "\n".join(lines) + "\n"


def _sigma_selection(found: Iterable[Matcher]) -> list[str]:
    """A selection as a list of maps (any map matching is a hit): single-field matchers merged
    per field into one list, a several-field matcher (a URL's host and path) a map of its own."""
    by_field: dict[str, list[str]] = {}
    maps: list[dict[str, list[str]]] = []
    for matcher in dict.fromkeys(found):  # distinct, first-seen order
        if len(matcher) == 1:
            ((key, value),) = matcher
            if key not in by_field:
                by_field[key] = []
                maps.append({key: by_field[key]})
            by_field[key].append(value)
        else:
            maps.append({key: [value] for key, value in matcher})
    lines: list[str] = []
    for fields in maps:
        for number, (key, values) in enumerate(fields.items()):
            lines.append(("    - " if number == 0 else "      ") + f"{key}:")
            lines.extend(f"        - {_yaml_str(value)}" for value in values)
    return lines


def _yaml_str(text: str) -> str:
    """A YAML double-quoted scalar that loads back as ``text`` (YAML 1.1 and 1.2).

    Printable ASCII and printable non-ASCII pass; ``\\`` and ``"`` are escaped, and so is
    everything else by code point -- controls, NEL, line/paragraph separators, the BOM, and
    invisible or direction-changing characters -- which a YAML reader would otherwise fold,
    break lines on or reject, or a reader of the rule would not see.
    """
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= code < 0x7F or (code > 0xA0 and ch.isprintable() and code != 0xFEFF):
            out.append(ch)
        elif code <= 0xFF:
            out.append(f"\\x{code:02X}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04X}")
        else:
            out.append(f"\\U{code:08X}")
    out.append('"')
    return "".join(out)


def _shorten(value: str, limit: int = 100) -> str:
    return value if len(value) <= limit else value[:limit] + "..."


def sigma_rule(kind: IndicatorType, value: str, *, about: IndicatorRecord | None = None,
               today: date | None = None) -> str:
    """A complete Sigma rule (YAML) for one indicator: :func:`sigma_rules` of it alone.

    The rule id is the store's indicator id (``records.indicator_id``), so a rule names the
    indicator it came from. ``about`` is what the store holds on the indicator (level,
    tags, references); without it the level is :data:`SIGMA_DEFAULT_LEVEL`.
    """
    _require(kind, value)
    if kind not in SIGMA_SPECS:
        raise HuntingError(f"Sigma has no log source for {kind} indicators", kind=kind, value=value)
    (rule,) = _sigma_within_limit([_sigma_indicator(kind, value, about)], today)
    return rule


def _sigma_indicator(kind: IndicatorType, value: str, about: IndicatorRecord | None) -> SigmaIndicator:
    if about is None:
        return SigmaIndicator(kind, value)
    if about.type is not kind or about.value != value:
        raise HuntingError(f"the record given is of {about.type} {about.value!r}, not of this indicator",
                           kind=kind, value=value)
    return SigmaIndicator.of(about)


def _sigma_within_limit(indicators: Iterable[SigmaIndicator], today: date | None) -> list[str]:
    """:func:`sigma_rules`, refusing an indicator too long for :data:`SIGMA_MAX_CHARS` as the query dialects do."""
    out: list[str] = []
    for text, members in _sigma_documents(indicators, today):
        if len(text) > SIGMA_MAX_CHARS:
            kind, value = members[0].kind, members[0].value
            raise HuntingError(
                f"a sigma query for the {kind} indicator {value[:60]!r}... exceeds {SIGMA_MAX_CHARS} characters",
                kind=kind, value=value,
            )
        out.append(text)
    return out


# ---------------------------------------------------------------- public entry points

SPLUNK: Final = SplunkDialect()
KQL: Final = KqlDialect()
ESQL: Final = EsqlDialect()
_DIALECTS: Final[tuple[Dialect, ...]] = (SPLUNK, KQL, ESQL)

#: Keys of every answer, in order: the three query dialects, then Sigma.
PLATFORMS: Final = ("splunk", "kql", "elastic", "sigma")


def _require(kind: IndicatorType, value: str) -> None:
    if kind not in HUNTABLE_TYPES:
        raise HuntingError(
            f"no hunting query for {kind} indicators: no log field records them "
            f"(huntable: {', '.join(sorted(t.value for t in HUNTABLE_TYPES))})",
            kind=kind, value=value,
        )
    _check_value(kind, value)


def queries_for(
    kind: IndicatorType, value: str, *, about: IndicatorRecord | None = None, today: date | None = None
) -> dict[str, str]:
    """Hunting queries for one indicator: ``{"splunk", "kql", "elastic", "sigma"}`` -> query text.

    ``sigma`` is a complete Sigma rule, the one the Sigma export writes for this indicator
    alone (:func:`sigma_rules`): ``about`` is what the store holds on the indicator (its
    severity gives the level, its techniques and source article tags and references; without
    it the level is :data:`SIGMA_DEFAULT_LEVEL`), ``today`` the rule's date. A platform with
    no place to look for ``kind`` is left out (e-mail has no Sigma log source). Raises
    :class:`HuntingError` for a type no platform records, an empty value, or a value too
    long for a platform's query limit.
    """
    _require(kind, value)
    term = search_text(kind, value)
    out: dict[str, str] = {}
    for dialect in _DIALECTS:
        if dialect.supports(kind):
            (out[dialect.platform],) = dialect.queries(kind, [term])
    if kind in SIGMA_SPECS:
        (out["sigma"],) = _sigma_within_limit([_sigma_indicator(kind, value, about)], today)
    return out


def bulk_queries(indicators: Iterable[tuple[IndicatorType, str]], *, today: date | None = None) -> dict[str, list[str]]:
    """Queries covering many indicators, grouped by type, chunked to each platform's limit.

    Every key of :data:`PLATFORMS` is present; each list holds queries (for ``sigma``,
    complete single-document rules from :func:`sigma_rules`, grouped by log source, at the
    default level, dated ``today``) that together cover every distinct indicator exactly once,
    in first-seen order, each query within its platform's limit. The whole input is checked
    before anything is rendered: one unhuntable indicator raises :class:`HuntingError`
    (filter with :data:`HUNTABLE_TYPES` first).
    """
    groups = _group(indicators)
    out: dict[str, list[str]] = {platform: [] for platform in PLATFORMS}
    for kind, (_, terms) in groups.items():
        for dialect in _DIALECTS:
            if dialect.supports(kind):
                out[dialect.platform].extend(dialect.queries(kind, terms))
    out["sigma"] = _sigma_within_limit(
        (SigmaIndicator(kind, value) for kind, (originals, _) in groups.items() for value in originals), today
    )
    return out


def _group(indicators: Iterable[tuple[IndicatorType, str]]) -> dict[IndicatorType, tuple[list[str], list[str]]]:
    """Distinct (original, searched-for) values per type, in first-seen order.

    Two values that search for the same text (``HKLM\\X`` and ``HKEY_LOCAL_MACHINE\\X``) are
    one term; the first one seen names it.
    """
    groups: dict[IndicatorType, tuple[list[str], list[str]]] = {}
    seen: set[tuple[IndicatorType, str]] = set()
    for kind, value in indicators:
        _require(kind, value)
        term = search_text(kind, value)
        if (kind, term) in seen:
            continue
        seen.add((kind, term))
        originals, terms = groups.setdefault(kind, ([], []))
        originals.append(value)
        terms.append(term)
    return groups
