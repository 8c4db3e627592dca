"""Hunting queries: right fields per type and platform, literal-safe escaping, chunked bulk, valid Sigma.

The escaping tests read the queries back with a tiny lexer per dialect, written from
that language's own grammar (Kusto.Language ``LexicalGrammar``, Elasticsearch
``lexer/Expression.g4``, Splunk's documented ``\\\\``/``\\"`` escapes): a value must come
back out of its literal unchanged, and everything outside the literals must be exactly
the text a harmless placeholder value produces.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sigma.backends.elasticsearch import ESQLBackend, LuceneBackend
from sigma.backends.kusto import KustoBackend
from sigma.backends.splunk import SplunkBackend
from sigma.collection import SigmaCollection
from sigma.pipelines.microsoftxdr import microsoft_xdr_pipeline
from sigma.pipelines.sentinelasim import sentinel_asim_pipeline
from sigma.types import SigmaString

from iocflow.enrich import hunting
from iocflow.enrich.hunting import (
    ESQL,
    HUNTABLE_TYPES,
    KQL,
    PLATFORMS,
    SIGMA_DEFAULT_LEVEL,
    SIGMA_MAX_CHARS,
    SIGMA_SPECS,
    SPLUNK,
    Dialect,
    SigmaIndicator,
    Field,
    HuntingError,
    Match,
    TestDialect,
    bulk_queries,
    queries_for,
    sigma_escape,
    sigma_rule,
    sigma_rules,
)
from iocflow.exceptions import IocflowError
from iocflow.store.records import indicator_id
from iocflow.store.views import IndicatorRecord, SourceRef
from iocflow.store.vocabulary import Confidence, Reputation, Severity, SourceCategory
from iocflow.store.vocabulary import IndicatorType as T

SAMPLES: dict[T, str] = {
    T.MD5: "d41d8cd98f00b204e9800998ecf8427e",
    T.SHA1: "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    T.SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    T.SHA512: hashlib.sha512(b"").hexdigest(),
    T.IMPHASH: "f34d5f2d4577ed6d9ceec516c1f5a744",
    T.DOMAIN: "evil.example",
    T.IPV4: "203.0.113.7",
    T.IPV6: "2001:db8::7",
    T.URL: "http://evil.example/a?b=c",
    T.EMAIL: "phish@evil.example",
    T.FILENAME: "evil.exe",
    T.FILE_PATH: "C:\\Users\\Public\\evil.exe",
    T.REGISTRY_KEY: "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
    T.USER_AGENT: "Mozilla/5.0 (evil)",
}

HOSTILE = [
    'a"b',
    "back\\slash\\",
    "pipe | delete",
    '"; drop table x; --',
    "new\nline\r\n| where 1==1",
    "`macro(1)` and ```comment```",
    "*wild*card?",
    "$token$ {braces} [brackets] (parens)",
    "tab\there \x00 nul \x1b esc \u2028 ls \ufeff bom",
    "\"\"\" triple",
    "ends with backslash\\",
    "// not a comment /* nor this */",
    "'single' quotes",
    "unicode é 漢字 🦊",
]


# ---------------------------------------------------------------- what is huntable


def test_huntable_types_are_those_with_log_fields():
    assert HUNTABLE_TYPES == set(SAMPLES)
    assert set(SIGMA_SPECS) == set(SAMPLES) - {T.EMAIL}


@pytest.mark.parametrize("kind", sorted(set(T) - HUNTABLE_TYPES, key=str), ids=str)
def test_unhuntable_types_raise_a_value_error(kind):
    with pytest.raises(HuntingError, match=f"no hunting query for {kind} indicators") as caught:
        queries_for(kind, "CVE-2024-0001")
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, IocflowError)
    assert caught.value.kind is kind


@pytest.mark.parametrize("value", ["", "   ", "\n"])
def test_empty_values_raise(value):
    with pytest.raises(HuntingError, match="empty value"):
        queries_for(T.DOMAIN, value)


def test_registry_key_naming_only_a_hive_raises():
    with pytest.raises(HuntingError, match="no key below its hive"):
        queries_for(T.REGISTRY_KEY, "HKLM\\")


def test_lone_surrogates_raise():
    with pytest.raises(HuntingError, match="not valid Unicode"):
        queries_for(T.FILENAME, "a\ud800b")


@pytest.mark.parametrize("kind", sorted(SAMPLES, key=str), ids=str)
def test_every_huntable_type_gets_each_platform_that_records_it(kind):
    queries = queries_for(kind, SAMPLES[kind])
    expected = [p for p in PLATFORMS if not (p == "sigma" and kind is T.EMAIL)]
    assert list(queries) == expected
    assert queries == queries_for(kind, SAMPLES[kind])  # deterministic


# ---------------------------------------------------------------- fields and tables per type

EXPECTED: dict[T, dict[str, list[str]]] = {
    T.SHA256: {
        "splunk": ["datamodel=Endpoint.Processes", 'Processes.process_hash IN ("*e3b0c442',
                   "datamodel=Endpoint.Filesystem", "Filesystem.file_hash IN"],
        "kql": ["(DeviceFileEvents\n", "(DeviceProcessEvents\n", "SHA256 in~ (HuntValues)",
                "InitiatingProcessSHA256 in~", "(EmailAttachmentInfo\n", "(imProcessCreate\n", "TargetProcessSHA256",
                "union isfuzzy=true"],
        "elastic": ["FROM logs-*", "file.hash.sha256 IN (", "process.hash.sha256 IN (", "dll.hash.sha256 IN ("],
        "sigma": ["category: process_creation", "Hashes|contains:", '"SHA256=e3b0c442'],
    },
    T.MD5: {
        "splunk": ["Processes.process_hash", "Filesystem.file_hash"],
        "kql": ["MD5 in~ (HuntValues)", "InitiatingProcessMD5 in~", "(DeviceImageLoadEvents\n", "FileHash in~"],
        "elastic": ["file.hash.md5 IN (", "process.hash.md5 IN (", "dll.hash.md5 IN ("],
        "sigma": ['"MD5=d41d8cd9'],
    },
    T.SHA1: {
        "kql": ["SHA1 in~ (HuntValues)", "InitiatingProcessSHA1 in~"],
        "elastic": ["file.hash.sha1 IN ("],
        "sigma": ['"SHA1=da39a3ee'],
    },
    T.SHA512: {
        "splunk": ["Processes.process_hash", "Filesystem.file_hash"],
        "kql": ["TargetProcessSHA512 in~", "TargetFileSHA512 in~", "FileHash in~"],
        "elastic": ["file.hash.sha512 IN (", "process.hash.sha512 IN ("],
        "sigma": ['"SHA512=cf83e135'],
    },
    T.IMPHASH: {
        "splunk": ['Processes.process_hash IN ("*f34d5f2d'],
        "kql": ["TargetProcessIMPHASH in~", "ActingProcessIMPHASH in~"],
        "elastic": ["file.pe.imphash IN (", "process.pe.imphash IN (", "dll.pe.imphash IN ("],
        "sigma": ['"IMPHASH=f34d5f2d'],
    },
    T.DOMAIN: {
        "splunk": ["datamodel=Network_Resolution.DNS", 'DNS.query IN ("evil.example")', "Web.url_domain IN",
                   "Web.dest IN"],
        "kql": ["RemoteUrl has_any (HuntValues)", 'ActionType == "DnsQueryResponse" and', "DnsQueryString) in~",
                "(DnsEvents\n", "Name in~ (HuntValues)", "UrlDomain in~", "DestinationHostName in~", "(_Im_Dns\n"],
        "elastic": ['TO_LOWER(dns.question.name) IN ("evil.example")', "TO_LOWER(url.domain) IN",
                    "TO_LOWER(destination.domain) IN"],
        "sigma": ["category: dns_query", "QueryName:", '"evil.example"'],
    },
    T.IPV4: {
        "splunk": ["datamodel=Network_Traffic.All_Traffic", 'All_Traffic.dest IN ("203.0.113.7")', "All_Traffic.src IN",
                   "Authentication.src IN"],
        "kql": ["RemoteIP in (HuntValues)", "DestinationIP in (HuntValues)", "SourceIP in (HuntValues)",
                "(CommonSecurityLog\n", "SenderIPv4 in", "IPAddress in (HuntValues)"],
        "elastic": ['source.ip IN (TO_IP("203.0.113.7"))', 'destination.ip IN (TO_IP("203.0.113.7"))'],
        "sigma": ["category: network_connection", "DestinationIp:", "attack.command-and-control"],
    },
    T.IPV6: {
        "kql": ["RemoteIP in (HuntValues)", "SenderIPv6 in"],
        "elastic": ['destination.ip IN (TO_IP("2001:db8::7"))'],
    },
    T.URL: {
        "splunk": ['Web.url IN ("http://evil.example/a?b=c")'],
        "kql": ["RemoteUrl in~ (HuntValues)", "(EmailUrlInfo\n", "(UrlClickEvents\n", "RequestURL in~"],
        "elastic": ['url.full IN ("http://evil.example/a?b=c")', "url.original IN"],
        "sigma": ["category: proxy", "c-uri:"],
    },
    T.EMAIL: {
        "splunk": ["datamodel=Email", 'All_Email.src_user IN ("phish@evil.example")', "All_Email.recipient IN"],
        "kql": ["EmailEvents\n", "SenderFromAddress in~", "SenderMailFromAddress in~", "RecipientEmailAddress in~"],
        "elastic": ['TO_LOWER(email.from.address) IN ("phish@evil.example")', "email.sender.address",
                    "email.to.address"],
    },
    T.FILENAME: {
        "splunk": ['Processes.process_name IN ("evil.exe")', 'Filesystem.file_name IN ("evil.exe")'],
        "kql": ["FileName in~ (HuntValues)", "InitiatingProcessFileName in~", "(EmailAttachmentInfo\n"],
        "elastic": ["TO_LOWER(file.name) IN", "TO_LOWER(process.name) IN", "TO_LOWER(dll.name) IN"],
        "sigma": ["category: file_event", "TargetFilename|endswith:", '"\\\\\\\\evil.exe"', '"/evil.exe"'],
    },
    T.FILE_PATH: {
        "splunk": ['Processes.process_path IN ("C:\\\\Users\\\\Public\\\\evil.exe")', "Filesystem.file_path IN"],
        "kql": ["FolderPath in~ (HuntValues)", "InitiatingProcessFolderPath in~",
                '"C:\\\\Users\\\\Public\\\\evil.exe"'],
        "elastic": ['TO_LOWER(file.path) IN ("c:\\\\users\\\\public\\\\evil.exe")', "TO_LOWER(process.executable) IN"],
        "sigma": ["category: file_event", "TargetFilename:"],
    },
    T.REGISTRY_KEY: {
        "splunk": ["datamodel=Endpoint.Registry",
                   'Registry.registry_path IN ("*\\\\Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run", '
                   '"*\\\\Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run\\\\*")'],
        "kql": ['DeviceRegistryEvents\n| where RegistryKey endswith '
                '"\\\\Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run"'],
        "elastic": ['TO_LOWER(registry.key) IN ("software\\\\microsoft\\\\windows\\\\currentversion\\\\run")'],
        "sigma": ["category: registry_event", "TargetObject|endswith:", "TargetObject|contains:",
                  "condition: selection"],
    },
    T.USER_AGENT: {
        "splunk": ['Web.http_user_agent IN ("Mozilla/5.0 (evil)")'],
        "kql": ["UserAgent in~", "RequestClientApplication in~", "csUserAgent in~", "HttpUserAgent in~"],
        "elastic": ['user_agent.original IN ("Mozilla/5.0 (evil)")'],
        "sigma": ["category: proxy", "c-useragent:"],
    },
}

UNEXPECTED: dict[T, dict[str, list[str]]] = {
    T.SHA256: {"kql": ["MD5", "RemoteUrl"], "elastic": ["TO_LOWER", "md5"], "splunk": ["DNS."]},
    T.DOMAIN: {"kql": ["SHA256", "RemoteIP"], "elastic": ["hash", "source.ip"], "splunk": ["process_hash"]},
    T.IPV4: {"kql": ["SenderIPv6", "RemoteUrl"], "elastic": ["dns.question"], "splunk": ["Web.url"]},
    T.REGISTRY_KEY: {"kql": ["HKLM", "let HuntValues"], "splunk": ["HKLM"], "elastic": ["hklm"],
                     "sigma": ["HKLM\\\\\\\\"]},
}


@pytest.mark.parametrize(
    ("kind", "platform"), [(k, p) for k, per in EXPECTED.items() for p in per], ids=lambda x: str(x)
)
def test_queries_name_the_fields_and_tables_of_the_type(kind, platform):
    query = queries_for(kind, SAMPLES[kind])[platform]
    for needle in EXPECTED[kind][platform]:
        assert needle in query, f"{needle!r} not in\n{query}"
    for needle in UNEXPECTED.get(kind, {}).get(platform, []):
        assert needle not in query, f"{needle!r} in\n{query}"


def test_registry_keys_match_below_whichever_hive_spelling():
    short = queries_for(T.REGISTRY_KEY, "HKLM\\Software\\X")
    long = queries_for(T.REGISTRY_KEY, "HKEY_LOCAL_MACHINE\\Software\\X")
    kernel = queries_for(T.REGISTRY_KEY, "\\REGISTRY\\MACHINE\\Software\\X")
    for platform in ("splunk", "kql", "elastic"):
        assert short[platform] == long[platform] == kernel[platform]


def test_hashes_are_searched_lowercase():
    upper = queries_for(T.MD5, SAMPLES[T.MD5].upper())
    assert all(q == queries_for(T.MD5, SAMPLES[T.MD5])[p] for p, q in upper.items() if p != "sigma")


def test_a_single_table_kql_query_is_not_a_union():
    query = queries_for(T.REGISTRY_KEY, SAMPLES[T.REGISTRY_KEY])["kql"]
    assert query.startswith("DeviceRegistryEvents\n| where ") and "union" not in query


def test_full_kql_and_test_dialect_layout():
    assert KQL.query(T.REGISTRY_KEY, ["A\\B", 'C"D']) == (
        "DeviceRegistryEvents\n"
        '| where (RegistryKey endswith "\\\\A\\\\B" or RegistryKey endswith "\\\\C\\"D")\n'
        '| extend HuntTable = "DeviceRegistryEvents"'
    )
    assert TestDialect().query(T.URL, ["it's"]) == (
        "first: f_equals = any['it''s'] or f_exact == any['it''s'] or f_ip ip any['it''s'] or "
        "f_ends_with endswith 'it''s' or f_contains contains 'it''s' or f_terms has any['it''s'] or "
        "f_under under 'it''s'; second: kind = 'x' and g endswith '/it''s'"
    )


# ---------------------------------------------------------------- escaping: exact outputs


def test_kql_literal_escapes_quotes_backslashes_and_line_breaks():
    assert KQL.literal('a"b\\c\nd\re\tf|g') == '"a\\"b\\\\c\\nd\\re\\tf|g"'
    assert KQL.literal('"; drop') == '"\\"; drop"'


def test_esql_literal_escapes_quotes_backslashes_and_line_breaks():
    assert ESQL.literal('a"b\\c\nd\re\tf|g') == '"a\\"b\\\\c\\nd\\re\\tf|g"'
    assert ESQL.literal("| delete") == '"| delete"'


def test_spl_literal_never_holds_wildcards_backticks_tokens_or_controls():
    assert SPLUNK.literal('"; drop | delete') == '"\\"; drop | delete"'
    assert SPLUNK.literal("C:\\x `m` $t$ a*b\nz") == '"C:\\\\x *m* *t* a*b*z"'
    assert SPLUNK.exact_literal("a*b`$\n\"\\") == 'urldecode("a%2Ab%60%24%0A%22%5C")'


def test_spl_values_with_wildcards_are_narrowed_to_an_exact_eval_match():
    query = queries_for(T.FILENAME, "a*b.exe")["splunk"]
    assert 'Processes.process_name IN ("a*b.exe") by Processes.process_name' in query
    assert '| where lower(matched_value)==lower(urldecode("a%2Ab.exe"))' in query
    plain = queries_for(T.FILENAME, "ab.exe")["splunk"]
    assert "| where" not in plain


def test_test_dialect_literal_doubles_its_quote():
    assert TestDialect().literal("it's") == "'it''s'"


def test_sigma_escape_makes_wildcards_and_backslashes_literal():
    assert sigma_escape("C:\\a*b?c") == "C:\\\\a\\*b\\?c"
    assert "".join(SigmaString(sigma_escape("C:\\a*b?c\\")).s) == "C:\\a*b?c\\"


# ---------------------------------------------------------------- escaping: lexers per dialect

Token = tuple[str, str]  # ("code", text) or ("str", decoded value)


def _lex(query: str, read_string: Callable[[str, int], tuple[str, int]], opener: str, check_code) -> list[Token]:
    tokens: list[Token] = []
    code: list[str] = []
    i = 0
    while i < len(query):
        if query[i] == opener:
            if code:
                tokens.append(("code", "".join(code)))
                code = []
            value, i = read_string(query, i + 1)
            tokens.append(("str", value))
        else:
            check_code(query, i)
            code.append(query[i])
            i += 1
    if code:
        tokens.append(("code", "".join(code)))
    return tokens


def _escaped_string(escapes: dict[str, str], forbidden_raw: str, quote: str = '"'):
    """A reader for a backslash-escaped literal; anything the grammar would not accept fails the test."""

    def read(query: str, i: int) -> tuple[str, int]:
        out: list[str] = []
        while True:
            assert i < len(query), "unterminated literal"
            ch = query[i]
            if ch == quote:
                return "".join(out), i + 1
            assert ch not in forbidden_raw, f"raw {ch!r} inside a literal"
            if ch == "\\":
                nxt = query[i + 1]
                assert nxt in escapes, f"escape \\{nxt} not in the grammar"
                out.append(escapes[nxt])
                i += 2
            else:
                out.append(ch)
                i += 1

    return read


_kql_string = _escaped_string({"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t"}, "\r\n")
_esql_string = _escaped_string({"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t"}, "\r\n")
_spl_string = _escaped_string({"\\": "\\", '"': '"'}, "")


def _kql_code(query: str, i: int) -> None:
    assert not query.startswith("//", i), "comment in KQL code"
    assert query[i] not in "'@", f"{query[i]!r} in KQL code"


def _esql_code(query: str, i: int) -> None:
    assert not query.startswith(("//", "/*"), i), "comment in ES|QL code"


def _esql_read(query: str, i: int) -> tuple[str, int]:
    assert not query.startswith('""', i), "ES|QL reads this as a triple-quoted string"
    return _esql_string(query, i)


def _test_read(query: str, i: int) -> tuple[str, int]:
    out: list[str] = []
    while True:
        assert i < len(query), "unterminated literal"
        if query[i] == "'":
            if query.startswith("''", i):
                out.append("'")
                i += 2
                continue
            return "".join(out), i + 1
        out.append(query[i])
        i += 1


def _no_check(query: str, i: int) -> None:
    return None


LEXERS: dict[str, Callable[[str], list[Token]]] = {
    "kql": lambda q: _lex(q, _kql_string, '"', _kql_code),
    "elastic": lambda q: _lex(q, _esql_read, '"', _esql_code),
    "splunk": lambda q: _lex(q, _spl_string, '"', _no_check),
    "test": lambda q: _lex(q, _test_read, "'", _no_check),
}
DIALECTS: dict[str, Dialect] = {"kql": KQL, "elastic": ESQL, "splunk": SPLUNK, "test": TestDialect()}

DANGEROUS = '"\'\\`$*?|;{}[]()/\n\r\t\x00\x1b\x85\u2028\ufeff %+=:#@-'
values = st.one_of(st.text(min_size=1), st.text(alphabet=DANGEROUS + "ab", min_size=1))


def _spl_star(text: str) -> str:
    return "".join("*" if SPLUNK.is_unsafe(ch) else ch for ch in text)


@pytest.mark.parametrize("platform", ["kql", "elastic", "test"])
@settings(max_examples=300, deadline=None)
@given(value=values)
def test_a_literal_reads_back_as_the_value_and_ends_where_it_should(platform, value):
    tail = " | where x"
    tokens = LEXERS[platform](DIALECTS[platform].literal(value) + tail)
    assert tokens == [("str", value), ("code", tail)]


@settings(max_examples=300, deadline=None)
@given(value=values)
def test_spl_literals_read_back_as_the_value_or_its_wildcard_superset(value):
    tail = " by x"
    assert LEXERS["splunk"](SPLUNK.literal(value) + tail) == [("str", _spl_star(value)), ("code", tail)]
    exact = SPLUNK.exact_literal(value)
    tokens = LEXERS["splunk"](exact + tail)
    assert tokens[0] == ("code", "urldecode(") and tokens[2] == ("code", ")" + tail)
    assert set(tokens[1][1]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789%._-~")
    assert urllib.parse.unquote(tokens[1][1], errors="strict") == value


PLACEHOLDER = "zzplaceholderzz"
SPL_PLACEHOLDER = "zz*placeholderzz"  # a placeholder SPL must narrow too, so the query has the same shape
STRUCTURE_KINDS = [T.FILE_PATH, T.URL, T.DOMAIN, T.IPV4, T.REGISTRY_KEY, T.EMAIL, T.SHA256]


def _placeholder(platform: str, value: str) -> str:
    if platform == "splunk" and any(SPLUNK.is_unsafe(ch) for ch in value):
        return SPL_PLACEHOLDER
    return PLACEHOLDER


def _same_text_around_the_value(platform: str, template: str, hostile: str, placeholder: str, value: str) -> bool:
    """``hostile`` is ``template``'s literal with the placeholder replaced by the value, as the dialect writes it."""
    if hostile in (template.replace(placeholder, value), template.replace(placeholder, value.lower())):
        return True
    if platform == "splunk":
        quoted, quoted_value = urllib.parse.quote(placeholder, safe=""), urllib.parse.quote(value, safe="")
        return hostile in (template.replace(placeholder, _spl_star(value)), template.replace(quoted, quoted_value))
    return False


@pytest.mark.parametrize("platform", list(LEXERS))
@pytest.mark.parametrize("kind", STRUCTURE_KINDS, ids=str)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=values)
def test_nothing_but_the_literals_depends_on_the_value(platform, kind, value):
    dialect, lex = DIALECTS[platform], LEXERS[platform]
    placeholder = _placeholder(platform, value)
    template, hostile = lex(dialect.query(kind, [placeholder])), lex(dialect.query(kind, [value]))
    assert [t for t in hostile if t[0] == "code"] == [t for t in template if t[0] == "code"]
    assert len(hostile) == len(template)
    for (_, expected), (_, got) in zip(
        (t for t in template if t[0] == "str"), (t for t in hostile if t[0] == "str"), strict=True
    ):
        assert _same_text_around_the_value(platform, expected, got, placeholder, value), (expected, got)


@settings(max_examples=200, deadline=None)
@given(value=values)
def test_spl_queries_hold_no_macro_token_or_control_character(value):
    for kind in (T.FILE_PATH, T.REGISTRY_KEY, T.SHA256):
        query = SPLUNK.query(kind, [value])
        assert "`" not in query and "$" not in query
        assert all(ch.isprintable() or ch == "\n" for ch in query)
        for token_kind, text in LEXERS["splunk"](query):
            assert token_kind == "code" or "\n" not in text


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_stay_inside_their_literals_in_public_queries(value):
    queries = queries_for(T.FILE_PATH, value)
    for platform in ("kql", "elastic", "splunk"):
        strings = [text for kind, text in LEXERS[platform](queries[platform]) if kind == "str"]
        assert any(
            s in (value, value.lower(), _spl_star(value)) or urllib.parse.unquote(s) == value for s in strings
        ), platform
    assert yaml.safe_load(queries["sigma"])["detection"]["selection"] == [{"TargetFilename": [sigma_escape(value)]}]


# ---------------------------------------------------------------- Sigma: YAML and pySigma round trips


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=values.filter(lambda v: v.strip()))
def test_sigma_yaml_reads_back_every_value_literally(value):
    rule = sigma_rule(T.FILE_PATH, value)
    assert rule.isascii() or all(ch.isprintable() or ch == "\n" for ch in rule)
    loaded = yaml.safe_load(rule)
    assert loaded["detection"]["selection"] == [{"TargetFilename": [sigma_escape(value)]}]
    assert loaded["description"] == f"Matches the file_path indicator {value} exported by iocflow."
    parsed = SigmaCollection.from_yaml(rule).rules[0]
    (selection,) = parsed.detection.detections["selection"].detection_items  # the list's one map
    (item,) = selection.detection_items
    (string,) = item.value
    assert not string.contains_special() and "".join(string.s) == value


def test_sigma_rule_metadata():
    rule = yaml.safe_load(sigma_rule(T.DOMAIN, "evil.example"))
    assert rule["id"] == indicator_id(T.DOMAIN, "evil.example")
    # Nothing rates a value the store does not hold: the documented default level, no date unless given.
    assert rule["status"] == "experimental" and rule["level"] == SIGMA_DEFAULT_LEVEL == "medium"
    assert "date" not in rule and "references" not in rule
    assert rule["logsource"] == {"category": "dns_query", "product": "windows"}
    assert rule["tags"] == ["attack.command-and-control"]
    assert rule["detection"]["condition"] == "selection"
    assert len(rule["title"]) <= 256
    assert sigma_rule(T.DOMAIN, "evil.example") == sigma_rule(T.DOMAIN, "evil.example")


def test_sigma_rule_for_email_raises():
    with pytest.raises(HuntingError, match="Sigma has no log source"):
        sigma_rule(T.EMAIL, "a@b.example")


def _record(kind: T, value: str, severity: Severity, article_url: str | None = None) -> IndicatorRecord:
    now = datetime(2025, 3, 4, tzinfo=UTC)
    source = SourceRef("feed", SourceCategory.VENDOR, None, None, article_url, None)
    return IndicatorRecord(
        id=indicator_id(kind, value), type=kind, value=value, confidence=Confidence.HIGH, severity=severity,
        reputation=Reputation.BAD, first_seen=now, last_seen=now, expires_at=None, tags=(),
        techniques=("T1059.001", "TA0002", "T1105"), industries=(), indicator_class=None, comment=None, source=source,
    )


@pytest.mark.parametrize("severity", list(Severity), ids=str)
def test_a_stored_indicators_rule_says_what_the_store_knows(severity):
    record = _record(T.DOMAIN, "evil.example", severity, "https://blog.example/report")
    rule = yaml.safe_load(queries_for(T.DOMAIN, "evil.example", about=record, today=date(2025, 3, 4))["sigma"])
    assert rule["level"] == hunting.SIGMA_LEVELS[severity]
    assert rule["tags"] == ["attack.command-and-control", "attack.t1059.001", "attack.t1105"]
    assert rule["references"] == ["https://blog.example/report"]
    assert rule["date"] == "2025-03-04"
    assert rule["id"] == record.id
    assert SigmaCollection.from_yaml(yaml.safe_dump(rule)).errors == []


def test_a_record_of_another_indicator_is_refused():
    with pytest.raises(HuntingError, match="not of this indicator"):
        queries_for(T.DOMAIN, "evil.example", about=_record(T.DOMAIN, "other.example", Severity.HIGH))


def test_a_url_matches_whole_or_by_host_and_path():
    rule = yaml.safe_load(queries_for(T.URL, "https://User@Evil.example:8443/a*b?c=1#frag")["sigma"])
    assert rule["detection"]["selection"] == [
        {"c-uri": ["https://User@Evil.example:8443/a\\*b\\?c=1#frag"]},
        {"cs-host": ["evil.example"], "c-uri": ["/a\\*b\\?c=1"]},  # the fragment never reaches a proxy
    ]
    # A value with no host of its own has only the whole-value alternative.
    assert yaml.safe_load(sigma_rule(T.URL, "pipe | delete"))["detection"]["selection"] == [{"c-uri": ["pipe | delete"]}]


def test_sigma_rules_group_by_log_source_and_leave_out_what_has_none():
    rules = sigma_rules([
        SigmaIndicator(T.IPV4, "203.0.113.1"), SigmaIndicator(T.EMAIL, "a@evil.example"),
        SigmaIndicator(T.IPV6, "2001:db8::1"), SigmaIndicator(T.REGISTRY_KEY, "HKLM"),
        SigmaIndicator(T.IPV4, "203.0.113.2", Severity.CRITICAL), SigmaIndicator(T.FILENAME, "a\ud800"),
    ])
    summary = [(r["logsource"]["category"], r["level"], r["detection"]["selection"][0]["DestinationIp"])
               for r in map(yaml.safe_load, rules)]
    assert summary == [("network_connection", "medium", ["203.0.113.1", "2001:db8::1"]),
                       ("network_connection", "critical", ["203.0.113.2"])]


def test_sigma_rules_hold_at_most_the_chunk_size():
    rules = sigma_rules(SigmaIndicator(T.DOMAIN, f"host{i}.evil.example") for i in range(hunting.SIGMA_CHUNK_SIZE + 1))
    assert [len(yaml.safe_load(r)["detection"]["selection"][0]["QueryName"]) for r in rules] == [
        hunting.SIGMA_CHUNK_SIZE, 1]


def test_every_severity_has_a_sigma_level():
    assert set(hunting.SIGMA_LEVELS) == set(Severity)


def _xdr():
    return microsoft_xdr_pipeline()


def _asim():
    return sentinel_asim_pipeline()


def _asim_dns():
    return sentinel_asim_pipeline(query_table="_Im_Dns")


#: The Kusto pipeline each log source converts with: Defender XDR where it maps the category
#: and the hash algorithm (MD5/SHA1/SHA256), Sentinel ASIM otherwise; neither maps dns_query
#: to a table by itself, so DNS rules name ASIM's ``_Im_Dns``.
KUSTO_PIPELINES = {
    T.MD5: _xdr, T.SHA1: _xdr, T.SHA256: _xdr, T.SHA512: _asim, T.IMPHASH: _asim,
    T.DOMAIN: _asim_dns, T.IPV4: _xdr, T.IPV6: _xdr, T.URL: _asim, T.USER_AGENT: _asim,
    T.FILE_PATH: _xdr, T.FILENAME: _xdr, T.REGISTRY_KEY: _xdr,
}
KUSTO_FIELDS = {
    T.MD5: "MD5", T.SHA1: "SHA1", T.SHA256: "SHA256",
    T.SHA512: "TargetProcessSHA512", T.IMPHASH: "TargetProcessIMPHASH",
    T.DOMAIN: "DnsQuery", T.IPV4: "RemoteIP", T.IPV6: "RemoteIP", T.URL: "Url", T.USER_AGENT: "HttpUserAgent",
    T.FILE_PATH: "FolderPath", T.FILENAME: "FolderPath", T.REGISTRY_KEY: "RegistryKey",
}


def _convert_everywhere(kind: T, rule_yaml: str) -> dict[str, list[str]]:
    collection = SigmaCollection.from_yaml(rule_yaml)
    return {
        "splunk": SplunkBackend().convert(collection),
        "lucene": LuceneBackend().convert(collection),
        "esql": ESQLBackend().convert(collection),
        "kusto": KustoBackend(processing_pipeline=KUSTO_PIPELINES[kind]()).convert(collection),
    }


def test_every_sigma_type_has_a_kusto_pipeline():
    assert set(KUSTO_PIPELINES) == set(SIGMA_SPECS)


@pytest.mark.parametrize("kind", sorted(SIGMA_SPECS, key=str), ids=str)
def test_sigma_rules_parse_and_convert_with_splunk_kusto_and_elasticsearch(kind):
    converted = _convert_everywhere(kind, sigma_rule(kind, SAMPLES[kind]))
    for backend, queries in converted.items():
        assert len(queries) == 1 and queries[0], backend
    assert KUSTO_FIELDS[kind] in converted["kusto"][0]
    assert _prepare_for_check(kind) in converted["splunk"][0].replace("\\\\", "\\")


def _prepare_for_check(kind: T) -> str:
    return hunting.search_text(kind, SAMPLES[kind])


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("kind", [T.FILE_PATH, T.URL, T.REGISTRY_KEY, T.FILENAME, T.DOMAIN], ids=str)
def test_sigma_rules_with_hostile_values_parse_and_convert(kind, value):
    if kind is T.REGISTRY_KEY:
        value = "HKLM\\" + value
    converted = _convert_everywhere(kind, sigma_rule(kind, value))
    assert all(len(queries) == 1 for queries in converted.values())


@pytest.mark.parametrize("kind", sorted(SIGMA_SPECS, key=str), ids=str)
def test_bulk_sigma_rules_parse_and_convert(kind):
    base = SAMPLES[kind]
    rules = bulk_queries([(kind, base)] + [(kind, f"{base[:-2]}{i:02x}") for i in range(40)])["sigma"]
    assert len(rules) == 1
    converted = _convert_everywhere(kind, rules[0])
    assert all(len(queries) == 1 for queries in converted.values())


# ---------------------------------------------------------------- bulk and chunking


def _hashes(n: int) -> list[str]:
    return [hashlib.sha256(str(i).encode()).hexdigest() for i in range(n)]


def _bulk_input() -> list[tuple[T, str]]:
    return (
        [(T.SHA256, h) for h in _hashes(700)]
        + [(T.DOMAIN, f"host{i:05d}.example") for i in range(600)]
        + [(T.REGISTRY_KEY, f"HKLM\\Software\\Key{i:05d}\\Run") for i in range(150)]
        + [(T.EMAIL, f"user{i:05d}@evil.example") for i in range(200)]
        + [(T.URL, f"http://evil.example/a*b/{i:05d}") for i in range(40)]
    )


def _terms(indicators):
    return [hunting.search_text(kind, value) for kind, value in indicators]


LIMITS = {"splunk": SPLUNK.max_query_chars, "kql": KQL.max_query_chars, "elastic": ESQL.max_query_chars,
          "sigma": SIGMA_MAX_CHARS}


@pytest.fixture(scope="module")
def bulk():
    return bulk_queries(_bulk_input())


def test_bulk_answers_every_platform_within_its_limit(bulk):
    assert list(bulk) == list(PLATFORMS)
    for platform, queries in bulk.items():
        assert queries, platform
        assert max(len(q) for q in queries) <= LIMITS[platform], platform
    assert len(bulk["kql"]) > 5 and len(bulk["splunk"]) > 5  # the input really needed chunking


def _sigma_values(rule: str) -> list[str]:
    """The whole values a rule matches (a URL's host-and-path alternative left out)."""
    selection = yaml.safe_load(rule)["detection"]["selection"]
    return ["".join(SigmaString(value).s) for fields in selection if len(fields) == 1
            for values in fields.values() for value in values]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_bulk_covers_every_indicator_exactly_once(bulk, platform):
    queries = bulk[platform]
    if platform == "sigma":
        queries = ["\n".join(_sigma_values(rule)) for rule in queries]
    for (kind, _value), term in zip(_bulk_input(), _terms(_bulk_input()), strict=True):
        if platform == "sigma" and kind is T.EMAIL:
            continue
        needle = term.lower() if platform == "elastic" and kind is not T.URL else term
        forms = {needle} if platform == "sigma" else {needle, needle.replace("\\", "\\\\")}
        holders = [q for q in queries if any(form in q for form in forms)]
        assert len(holders) == 1, (platform, term, len(holders))


def test_bulk_groups_by_type_in_first_seen_order(bulk):
    order = [T.SHA256, T.DOMAIN, T.REGISTRY_KEY, T.EMAIL, T.URL]
    kinds = [next(k for k in order if _mentions(q, k)) for q in bulk["kql"]]
    assert kinds == sorted(kinds, key=order.index) and set(kinds) == set(order)


def _mentions(query: str, kind: T) -> bool:
    marker = {T.SHA256: "SHA256", T.DOMAIN: "DnsEvents", T.REGISTRY_KEY: "RegistryKey", T.EMAIL: "EmailEvents",
              T.URL: "RemoteUrl in~"}[kind]
    return marker in query


def test_bulk_deduplicates_and_merges_hive_spellings():
    out = bulk_queries([
        (T.DOMAIN, "a.example"), (T.DOMAIN, "a.example"),
        (T.REGISTRY_KEY, "HKLM\\Software\\X"), (T.REGISTRY_KEY, "HKEY_LOCAL_MACHINE\\Software\\X"),
    ])
    assert out["kql"][0].count('"a.example"') == 1
    assert out["elastic"][1].count('"software\\\\x"') == 1
    assert "HKLM" in out["sigma"][1] and "HKEY_LOCAL_MACHINE" not in out["sigma"][1]


def test_bulk_checks_every_indicator_before_rendering():
    with pytest.raises(HuntingError, match="no hunting query for cve"):
        bulk_queries([(T.DOMAIN, "a.example"), (T.CVE, "CVE-2024-0001")])


def test_bulk_of_nothing_is_empty_lists():
    assert bulk_queries([]) == {platform: [] for platform in PLATFORMS}


def test_bulk_sigma_ids_are_unique_and_deterministic(bulk):
    ids = [yaml.safe_load(rule)["id"] for rule in bulk["sigma"]]
    assert len(set(ids)) == len(ids)
    assert bulk_queries(_bulk_input())["sigma"] == bulk["sigma"]


def test_a_value_too_long_for_one_query_raises():
    with pytest.raises(HuntingError, match="exceeds 10000 characters"):
        queries_for(T.URL, "http://evil.example/" + "a" * 10_000)


@settings(max_examples=80, deadline=None)
@given(terms=st.lists(st.text(alphabet="ab'c", min_size=1, max_size=12), min_size=1, max_size=40, unique=True))
def test_chunks_are_greedy_within_the_limit_and_cover_every_term_once(terms):
    dialect = TestDialect()
    chunks = dialect.queries(T.DOMAIN, terms)
    per_chunk = [_chunk_terms(query) for query in chunks]
    assert [term for chunk in per_chunk for term in chunk] == terms
    assert all(len(query) <= dialect.max_query_chars for query in chunks)
    start = 0
    for chunk in per_chunk[:-1]:  # greedy: one more term would not have fitted
        start += len(chunk)
        assert len(dialect.query(T.DOMAIN, [*chunk, terms[start]])) > dialect.max_query_chars


def _chunk_terms(query: str) -> list[str]:
    """The terms of a test-dialect query, read from its first comparison (which lists each once)."""
    first_list = query.split(" or ", 1)[0]
    return [text for kind, text in LEXERS["test"](first_list) if kind == "str"]


def test_field_prefix_is_escaped_with_the_value():
    field = Field("RegistryKey", Match.ENDS_WITH, prefix="\\")
    assert KQL.condition(field, ['x"']) == 'RegistryKey endswith "\\\\x\\""'
