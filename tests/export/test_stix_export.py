"""STIX 2.1 export, checked by the official tools: stix2-validator, stix2 (allow_custom=False), stix2-patterns.

Records are built directly (no store): the exporter only reads ``IndicatorRecord``s.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import stix2
import stix2validator
from stix2patterns.v21.pattern import Pattern
from stix2patterns.validator import run_validator

from iocflow.export import stix
from iocflow.ingest.feeds.stix import parse
from iocflow.store.records import indicator_id
from iocflow.store.views import IndicatorRecord, SourceRef
from iocflow.store.vocabulary import Confidence, IndicatorType, Reputation, Severity, SourceCategory

T = IndicatorType

NOW = datetime(2025, 6, 1, tzinfo=UTC)
T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
ARTICLE = SourceRef("research-blog", SourceCategory.RESEARCH, "0b1c2d3e-0000-5000-8000-000000000001",
                    "Campaign 'X' \\ report", "https://blog.example.com/campaign-x", "seen in the loader's config")
OTHER_ARTICLE = SourceRef("research-blog", SourceCategory.RESEARCH, "0b1c2d3e-0000-5000-8000-000000000002", None,
                          "https://blog.example.com/other", None)
FEED = SourceRef("feodo", SourceCategory.THREAT_INTEL, None, None, None, None)

#: The two warnings the bundles raise on purpose (see test_validator_finds_no_errors).
DELIBERATE_WARNINGS = ("{103}", "{302}")


def record(kind: IndicatorType, value: str, **changes: object) -> IndicatorRecord:
    fields: dict[str, object] = {
        "confidence": Confidence.HIGH, "severity": Severity.HIGH, "reputation": Reputation.BAD,
        "first_seen": T0, "last_seen": T0 + timedelta(days=2), "expires_at": T0 + timedelta(days=30),
        "tags": ("tlp:amber", "phishing"), "techniques": ("T1059.001", "TA0002"), "industries": ("finance",),
        "indicator_class": "Malware", "comment": None, "source": ARTICLE,
    }
    fields.update(changes)
    return IndicatorRecord(indicator_id(kind, value), kind, value, **fields)  # type: ignore[arg-type]


#: Every type iocflow's STIX importer reads back, with values it stores as they are (nasty where allowed).
READABLE = [
    record(T.IPV4, "203.0.113.5"),
    record(T.IPV6, "2001:db8::1"),
    record(T.IPV4_CIDR, "198.51.100.0/24", confidence=Confidence.MEDIUM, reputation=Reputation.SUSPICIOUS),
    record(T.IPV6_CIDR, "2001:db8:abcd::/48", confidence=Confidence.LOW, reputation=Reputation.UNKNOWN),
    record(T.DOMAIN, "evil.example.com", source=FEED),
    record(T.DOMAIN, "пример.рф", source=OTHER_ARTICLE),
    record(T.URL, "http://пример.рф/путь/%27x%5C?q=1", comment="a comment with 'quotes' and \\ backslash"),
    record(T.EMAIL, "o'brien@example.com"),
    record(T.MAC, "00:11:22:aa:bb:cc"),
    record(T.ASN, "ASN64496", techniques=()),
    record(T.MD5, "e7a6e0e6ffd5aa0cc0e3a1e1b0f3f2b6"),
    record(T.SHA1, "a" * 40),
    record(T.SHA256, "b" * 64),
    record(T.SHA512, "c" * 128),
    record(T.SSDEEP, "3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C"),
    record(T.FILENAME, "it's évil.exe"),
    record(T.REGISTRY_KEY, "HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run"),
]
#: Valid STIX that iocflow's importer does not read (it reads one value per '=' test of a few properties).
NOT_READ_BACK = [
    record(T.FILE_PATH, "C:\\Users\\O'Neil\\AppData\\evil.exe"),
    record(T.USER_AGENT, 'Mozilla/5.0 ("quoted") \\ it\'s'),
    record(T.SOCKET_ADDRESS, "[2001:db8::1]:443"),
    record(T.SOCKET_ADDRESS, "203.0.113.5:8443"),
    record(T.SOCKET_ADDRESS, "evil.example.com:8080"),
    record(T.IMPHASH, "f" * 32),
    record(T.REGISTRY_KEY, "HKLM\\Software\\O'Brien"),
]
NOT_PATTERNS = [
    record(T.CVE, "CVE-2024-3400", severity=Severity.CRITICAL),
    record(T.MITRE_ATTACK, "T1566"),
    record(T.TLP, "TLP:AMBER"),
    record(T.BITCOIN, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"),
    record(T.PHONE, "+1 202 555 0143"),
]
ALL = READABLE + NOT_READ_BACK + NOT_PATTERNS


def objects_of(bundle: dict, kind: str) -> list[dict]:
    return [obj for obj in bundle["objects"] if obj["type"] == kind]


def by_id(bundle: dict) -> dict[str, dict]:
    return {obj["id"]: obj for obj in bundle["objects"]}


# -- the official tools -----------------------------------------------------------------------


def test_validator_finds_no_errors() -> None:
    """Errors: none. Warnings: only two, both deliberate.

    {103} "not a valid UUIDv4 ID": ids are UUIDv5 on purpose, so re-exports
    update rather than duplicate (the spec allows any UUID; v4 is a SHOULD).
    {302} "external reference has a URL but no hash": ATT&CK, CVE and article
    pages are live web pages, a content hash would be stale at once.
    """
    results = stix2validator.validate_string(stix.dumps(ALL, now=NOW).decode(),
                                             stix2validator.ValidationOptions(version="2.1"))
    assert results.is_valid, [str(e) for e in results.errors]
    assert results.errors == []
    unexpected = [w for w in results.warnings if not any(code in w for code in DELIBERATE_WARNINGS)]
    assert unexpected == []


def test_validator_strict_without_the_deliberate_checks() -> None:
    """Strict mode (warnings are errors) passes once the two deliberate checks are switched off."""
    options = stix2validator.ValidationOptions(version="2.1", strict=True, disabled=["103", "302"])
    results = stix2validator.validate_instance(stix.bundle(ALL, now=NOW), options)
    assert results.is_valid, [str(e) for e in results.errors] + list(results.warnings)
    assert list(results.warnings) == []


def test_stix2_loads_the_bundle_without_custom_content() -> None:
    document = stix.dumps(ALL, now=NOW)
    loaded = stix2.parse(document.decode(), allow_custom=False)
    assert isinstance(loaded, stix2.v21.Bundle)
    kinds = [type(obj).__name__ for obj in loaded.objects]
    assert kinds.count("Indicator") == len(READABLE) + len(NOT_READ_BACK)
    assert kinds.count("Vulnerability") == 1
    assert kinds.count("Identity") == 1
    assert kinds.count("Report") == 2  # ARTICLE and OTHER_ARTICLE; FEED has no article
    for obj in loaded.objects:  # stix2 re-checks the cross-field rules (valid_until > valid_from, ...)
        json.loads(obj.serialize())


def test_every_pattern_is_valid_stix_21() -> None:
    for obj in objects_of(stix.bundle(ALL, now=NOW), "indicator"):
        assert run_validator(obj["pattern"], stix_version="2.1") == [], obj["pattern"]


# -- patterns and escaping --------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "value", "expected"), [
    (T.IPV4, "203.0.113.5", "[ipv4-addr:value = '203.0.113.5']"),
    (T.IPV4_CIDR, "10.0.0.0/8", "[ipv4-addr:value = '10.0.0.0/8']"),
    (T.IPV6, "2001:db8::1", "[ipv6-addr:value = '2001:db8::1']"),
    (T.IPV6_CIDR, "2001:db8::/32", "[ipv6-addr:value = '2001:db8::/32']"),
    (T.DOMAIN, "evil.example.com", "[domain-name:value = 'evil.example.com']"),
    (T.URL, "https://evil.example.com/a", "[url:value = 'https://evil.example.com/a']"),
    (T.EMAIL, "bad@example.com", "[email-addr:value = 'bad@example.com']"),
    (T.MD5, "d" * 32, f"[file:hashes.MD5 = '{'d' * 32}']"),
    (T.SHA1, "d" * 40, f"[file:hashes.'SHA-1' = '{'d' * 40}']"),
    (T.SHA256, "d" * 64, f"[file:hashes.'SHA-256' = '{'d' * 64}']"),
    (T.SHA512, "d" * 128, f"[file:hashes.'SHA-512' = '{'d' * 128}']"),
    (T.SSDEEP, "3:abc:def", "[file:hashes.SSDEEP = '3:abc:def']"),
    (T.FILENAME, "evil.exe", "[file:name = 'evil.exe']"),
    (T.MAC, "00:11:22:AA:BB:CC", "[mac-addr:value = '00:11:22:aa:bb:cc']"),
    (T.ASN, "ASN64496", "[autonomous-system:number = 64496]"),
    (T.REGISTRY_KEY, "HKLM\\Software\\Run", "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Software\\\\Run']"),
    (T.FILE_PATH, "/tmp/x y/evil", "[file:parent_directory_ref.path = '/tmp/x y' AND file:name = 'evil']"),
    (T.SOCKET_ADDRESS, "203.0.113.5:8443",
     "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.5'"
     " AND network-traffic:dst_port = 8443]"),
    (T.SOCKET_ADDRESS, "evil.example.com:8080",
     "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'evil.example.com'"
     " AND network-traffic:dst_port = 8080]"),
    (T.CVE, "CVE-2024-3400", None),
    (T.PHONE, "+12025550143", None),
], ids=lambda v: v if isinstance(v, str) and len(v) < 20 else None)
def test_pattern_per_type(kind: IndicatorType, value: str, expected: str | None) -> None:
    assert stix.pattern_string(kind, value) == expected


def test_every_type_has_a_pattern_or_is_listed_as_having_none() -> None:
    assert set(stix._PATTERNS) | stix.NO_PATTERN == set(IndicatorType)
    assert not set(stix._PATTERNS) & stix.NO_PATTERN


def _unescape(token: str) -> str:
    """The grammar's two escapes undone, written independently of both iocflow modules."""
    body = token[1:-1]
    out, i = [], 0
    while i < len(body):
        if body[i] == "\\":
            i += 1
        out.append(body[i])
        i += 1
    return "".join(out)


NASTY = [
    "it's",
    "back\\slash",
    "\\",
    "'",
    "\\'",
    "'] OR [ipv4-addr:value = '0.0.0.0/0",
    "ends with backslash\\",
    "\\\\'' AND file:name = 'x",
    "ünïcødé ☠ 日本語",
    "new\nline\ttab",
]


@pytest.mark.parametrize("value", NASTY)
@pytest.mark.parametrize(("kind", "path"), [
    (T.FILENAME, "name"), (T.URL, "value"), (T.USER_AGENT, "extensions"), (T.REGISTRY_KEY, "key"),
])
def test_escaping_keeps_one_literal_that_reads_back_unchanged(kind: IndicatorType, path: str, value: str) -> None:
    """The grammar (stix2-patterns) sees exactly one comparison, whose literal unescapes to the value."""
    if kind is T.REGISTRY_KEY:
        value = "HKEY_USERS\\" + value
    pattern = stix.pattern_string(kind, value)
    assert pattern is not None
    assert run_validator(pattern, stix_version="2.1") == []
    comparisons = Pattern(pattern).inspect().comparisons
    assert len(comparisons) == 1
    ((_, found),) = comparisons.items()
    assert len(found) == 1
    steps, operator, literal = found[0]
    assert steps[0] == path and operator == "="
    assert _unescape(literal) == value


@pytest.mark.parametrize("value", ["it's evil.exe", "a'b''c.dll", "évil ☠.exe"])
def test_nasty_file_names_round_trip_through_the_importer(value: str) -> None:
    parsed = parse(stix.dumps([record(T.FILENAME, value)], now=NOW))
    assert parsed.errors == []
    assert [(o.type.value, o.value) for o in parsed.observations] == [("filename", value)]


# -- the objects ------------------------------------------------------------------------------


def test_indicator_properties() -> None:
    item = record(T.IPV4, "203.0.113.5", comment="C2 of the loader")
    (indicator,) = objects_of(stix.bundle([item], now=NOW), "indicator")
    assert indicator["id"] == f"indicator--{item.id}"
    assert indicator["created"] == indicator["valid_from"] == "2025-03-01T12:00:00.123Z"
    assert indicator["modified"] == "2025-03-03T12:00:00.123Z"
    assert indicator["valid_until"] == "2025-03-31T12:00:00.123Z"
    assert indicator["confidence"] == 85
    assert indicator["indicator_types"] == ["malicious-activity"]
    assert indicator["labels"] == ["tlp:amber", "phishing"]
    assert indicator["object_marking_refs"] == ["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]
    assert indicator["description"] == "C2 of the loader"
    assert indicator["pattern_type"] == "stix"
    assert indicator["created_by_ref"] == stix.IDENTITY_ID
    assert indicator["external_references"] == [{
        "source_name": "mitre-attack", "external_id": "T1059.001", "description": "PowerShell",
        "url": "https://attack.mitre.org/techniques/T1059/001/",
    }]
    assert indicator["kill_chain_phases"] == [{"kill_chain_name": "mitre-attack", "phase_name": "execution"}]


@pytest.mark.parametrize(("confidence", "score"), [
    (Confidence.HIGH, 85), (Confidence.MEDIUM, 50), (Confidence.LOW, 15),
])
def test_confidence_scale(confidence: Confidence, score: int) -> None:
    (indicator,) = objects_of(stix.bundle([record(T.DOMAIN, "a.example.com", confidence=confidence)], now=NOW),
                              "indicator")
    assert indicator["confidence"] == score


def test_rating_tables_cover_every_member() -> None:
    assert set(stix.CONFIDENCE) == set(Confidence)
    assert set(stix._REPUTATION_TYPES) == set(Reputation)


@pytest.mark.parametrize(("source", "reporter"), [(FEED, "feodo"), (None, "iocflow")])
def test_description_without_comment_or_context_names_the_type_by_value(source: SourceRef | None,
                                                                        reporter: str) -> None:
    (indicator,) = objects_of(stix.bundle([record(T.IPV4_CIDR, "10.0.0.0/8", source=source)], now=NOW), "indicator")
    assert indicator["description"] == f"ipv4_cidr indicator reported by {reporter}"


@pytest.mark.parametrize(("reputation", "tags", "expected"), [
    (Reputation.BAD, (), ["malicious-activity"]),
    (Reputation.SUSPICIOUS, ("anonymization",), ["anomalous-activity", "anonymization"]),
    (Reputation.GOOD, (), ["benign"]),
    (Reputation.UNKNOWN, ("compromised",), ["unknown", "compromised"]),
])
def test_indicator_types(reputation: Reputation, tags: tuple[str, ...], expected: list[str]) -> None:
    item = record(T.DOMAIN, "a.example.com", reputation=reputation, tags=tags)
    (indicator,) = objects_of(stix.bundle([item], now=NOW), "indicator")
    assert indicator["indicator_types"] == expected
    assert indicator.get("labels", []) == list(tags)


@pytest.mark.parametrize("expires", [T0, T0 - timedelta(days=3)])
def test_expiry_at_or_before_first_seen_gives_the_smallest_valid_window(expires: datetime) -> None:
    item = record(T.DOMAIN, "a.example.com", expires_at=expires)
    (indicator,) = objects_of(stix.bundle([item], now=NOW), "indicator")
    assert indicator["valid_until"] == "2025-03-01T12:00:01.123Z"
    stix2.parse(indicator, allow_custom=False)  # valid_until > valid_from holds


def test_no_expiry_no_valid_until_and_last_seen_before_first_seen() -> None:
    item = record(T.DOMAIN, "a.example.com", expires_at=None, last_seen=T0 - timedelta(days=1))
    (indicator,) = objects_of(stix.bundle([item], now=NOW), "indicator")
    assert "valid_until" not in indicator
    assert indicator["modified"] == indicator["created"]


def test_naive_times_are_read_as_utc() -> None:
    naive = record(T.DOMAIN, "a.example.com", first_seen=datetime(2025, 1, 1), last_seen=datetime(2025, 1, 2),
                   expires_at=None)
    (indicator,) = objects_of(stix.bundle([naive], now=NOW), "indicator")
    assert indicator["valid_from"] == "2025-01-01T00:00:00.000Z"


def test_attack_references_for_other_matrices_mitigations_and_unknown_ids() -> None:
    item = record(T.DOMAIN, "a.example.com", techniques=("T1404", "T0800", "M1013", "T9999", "TA0002", "t1404"))
    (indicator,) = objects_of(stix.bundle([item], now=NOW), "indicator")
    refs = {ref["external_id"]: ref for ref in indicator["external_references"]}
    assert refs["T1404"]["source_name"] == "mitre-mobile-attack"
    assert refs["T0800"]["source_name"] == "mitre-ics-attack"
    assert refs["M1013"]["url"] == "https://attack.mitre.org/mitigations/M1013/"
    assert refs["T9999"] == {"source_name": "mitre-attack", "external_id": "T9999",
                             "url": "https://attack.mitre.org/techniques/T9999/"}
    assert len(indicator["external_references"]) == 5  # "t1404" is T1404 again, the tactic is a phase


def test_cve_is_a_vulnerability_and_other_types_are_counted_as_skipped() -> None:
    result = stix.build(NOT_PATTERNS, now=NOW)
    (vulnerability,) = objects_of(result.bundle, "vulnerability")
    assert vulnerability["id"] == f"vulnerability--{NOT_PATTERNS[0].id}"
    assert vulnerability["name"] == "CVE-2024-3400"
    assert vulnerability["external_references"][0] == {
        "source_name": "cve", "external_id": "CVE-2024-3400", "url": "https://www.cve.org/CVERecord?id=CVE-2024-3400"}
    assert result.skipped == {T.MITRE_ATTACK: 1, T.TLP: 1, T.BITCOIN: 1, T.PHONE: 1}
    assert objects_of(result.bundle, "indicator") == []


def test_identity_is_every_objects_creator() -> None:
    bundle = stix.bundle(ALL, now=NOW)
    (identity,) = objects_of(bundle, "identity")
    assert identity["id"] == stix.IDENTITY_ID and identity["name"] == "iocflow"
    for obj in bundle["objects"]:
        if obj is not identity:
            assert obj["created_by_ref"] == stix.IDENTITY_ID, obj["id"]


def test_one_report_per_article_referencing_its_objects() -> None:
    bundle = stix.bundle(ALL, now=NOW)
    reports = objects_of(bundle, "report")
    assert len(reports) == 2
    objects = by_id(bundle)
    main = next(r for r in reports if r["name"] == ARTICLE.article_title)
    other = next(r for r in reports if r["name"] == OTHER_ARTICLE.article_url)
    assert other["object_refs"] == [f"indicator--{indicator_id(T.DOMAIN, 'пример.рф')}"]
    expected = {f"indicator--{i.id}" for i in READABLE + NOT_READ_BACK if i.source is ARTICLE}
    expected.add(f"vulnerability--{NOT_PATTERNS[0].id}")
    assert set(main["object_refs"]) == expected
    assert all(ref in objects for ref in main["object_refs"])
    assert main["published"] == "2025-03-01T12:00:00.123Z"
    assert main["external_references"] == [{"source_name": "research-blog", "url": ARTICLE.article_url}]
    assert main["report_types"] == ["threat-report"]


def test_empty_export_is_a_valid_bundle() -> None:
    bundle = stix.bundle([], now=NOW)
    assert [obj["type"] for obj in bundle["objects"]] == ["identity"]
    assert stix2validator.validate_instance(bundle, stix2validator.ValidationOptions(version="2.1")).is_valid


def test_duplicate_records_give_one_indicator() -> None:
    item = record(T.DOMAIN, "a.example.com")
    assert len(objects_of(stix.bundle([item, item], now=NOW), "indicator")) == 1


# -- determinism ------------------------------------------------------------------------------


def test_same_records_same_bytes_whenever_exported() -> None:
    first = stix.dumps(ALL, now=NOW)
    assert stix.dumps(list(ALL), now=NOW + timedelta(days=365)) == first
    assert stix.bundle(iter(ALL), now=NOW)["id"] == json.loads(first)["id"]


def test_a_changed_record_keeps_its_id_and_moves_modified() -> None:
    item = record(T.DOMAIN, "a.example.com")
    later = record(T.DOMAIN, "a.example.com", last_seen=T0 + timedelta(days=9))
    (before,) = objects_of(stix.bundle([item], now=NOW), "indicator")
    (after,) = objects_of(stix.bundle([later], now=NOW), "indicator")
    assert before["id"] == after["id"] and after["modified"] > before["modified"]
    assert stix.bundle([item], now=NOW)["id"] != stix.bundle([later], now=NOW)["id"]


# -- round trip through iocflow's STIX importer -----------------------------------------------


def test_round_trip_through_the_importer_keeps_every_value_and_type() -> None:
    parsed = parse(stix.dumps(READABLE, now=NOW))
    assert parsed.errors == []
    assert [(o.type, o.value) for o in parsed.observations] == [(i.type, i.value) for i in READABLE]
    for item, obs in zip(READABLE, parsed.observations, strict=True):
        assert obs.confidence == item.confidence
        assert obs.first_seen == item.first_seen.replace(microsecond=123000)
        assert obs.expiry == item.expires_at.replace(microsecond=123000)
        assert set(item.tags) <= set(obs.tags)
        assert set(item.techniques) <= set(obs.techniques)
        assert obs.reporter == "iocflow"
        assert obs.ref == f"indicator--{item.id}"
    url = next(o for o in parsed.observations if o.type is T.URL)
    assert url.comment == "a comment with 'quotes' and \\ backslash"


def test_types_the_importer_does_not_read_are_still_valid_single_patterns() -> None:
    """file_path, user_agent, socket_address, imphash: valid STIX the importer refuses by name, never misreads.

    An abbreviated hive is spelled out (the spec's MUST), so it comes back as
    ``HKEY_LOCAL_MACHINE\\...``; this one holds a quote, which iocflow's
    registry-key rule refuses on import.
    """
    parsed = parse(stix.dumps(NOT_READ_BACK, now=NOW))
    assert parsed.observations == []
    assert len(parsed.errors) == len(NOT_READ_BACK)
