"""ThreatFox: the JSON export keyed by id and the get_iocs API answer, read into typed observations."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from iocflow.exceptions import FeedError
from iocflow.ingest.feeds import threatfox
from iocflow.ingest.report import Parsed
from iocflow.store.records import Observation
from iocflow.store.vocabulary import Confidence, IndicatorType, Reliability, Reputation, SourceCategory

FIXTURES = Path(__file__).parent / "fixtures"
EXPORT = FIXTURES / "threatfox_recent.json"
API = FIXTURES / "threatfox_iocs_api.json"
BOM = b"\xef\xbb\xbf"
T = IndicatorType


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def find(parsed: Parsed, ref: str) -> list[Observation]:
    return [o for o in parsed.observations if o.ref == ref]


def errors(parsed: Parsed) -> list[tuple[int | None, str, str | None]]:
    return [(e.line, e.message, e.value) for e in parsed.errors]


def one_row(**fields: object) -> bytes:
    row = {"ioc_value": "203.0.113.8:443", "ioc_type": "ip:port", "threat_type": "botnet_cc",
           "malware": "win.sliver", "malware_printable": "Sliver", "first_seen_utc": "2024-05-01 10:00:00",
           "last_seen_utc": None, "confidence_level": 100, "tags": None, "reporter": "abuse_ch"} | fields
    return json.dumps({"7": [row]}).encode()


@pytest.fixture(scope="module")
def export() -> Parsed:
    return threatfox.parse(EXPORT.read_bytes())


@pytest.fixture(scope="module")
def api() -> Parsed:
    return threatfox.parse(API.read_bytes())


# -- the export -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "expected", "confidence", "malware", "tags"),
    [
        pytest.param("1265012", [(T.SOCKET_ADDRESS, "198.51.100.37:443"), (T.IPV4, "198.51.100.37")],
                     Confidence.HIGH, "Cobalt Strike",
                     ("c2", "CobaltStrike", "cs-watermark-987654321", "botnet_cc", "Cobalt Strike"), id="ipv4-port"),
        pytest.param("1265013", [(T.SOCKET_ADDRESS, "[2001:db8:85a3::8a2e:370:7334]:8443"),
                                 (T.IPV6, "2001:db8:85a3::8a2e:370:7334")],
                     Confidence.HIGH, "Sliver", ("botnet_cc", "c2", "Sliver"), id="ipv6-port-none-tags"),
        pytest.param("1265014", [(T.DOMAIN, "cdn-update.example.net")], Confidence.MEDIUM, "ClearFake",
                     ("payload_delivery", "ClearFake", "compromised"), id="defanged-domain-compromised"),
        pytest.param("1265015", [(T.URL, "http://203.0.113.45:8080/uploads/stage2.bin")], Confidence.LOW,
                     "AsyncRAT", ("AsyncRAT", "exe", "payload_delivery"), id="url-low-confidence"),
        pytest.param("1265016", [(T.MD5, "5d41402abc4b2a76b9719d911017c592")], Confidence.HIGH, None,
                     ("payload",), id="md5-uppercase-unknown-malware"),
        pytest.param("1265017", [(T.SHA256, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")],
                     Confidence.HIGH, "Agent Tesla", ("AgentTesla", "payload", "Agent Tesla"), id="sha256"),
    ],
)
def test_export_good_rows(export: Parsed, ref: str, expected: list[tuple[IndicatorType, str]],
                          confidence: Confidence, malware: str | None, tags: tuple[str, ...]) -> None:
    found = find(export, ref)
    assert [(o.type, o.value) for o in found] == expected
    for obs in found:
        assert obs.confidence is confidence
        assert obs.malware == malware
        assert obs.tags == tags
        assert obs.indicator_class == "Malware"
        assert obs.first_seen is not None and obs.first_seen.utcoffset() == timedelta(0)


def test_export_times_reporter_and_extra(export: Parsed) -> None:
    (domain,) = find(export, "1265014")
    assert (domain.first_seen, domain.last_seen) == (at("2024-05-01 11:31:07"), at("2024-05-01 11:58:40"))
    assert domain.threat_type == "payload_delivery"
    assert domain.reporter == "abuse_ch"
    assert domain.extra == {"malpedia": "js.clearfake"}
    socket, address = find(export, "1265012")
    assert socket.last_seen is None
    assert socket.extra == address.extra == {"malware_alias": "Agentemis,BEACON,CobaltStrike,cobeacon",
                                             "malpedia": "win.cobalt_strike"}
    (url,) = find(export, "1265015")
    assert url.extra["reference"] == "https://bazaar.abuse.ch/browse/tag/AsyncRAT/"
    (md5,) = find(export, "1265016")
    assert md5.extra == {}  # "unknown" family, no alias, no reference
    assert find(export, "1265013")[0].reporter == "anonymous"


def test_export_counts_and_rejections(export: Parsed) -> None:
    assert export.rows_read == 12
    assert len(export.observations) == 8
    assert errors(export) == [
        (1265018, "ioc_value: not a valid socket_address", "999.12.4.1:443"),
        (1265019, "unsupported ioc_type 'sha3_384_hash'",
         "4a412b6dce29a569782cf50163faf3551eb98bb15194a24fae6c061e64c864b43de40e3faa4ac62f075b869615a7f868"),
        (1265020, "confidence_level is not a number: 'high'", "update-service.example.com"),
        (1265021, "first_seen_utc is not a time: '01/05/2024 10:40'", "203.0.113.88:7443"),
        (1265022, "missing ioc_value", None),
        (1265023, "expected a list holding the IOC", None),
    ]


def test_no_none_tags_anywhere(export: Parsed, api: Parsed) -> None:
    for obs in export.observations + api.observations:
        assert "None" not in obs.tags


def test_export_with_bom(export: Parsed) -> None:
    assert threatfox.parse(BOM + EXPORT.read_bytes()).observations == export.observations


def test_export_crlf_reads_the_same(export: Parsed) -> None:
    crlf = threatfox.parse(EXPORT.read_bytes().replace(b"\n", b"\r\n"))
    assert crlf.observations == export.observations
    assert errors(crlf) == errors(export)


def test_id_that_is_not_a_number_is_named_in_the_message() -> None:
    parsed = threatfox.parse(json.dumps({"7": [{"ioc_value": "gaga.com", "ioc_type": "domain",
                                                "confidence_level": 50}],
                                         "x-1": [{"ioc_value": "bad value", "ioc_type": "domain",
                                                  "confidence_level": 50}]}).encode())
    assert [o.value for o in parsed.observations] == ["gaga.com"]
    assert errors(parsed) == [(None, "id 'x-1': ioc_value: not a valid domain", "bad value")]


# -- confidence_level -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "confidence"),
    [(100, Confidence.HIGH), (75, Confidence.HIGH), (74, Confidence.MEDIUM), (50, Confidence.MEDIUM),
     (49, Confidence.LOW), (0, Confidence.LOW), ("80", Confidence.HIGH), (74.5, Confidence.MEDIUM)],
)
def test_confidence_level_maps_to_confidence(level: object, confidence: Confidence) -> None:
    parsed = threatfox.parse(one_row(confidence_level=level))
    assert {o.confidence for o in parsed.observations} == {confidence}


@pytest.mark.parametrize(
    ("level", "reason"),
    [(101, "outside 0-100"), (-1, "outside 0-100"), ("high", "not a number"), (True, "not a number"),
     (None, "missing confidence_level"), ("", "missing confidence_level")],
)
def test_bad_confidence_level_rejects_the_row(level: object, reason: str) -> None:
    parsed = threatfox.parse(one_row(confidence_level=level))
    assert parsed.observations == []
    assert [e.line for e in parsed.errors] == [7]
    assert reason in parsed.errors[0].message


@pytest.mark.parametrize(
    ("ioc_type", "value", "expected"),
    [
        pytest.param("domain", "203.0.113.8", "not a valid domain", id="ip-in-domain-column"),
        pytest.param("md5_hash", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                     "not a valid md5", id="sha256-in-md5-column"),
        pytest.param("ip:port", "203.0.113.8", "not a valid socket_address", id="ip-without-port"),
        pytest.param("ip:port", "203.0.113.8:0", "not a valid socket_address", id="port-zero"),
        pytest.param(None, "203.0.113.8:443", "missing ioc_type", id="no-type"),
    ],
)
def test_value_must_be_its_columns_type(ioc_type: str | None, value: str, expected: str) -> None:
    parsed = threatfox.parse(one_row(ioc_type=ioc_type, ioc_value=value))
    assert parsed.observations == []
    assert expected in parsed.errors[0].message


# -- the API answer ---------------------------------------------------------------------------


def test_api_answer(api: Parsed) -> None:
    assert api.rows_read == 5
    (doc_example,) = find(api, "41")
    assert (doc_example.type, doc_example.value) == (T.DOMAIN, "gaga.com")
    assert doc_example.first_seen == at("2020-12-08 13:36:27")
    assert doc_example.last_seen is None
    assert doc_example.confidence is Confidence.MEDIUM
    assert doc_example.malware == "Dridex"
    assert doc_example.tags == ("exe", "test", "botnet_cc", "c2", "Dridex")
    assert doc_example.extra["reference"] == "https://twitter.com/JAMESWT_MHT/status/1336229725082177536"
    socket, address = find(api, "1265030")
    assert [(socket.type, socket.value), (address.type, address.value)] == [
        (T.SOCKET_ADDRESS, "198.51.100.14:2222"), (T.IPV4, "198.51.100.14")]
    assert socket.last_seen == at("2024-05-01 11:00:00")
    assert socket.tags == ("botnet_cc", "c2", "QakBot")  # tags: null
    (sha1,) = find(api, "1265032")
    assert (sha1.value, sha1.confidence, sha1.tags) == (
        "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", Confidence.LOW, ("payload", "Remcos"))
    assert errors(api) == [
        (2, "ioc_value: not a valid url", "http://exa mple.com/x"),
        (4, "confidence_level is outside 0-100: 150", "login-verify.example.org"),
    ]


@pytest.mark.parametrize("status", ["no_result", "no_results"])
def test_api_no_result_is_an_empty_feed(status: str) -> None:
    parsed = threatfox.parse(json.dumps({"query_status": status,
                                         "data": "Your search did not yield any results"}).encode())
    assert (parsed.rows_read, parsed.observations, parsed.errors) == (0, [], [])


# -- documents that are not the format --------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param((FIXTURES / "threatfox_error_page.html").read_bytes(), "HTML page", id="html-error-page"),
        pytest.param((FIXTURES / "threatfox_recent_truncated.json").read_bytes(), "not valid JSON",
                     id="truncated-export"),
        pytest.param(API.read_bytes()[:900], "not valid JSON", id="truncated-api"),
        pytest.param(b"", "empty", id="empty"),
        pytest.param(b'"first_seen_utc","ioc_id","ioc_value"\n', "not valid JSON", id="csv-export"),
        pytest.param(b"[]", "neither", id="json-list"),
        pytest.param(b'{"error": "rate limited"}', "not keyed by ThreatFox id", id="json-other-object"),
        pytest.param(b'{"query_status": "illegal_auth_key"}', "illegal_auth_key", id="api-refused"),
        pytest.param(b'{"query_status": "ok", "data": "nothing"}', "'data' list", id="api-without-data"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "not valid JSON, truncated or corrupt: depth limit", id="deep-nesting"),
    ],
)
def test_not_the_format_raises(data: bytes, reason: str) -> None:
    with pytest.raises(FeedError, match=reason) as caught:
        threatfox.parse(data)
    assert caught.value.source == "threatfox"


def test_empty_export_is_an_empty_feed() -> None:
    parsed = threatfox.parse(b"{}")
    assert (parsed.rows_read, parsed.observations, parsed.errors) == (0, [], [])


def test_format() -> None:
    fmt = threatfox.FORMAT
    assert fmt.name == "threatfox"
    assert fmt.parse is threatfox.parse
    assert fmt.default_url == "https://threatfox.abuse.ch/export/json/recent/"
    assert (fmt.category, fmt.reliability, fmt.reputation, fmt.severity) == (
        SourceCategory.THREAT_INTEL, Reliability.B, Reputation.BAD, None)
    assert fmt.documentation.startswith("https://threatfox.abuse.ch/")
