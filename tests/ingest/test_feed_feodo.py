"""Feodo Tracker: the botnet C2 IP blocklist, JSON and CSV, read into address and ip:port observations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from iocflow.exceptions import FeedError
from iocflow.ingest.feeds import feodo
from iocflow.ingest.report import Parsed
from iocflow.store.records import Observation
from iocflow.store.vocabulary import IndicatorType, Reliability, Reputation, Severity, SourceCategory

FIXTURES = Path(__file__).parent / "fixtures"
JSON = FIXTURES / "feodo_ipblocklist.json"
CSV = FIXTURES / "feodo_ipblocklist.csv"
BOM = b"\xef\xbb\xbf"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def find(parsed: Parsed, kind: IndicatorType, value: str) -> list[Observation]:
    return [o for o in parsed.observations if o.type is kind and o.value == value]


def errors(parsed: Parsed) -> list[tuple[int | None, str, str | None]]:
    return [(e.line, e.message, e.value) for e in parsed.errors]


@pytest.fixture(scope="module")
def json_parsed() -> Parsed:
    return feodo.parse(JSON.read_bytes())


@pytest.fixture(scope="module")
def csv_parsed() -> Parsed:
    return feodo.parse(CSV.read_bytes())


def test_fixtures_keep_the_real_quirks() -> None:
    data = CSV.read_bytes()
    assert data.startswith(BOM)
    assert data.count(b"\n") == data.count(b"\r\n")
    assert not data.endswith(b"\n")  # the last line is cut short


# -- one row, two observations ----------------------------------------------------------------


# (ip, port, first_seen, last_seen, malware) for every good row; the same rows are in both fixtures,
# except 67.213.75.205 (its JSON row has port 0) and the second 51.178.161.32 port (JSON only).
GOOD = [
    pytest.param("51.178.161.32", 4643, "2021-01-17 07:44:46", "2024-05-01 00:00:00", "Dridex", id="dridex"),
    pytest.param("162.243.103.246", 8080, "2022-06-04 21:24:53", "2024-04-28 00:00:00", "Emotet", id="emotet"),
    pytest.param("50.16.16.211", 443, "2024-05-01 07:10:02", "2024-05-01 07:10:02", "QakBot",
                 id="last-online-same-day-raised-to-first-seen"),
]


@pytest.mark.parametrize(("ip", "port", "first_seen", "last_seen", "malware"), GOOD)
@pytest.mark.parametrize("document", ["json", "csv"])
def test_good_rows_give_address_and_socket(request: pytest.FixtureRequest, document: str, ip: str, port: int,
                                           first_seen: str, last_seen: str, malware: str) -> None:
    parsed: Parsed = request.getfixturevalue(f"{document}_parsed")
    (address,) = [o for o in find(parsed, IndicatorType.IPV4, ip) if o.first_seen == at(first_seen)]
    (socket,) = find(parsed, IndicatorType.SOCKET_ADDRESS, f"{ip}:{port}")
    for obs in (address, socket):
        assert obs.first_seen == at(first_seen)
        assert obs.last_seen == at(last_seen)
        assert obs.malware == malware
        assert obs.tags == ("botnet_cc", "c2", malware)
        assert obs.threat_type == "botnet_cc"
        assert obs.indicator_class == "Malware"
        assert obs.ref is None


def test_csv_only_row(csv_parsed: Parsed) -> None:
    (socket,) = find(csv_parsed, IndicatorType.SOCKET_ADDRESS, "67.213.75.205:443")
    assert socket.last_seen == at("2024-04-20 00:00:00")
    assert socket.extra == {"status": "offline"}


def test_last_online_is_a_date_read_as_utc_midnight(json_parsed: Parsed) -> None:
    (obs,) = find(json_parsed, IndicatorType.SOCKET_ADDRESS, "162.243.103.246:8080")
    assert obs.last_seen == datetime(2024, 4, 28, tzinfo=UTC)
    assert obs.last_seen is not None and obs.last_seen.utcoffset() == timedelta(0)


def test_same_address_on_two_ports(json_parsed: Parsed) -> None:
    assert len(find(json_parsed, IndicatorType.IPV4, "51.178.161.32")) == 2
    assert find(json_parsed, IndicatorType.SOCKET_ADDRESS, "51.178.161.32:4643")
    assert find(json_parsed, IndicatorType.SOCKET_ADDRESS, "51.178.161.32:443")


def test_network_details_go_to_extra_not_indicators(json_parsed: Parsed) -> None:
    (obs,) = find(json_parsed, IndicatorType.SOCKET_ADDRESS, "50.16.16.211:443")
    assert obs.extra == {"status": "online", "hostname": "ec2-50-16-16-211.compute-1.amazonaws.com",
                         "as_number": 14618, "as_name": "AMAZON-AES", "country": "US"}
    (no_hostname,) = find(json_parsed, IndicatorType.SOCKET_ADDRESS, "51.178.161.32:4643")
    assert "hostname" not in no_hostname.extra
    kinds = {o.type for o in json_parsed.observations}
    assert kinds == {IndicatorType.IPV4, IndicatorType.SOCKET_ADDRESS}  # the rDNS hostname is no domain indicator
    assert not {"online", "offline"} & {t for o in json_parsed.observations for t in o.tags}


# -- counts and rejected rows -----------------------------------------------------------------


def test_json_counts(json_parsed: Parsed) -> None:
    assert json_parsed.rows_read == 8
    assert len(json_parsed.observations) == 8  # four good rows, two observations each
    assert errors(json_parsed) == [
        (3, "ip_address: not a valid ipv4/ipv6", "185.247.228.300"),
        (4, "port is not a TCP port: 0", "67.213.75.205"),
        (5, "first_seen is not a time: '2024-05-01 25:61:00'", "111.230.104.169"),
        (6, "missing ip_address", None),
    ]


def test_csv_counts(csv_parsed: Parsed) -> None:
    assert csv_parsed.rows_read == 8
    assert len(csv_parsed.observations) == 8
    assert errors(csv_parsed) == [
        (14, "ip_address: not a valid ipv4/ipv6", "256.16.16.4"),
        (15, "port is not a TCP port: '99999'", "34.204.119.63"),
        (16, "last_online is not a time: 'yesterday'", "34.204.119.63"),
        (17, "expected 6 fields, got 4 (truncated or malformed row)",
         '"2024-04-30 18:22:09","46.101.90.205","4643","on'),
    ]


def test_lf_and_no_bom_read_the_same(csv_parsed: Parsed) -> None:
    plain = feodo.parse(CSV.read_bytes().removeprefix(BOM).replace(b"\r\n", b"\n"))
    assert plain.observations == csv_parsed.observations
    assert errors(plain) == errors(csv_parsed)


def test_json_with_bom(json_parsed: Parsed) -> None:
    assert feodo.parse(BOM + JSON.read_bytes()).observations == json_parsed.observations


@pytest.mark.parametrize(
    ("port", "reason"),
    [
        pytest.param('"-1"', "port is not a TCP port: '-1'", id="negative"),
        pytest.param('"65536"', "port is not a TCP port: '65536'", id="too-big"),
        pytest.param('"4 43"', "port is not a TCP port: '4 43'", id="space"),
        pytest.param("true", "port is not a TCP port: True", id="boolean"),
        pytest.param("null", "missing port", id="null"),
    ],
)
def test_bad_ports(port: str, reason: str) -> None:
    row = f'[{{"ip_address": "203.0.113.8", "port": {port}, "first_seen": "2024-05-01 10:00:00"}}]'
    assert [e.message for e in feodo.parse(row.encode()).errors] == [reason]


def test_ipv6_socket_is_bracketed() -> None:
    parsed = feodo.parse(b'[{"ip_address": "2001:DB8::8", "port": 443, "malware": "QakBot"}]')
    assert [(o.type, o.value) for o in parsed.observations] == [
        (IndicatorType.IPV6, "2001:db8::8"), (IndicatorType.SOCKET_ADDRESS, "[2001:db8::8]:443")]


# -- documents that are not the format --------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param((FIXTURES / "feodo_error_page.html").read_bytes(), "HTML page", id="html-error-page"),
        pytest.param((FIXTURES / "feodo_ipblocklist_truncated.json").read_bytes(), "not valid JSON",
                     id="truncated-json"),
        pytest.param(b"", "empty", id="empty"),
        pytest.param(b'{"ip_address": "203.0.113.8"}', "not a list", id="json-object"),
        pytest.param(b"# Feodo\n1.2.3.4\n5.6.7.8\n", "header", id="plain-ip-list"),
        pytest.param(b"################\r\n# Feodo Tracker\r\n", "header", id="banner-only"),
    ],
)
def test_not_the_format_raises(data: bytes, reason: str) -> None:
    with pytest.raises(FeedError, match=reason) as caught:
        feodo.parse(data)
    assert caught.value.source == "feodo"


def test_empty_list_is_an_empty_feed() -> None:
    parsed = feodo.parse(b"[]")
    assert (parsed.rows_read, parsed.observations, parsed.errors) == (0, [], [])


def test_format() -> None:
    fmt = feodo.FORMAT
    assert fmt.name == "feodo"
    assert fmt.parse is feodo.parse
    assert fmt.default_url == "https://feodotracker.abuse.ch/downloads/ipblocklist.json"
    assert (fmt.category, fmt.reliability, fmt.reputation, fmt.severity) == (
        SourceCategory.THREAT_INTEL, Reliability.B, Reputation.BAD, Severity.HIGH)
    assert fmt.documentation.startswith("https://feodotracker.abuse.ch/")
