"""Sigma export: every rule parses with pySigma, converts with the Splunk, Kusto and Elasticsearch
backends, and matches exactly the exported values (no value ever acts as a wildcard)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from sigma.backends.elasticsearch import ESQLBackend, LuceneBackend
from sigma.backends.kusto import KustoBackend
from sigma.backends.splunk import SplunkBackend
from sigma.collection import SigmaCollection
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule
from sigma.types import SigmaString, SpecialChars

from iocflow.enrich import hunting
from iocflow.export import sigma
from iocflow.store.records import indicator_id
from iocflow.store.views import IndicatorRecord, SourceRef
from iocflow.store.vocabulary import Confidence, IndicatorType, Reputation, Severity, SourceCategory

T = IndicatorType
NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
WILD = SpecialChars.WILDCARD_MULTI
SOURCE = SourceRef("feed", SourceCategory.RESEARCH, "a1", "Report", "https://research.example/report", None)


def make(kind: IndicatorType, value: str, **changes: object) -> IndicatorRecord:
    base = IndicatorRecord(
        id=indicator_id(kind, value), type=kind, value=value, confidence=Confidence.HIGH, severity=Severity.HIGH,
        reputation=Reputation.BAD, first_seen=NOW - timedelta(days=3), last_seen=NOW, expires_at=None, tags=(),
        techniques=("T1071.001",), industries=(), indicator_class=None, comment=None, source=SOURCE,
    )
    return replace(base, **changes)


# (field, parts) as pySigma reads them: parts are the plain text and the wildcards a modifier added.
Expected = set[tuple[str, tuple[object, ...]]]
HASH_TYPES = frozenset({T.MD5, T.SHA1, T.SHA256, T.SHA512, T.IMPHASH})
FIELDS = {T.IPV4: "DestinationIp", T.IPV6: "DestinationIp", T.DOMAIN: "QueryName", T.FILE_PATH: "TargetFilename",
          T.USER_AGENT: "c-useragent"}


def expected_matches(item: IndicatorRecord) -> Expected:
    v = item.value
    if item.type is T.URL:
        host_path = {("cs-host", ("evil.example",)), ("c-uri", (v.split("evil.example", 1)[1],))}
        return {("c-uri", (v,))} | (host_path if "://evil.example" in v else set())
    if item.type in HASH_TYPES:
        return {("Hashes", (WILD, f"{item.type.value.upper()}={v.lower()}", WILD))}
    if item.type is T.FILENAME:
        return {("TargetFilename", (WILD, "\\" + v)), ("TargetFilename", (WILD, "/" + v))}
    return {(FIELDS[item.type], (v,))}


def _leaves(detection: SigmaDetection) -> Iterator[SigmaDetectionItem]:
    for entry in detection.detection_items:
        if isinstance(entry, SigmaDetection):
            yield from _leaves(entry)
        else:
            yield entry


def parsed_matches(rule: SigmaRule) -> Expected:
    found: Expected = set()
    for detection in rule.detection.detections.values():
        for leaf in _leaves(detection):
            for value in leaf.value:
                assert isinstance(value, SigmaString)
                found.add((leaf.field or "", tuple(value.s)))
    return found


def parse(text: str) -> SigmaCollection:
    collection = SigmaCollection.from_yaml(text)
    assert collection.errors == []
    return collection


# ---------------------------------------------------------------- per-backend literal escaping, written out by hand

def _splunk(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("*", "\\*")


def _kusto(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"')


_LUCENE_SPECIAL = '+-=&|!(){}[]<>^"~*?:\\/'


def _lucene(v: str) -> str:
    return "".join("\\" + ch if ch in _LUCENE_SPECIAL else ch for ch in v)


BACKENDS: dict[str, tuple[Callable[[], object], Callable[[str], str]]] = {
    "splunk": (SplunkBackend, _splunk),
    "kusto": (KustoBackend, _kusto),
    "lucene": (LuceneBackend, _lucene),
}

# ---------------------------------------------------------------- data

PLAIN = [
    make(T.IPV4, "203.0.113.7"),
    make(T.IPV6, "2001:db8::7"),
    make(T.DOMAIN, "evil.example"),
    make(T.URL, "https://evil.example/gate.php?id=1"),
    make(T.MD5, "D41D8CD98F00B204E9800998ECF8427E"),
    make(T.SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    make(T.SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    make(T.FILENAME, "invoice.pdf.exe"),
    make(T.USER_AGENT, "EvilBot/1.0"),
]
NASTY = [
    make(T.URL, 'http://evil.example/a b?c=*&d="x"\\y\'z|w'),
    make(T.URL, "http://evil.example/wild?*?*"),
    make(T.FILENAME, "we ird*?[x].exe"),
    make(T.FILE_PATH, "C:\\Users\\*\\AppData\\x?.dll"),
    make(T.USER_AGENT, 'Mozilla/5.0 (x) "q" \\ * ? é 漢字'),
    make(T.USER_AGENT, "ends with backslash\\"),
]


def test_every_rule_parses_with_pysigma() -> None:
    text = sigma.rules(PLAIN + NASTY, now=NOW)
    collection = parse(text)
    documents = list(yaml.safe_load_all(text))
    assert len(collection) == len(documents) >= 5
    for rule in collection:
        assert rule.status is not None and rule.status.name == "EXPERIMENTAL"
        assert uuid.UUID(str(rule.id)).version == 5
        assert rule.logsource.category in {"network_connection", "dns_query", "proxy", "process_creation",
                                           "file_event"}


@pytest.mark.parametrize("item", PLAIN + NASTY, ids=lambda i: f"{i.type}:{i.value!r}")
def test_pysigma_reads_back_exactly_the_value(item: IndicatorRecord) -> None:
    (rule,) = parse(sigma.rules([item], now=NOW))
    assert parsed_matches(rule) == expected_matches(item)


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_converts_with_each_backend_and_queries_hold_the_exact_values(backend: str) -> None:
    factory, escape = BACKENDS[backend]
    for item in PLAIN + NASTY:
        (rule,) = parse(sigma.rules([item], now=NOW))
        queries = factory().convert(SigmaCollection([rule]))  # type: ignore[attr-defined]
        assert len(queries) == 1
        query = queries[0]
        for _, parts in expected_matches(item):
            text = next(p for p in parts if isinstance(p, str))
            literal = escape(text)
            if backend == "lucene" and " " in text:  # Lucene quotes a phrase, or escapes its spaces in a list
                assert literal in query or literal.replace(" ", "\\ ") in query, (literal, query)
            else:
                assert literal in query, (literal, query)


def test_whole_export_converts_with_every_backend_including_esql() -> None:
    collection = parse(sigma.rules(PLAIN + NASTY, now=NOW))
    for backend in (SplunkBackend(), KustoBackend(), LuceneBackend(), ESQLBackend()):
        queries = backend.convert(collection)
        assert len(queries) == len(collection)
    esql = "\n".join(ESQLBackend().convert(parse(sigma.rules(PLAIN, now=NOW))))
    for value in ("203.0.113.7", "2001:db8::7", "evil.example", "EvilBot/1.0"):
        assert f'"{value}"' in esql


def test_many_indicators_share_rules_in_chunks() -> None:
    domains = [make(T.DOMAIN, f"host{n}.evil.example") for n in range(2 * sigma.CHUNK_SIZE + 20)]
    collection = parse(sigma.rules(domains, now=NOW))
    sizes = [len(parsed_matches(rule)) for rule in collection]
    assert sizes == [sigma.CHUNK_SIZE, sigma.CHUNK_SIZE, 20]
    assert set().union(*(parsed_matches(r) for r in collection)) == set().union(*map(expected_matches, domains))
    assert len({str(rule.id) for rule in collection}) == 3


def test_rules_group_by_log_source_and_level() -> None:
    items = [
        make(T.IPV4, "203.0.113.1", severity=Severity.CRITICAL),
        make(T.IPV6, "2001:db8::1", severity=Severity.CRITICAL),
        make(T.IPV4, "203.0.113.2", severity=Severity.INFO),
        make(T.DOMAIN, "evil.example", severity=Severity.LOW),
        make(T.URL, "http://evil.example/x", severity=Severity.LOW),
        make(T.USER_AGENT, "EvilBot/2.0", severity=Severity.LOW),
    ]
    documents = list(yaml.safe_load_all(sigma.rules(items, now=NOW)))
    summary = [(d["logsource"]["category"], d["level"], len(d["detection"]["selection"])) for d in documents]
    assert summary == [
        ("network_connection", "critical", 1),
        ("network_connection", "informational", 1),
        ("dns_query", "low", 1),
        ("proxy", "low", 3),  # whole URL in c-uri, host+path, user agent
    ]


def test_tags_are_attack_tactic_and_techniques() -> None:
    item = make(T.SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                techniques=("T1059.001", "t1105", "TA0011", "not-an-id", "T1059.001"))
    (document,) = yaml.safe_load_all(sigma.rules([item], now=NOW))
    assert document["tags"] == ["attack.execution", "attack.t1059.001", "attack.t1105"]
    (rule,) = parse(sigma.rules([item], now=NOW))
    assert {f"{t.namespace}.{t.name}" for t in rule.tags} == set(document["tags"])


def test_metadata() -> None:
    (document,) = yaml.safe_load_all(sigma.rules([make(T.DOMAIN, "evil.example", severity=Severity.MEDIUM)], now=NOW))
    assert document["status"] == "experimental"
    assert document["level"] == "medium"
    assert document["author"] == "iocflow"
    assert document["date"] == "2025-03-04"
    assert document["references"] == ["https://research.example/report"]
    assert document["logsource"] == {"category": "dns_query", "product": "windows"}


def test_ids_are_deterministic() -> None:
    first = sigma.rules(PLAIN, now=NOW)
    assert first == sigma.rules(list(PLAIN), now=NOW)
    ids = {d["id"] for d in yaml.safe_load_all(first)}
    other = {d["id"] for d in yaml.safe_load_all(sigma.rules(PLAIN[1:], now=NOW))}
    assert ids != other


def test_types_without_a_log_source_are_left_out() -> None:
    items = [make(T.CVE, "CVE-2024-3400"), make(T.EMAIL, "a@evil.example"), make(T.MITRE_ATTACK, "T1059"),
             make(T.REGISTRY_KEY, "HKEY_LOCAL_MACHINE")]  # a hive alone: nothing below it to look for
    assert sigma.rules(items, now=NOW) == ""
    assert {T.CVE, T.EMAIL, T.MITRE_ATTACK}.isdisjoint(sigma.SIGMA_TYPES)


@pytest.mark.parametrize("spelling", ["HKLM\\Software\\Evil\\Run", "HKEY_LOCAL_MACHINE\\Software\\Evil\\Run",
                                      "\\REGISTRY\\MACHINE\\Software\\Evil\\Run"])
def test_registry_keys_match_below_the_hive_however_it_is_spelled(spelling: str) -> None:
    (document,) = yaml.safe_load_all(sigma.rules([make(T.REGISTRY_KEY, spelling)], now=NOW))
    assert document["logsource"] == {"category": "registry_event", "product": "windows"}
    # The key itself (endswith) or a value or subkey under it (contains), with the hive left to the log.
    assert document["detection"]["selection"] == [
        {"TargetObject|endswith": ["\\\\Software\\\\Evil\\\\Run"]},
        {"TargetObject|contains": ["\\\\Software\\\\Evil\\\\Run\\\\"]},
    ]
    (rule,) = parse(sigma.rules([make(T.REGISTRY_KEY, spelling)], now=NOW))
    assert parsed_matches(rule) == {("TargetObject", (WILD, "\\Software\\Evil\\Run")),  # modifiers as wildcards
                                    ("TargetObject", (WILD, "\\Software\\Evil\\Run\\", WILD))}


@pytest.mark.parametrize("value", ["nel\x85here", "ls\u2028ps\u2029", "bom\ufeff", "ctl\x00\x1b\x7f", "cr\rlf\n"],
                         ids=repr)
def test_yaml_carries_line_breaks_and_controls_exactly(value: str) -> None:
    item = make(T.USER_AGENT, value)
    text = sigma.rules([item], now=NOW)
    (document,) = yaml.safe_load_all(text)
    assert document["detection"]["selection"][0]["c-useragent"] == [value]
    (rule,) = parse(text)
    assert parsed_matches(rule) == {("c-useragent", (value,))}


def test_invalid_unicode_is_left_out() -> None:
    item = replace(make(T.USER_AGENT, "ok"), value="lone\ud800")  # the store cannot hold one; exporters still refuse it
    assert sigma.rules([item, make(T.DOMAIN, "evil.example")], now=NOW).count("title:") == 1


# ---------------------------------------------------------------- one writer: the lookup's rule is the export's


@pytest.mark.parametrize("severity", list(Severity), ids=str)
@pytest.mark.parametrize("item", PLAIN + NASTY, ids=lambda i: f"{i.type}:{i.value!r}")
def test_an_indicator_exported_alone_gives_the_rule_its_lookup_gives(item: IndicatorRecord, severity: Severity) -> None:
    """``/api/v1/export/sigma`` of one indicator and ``/api/v1/lookup``'s ``hunting_queries["sigma"]``
    (given the stored record and the day, as the lookup has them) are one rule, character for character."""
    record = replace(item, severity=severity)
    exported = sigma.rules([record], now=NOW)
    looked_up = hunting.queries_for(record.type, record.value, about=record, today=NOW.date())["sigma"]
    assert exported == "---\n" + looked_up
    (document,) = yaml.safe_load_all(exported)
    assert document["level"] == sigma.LEVELS[severity]
    assert document["id"] == record.id  # the indicator's own id names its rule
    assert document["tags"][-1] == "attack.t1071.001" and document["references"] == [SOURCE.article_url]


def test_a_lookup_of_a_value_the_store_does_not_hold_differs_only_in_what_the_store_would_say() -> None:
    """No record: the documented default level, the tactic's tag alone, no references; no date unless given."""
    record = make(T.URL, "https://evil.example/gate.php?id=1", techniques=(), source=None, severity=Severity.MEDIUM)
    (exported,) = yaml.safe_load_all(sigma.rules([record], now=NOW))
    unknown = yaml.safe_load(hunting.queries_for(record.type, record.value)["sigma"])
    assert unknown["level"] == hunting.SIGMA_DEFAULT_LEVEL == exported["level"]
    assert {k: v for k, v in exported.items() if k != "date"} == unknown
    assert "date" not in unknown and exported["date"] == "2025-03-04"


def test_every_severity_has_a_level() -> None:
    assert set(sigma.LEVELS) == set(Severity)
    assert sigma.LEVELS[Severity.INFO] == "informational"


def test_a_value_too_long_for_a_rule_is_exported_in_a_rule_of_its_own() -> None:
    """The lookup refuses a query over its size limit; the export still writes the indicator, alone."""
    long_url = make(T.URL, "http://evil.example/" + "a" * hunting.SIGMA_MAX_CHARS)
    documents = list(yaml.safe_load_all(sigma.rules([make(T.URL, "http://evil.example/x"), long_url], now=NOW)))
    assert [len(d["detection"]["selection"][0]["c-uri"]) for d in documents] == [1, 1]
    assert documents[1]["id"] == long_url.id
    with pytest.raises(hunting.HuntingError, match="exceeds"):
        hunting.sigma_rule(long_url.type, long_url.value)


def test_hive_spellings_of_one_key_are_one_indicator_in_a_rule() -> None:
    items = [make(T.REGISTRY_KEY, "HKLM\\Software\\X"), make(T.REGISTRY_KEY, "HKEY_LOCAL_MACHINE\\Software\\X")]
    (document,) = yaml.safe_load_all(sigma.rules(items, now=NOW))
    assert document["id"] == items[0].id  # the first spelling names it
    assert document["detection"]["selection"][0] == {"TargetObject|endswith": ["\\\\Software\\\\X"]}
