"""URLhaus: the CSV dump, the recent-URLs API answer and the JSON dump, read into URL observations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from iocflow.exceptions import FeedError
from iocflow.ingest.feeds import urlhaus
from iocflow.ingest.report import Parsed
from iocflow.store.records import Observation
from iocflow.store.vocabulary import IndicatorType, Reliability, Reputation, Severity, SourceCategory

FIXTURES = Path(__file__).parent / "fixtures"
CSV = FIXTURES / "urlhaus_recent.csv"
API = FIXTURES / "urlhaus_recent_api.json"
DUMP = FIXTURES / "urlhaus_recent_dump.json"
BOM = b"\xef\xbb\xbf"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def by_ref(parsed: Parsed) -> dict[str | None, Observation]:
    return {o.ref: o for o in parsed.observations}


def errors(parsed: Parsed) -> list[tuple[int | None, str, str | None]]:
    return [(e.line, e.message, e.value) for e in parsed.errors]


# -- CSV dump ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def csv_parsed() -> Parsed:
    return urlhaus.parse(CSV.read_bytes())


def test_fixture_has_crlf_line_ends() -> None:
    data = CSV.read_bytes()
    assert b"\r\n" in data and data.count(b"\n") == data.count(b"\r\n")


def test_csv_counts_data_rows_not_banner(csv_parsed: Parsed) -> None:
    assert csv_parsed.rows_read == 8
    assert len(csv_parsed.observations) == 5
    assert len(csv_parsed.errors) == 3


@pytest.mark.parametrize(
    ("ref", "value", "first_seen", "last_seen", "tags", "status"),
    [
        pytest.param("2857431", "http://198.51.100.23:41534/i", "2024-05-01 12:00:07", "2024-05-01 12:00:07",
                     ("32-bit", "elf", "mips", "Mozi", "malware_download"), "online", id="ip-host-with-port"),
        pytest.param("2857430", "https://files.example.net/wp-content/uploads/2024/04/Invoice_0419.zip",
                     "2024-05-01 11:58:44", None, ("malware_download",), "offline", id="offline-none-tags"),
        pytest.param("2857429", "http://update-check.example.com/bins/arm7", "2024-05-01 11:55:21",
                     "2024-05-01 11:59:02", ("elf", "Mirai", "malware_download"), "online", id="defanged-refanged"),
        pytest.param("2857426", "http://203.0.113.50/gate.php?id=1,2", "2024-05-01 11:47:33", None,
                     ("malware_download",), "online", id="comma-inside-quoted-url"),
        pytest.param("2857425", "https://198.51.100.7:8443/download.php?id=7781", "2024-05-01 11:45:00", None,
                     ("AgentTesla", "exe", "malware_download"), "unknown", id="https-query"),
    ],
)
def test_csv_good_rows(csv_parsed: Parsed, ref: str, value: str, first_seen: str, last_seen: str | None,
                       tags: tuple[str, ...], status: str) -> None:
    obs = by_ref(csv_parsed)[ref]
    assert obs.type is IndicatorType.URL
    assert obs.value == value
    assert obs.first_seen == at(first_seen)
    assert obs.last_seen == (at(last_seen) if last_seen else None)
    assert obs.tags == tags
    assert obs.extra == {"url_status": status, "link": f"https://urlhaus.abuse.ch/url/{ref}/"}


@pytest.mark.parametrize(
    ("line", "reason", "value"),
    [
        pytest.param(13, "url: not a valid url", "http://exa mple.com/payload.exe", id="invalid-url"),
        pytest.param(14, "dateadded is not a time: '2024-13-45 11:50:00'", "http://203.0.113.77/bins/x86",
                     id="bad-date"),
        pytest.param(17, "expected 9 fields, got 3 (truncated or malformed row)",
                     '"2857424","2024-05-01 11:41:10","http://203.0.113.9/bin', id="truncated-last-line"),
    ],
)
def test_csv_bad_rows_rejected_with_line(csv_parsed: Parsed, line: int, reason: str, value: str) -> None:
    assert (line, reason, value) in errors(csv_parsed)


def test_csv_shared_mapping(csv_parsed: Parsed) -> None:
    for obs in csv_parsed.observations:
        assert obs.threat_type == "malware_download"
        assert obs.malware is None  # URLhaus tags are no reliable family
        assert obs.indicator_class == "Malware"
        assert obs.first_seen is not None and obs.first_seen.utcoffset() == timedelta(0)
        assert "None" not in obs.tags
        assert not {"online", "offline", "unknown"} & set(obs.tags)
    assert by_ref(csv_parsed)["2857431"].reporter == "geenensp"


def test_host_is_not_an_indicator_of_its_own(csv_parsed: Parsed) -> None:
    assert {o.type for o in csv_parsed.observations} == {IndicatorType.URL}


def test_lf_and_crlf_read_the_same(csv_parsed: Parsed) -> None:
    lf = urlhaus.parse(CSV.read_bytes().replace(b"\r\n", b"\n"))
    assert lf.observations == csv_parsed.observations
    assert errors(lf) == errors(csv_parsed)
    assert lf.rows_read == csv_parsed.rows_read


def test_bom_is_ignored(csv_parsed: Parsed) -> None:
    with_bom = urlhaus.parse(BOM + CSV.read_bytes())
    assert with_bom.observations == csv_parsed.observations
    assert errors(with_bom) == errors(csv_parsed)


def test_header_only_dump_is_empty_not_an_error() -> None:
    head = b"################\r\n# URLhaus\r\n# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\r\n"
    parsed = urlhaus.parse(head)
    assert (parsed.rows_read, parsed.observations, parsed.errors) == (0, [], [])


def test_columns_are_read_by_header_name() -> None:
    """Older dumps had no last_online column; the header says which field is which."""
    data = (b"# id,dateadded,url,url_status,threat,tags,urlhaus_link,reporter\n"
            b'"77","2019-03-01 10:00:00","http://203.0.113.5/x.exe","offline","malware_download","exe",'
            b'"https://urlhaus.abuse.ch/url/77/","abuse_ch"\n')
    (obs,) = urlhaus.parse(data).observations
    assert (obs.value, obs.first_seen, obs.last_seen, obs.tags) == (
        "http://203.0.113.5/x.exe", at("2019-03-01 10:00:00"), None, ("exe", "malware_download"))


def test_nul_byte_rejects_the_row_only() -> None:
    data = (b"# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n"
            b'"1","2024-05-01 10:00:00","http://203.0.113.5/a\x00b","online","","malware_download","","",""\n'
            b'"2","2024-05-01 10:00:00","http://203.0.113.5/ok","online","","malware_download","","",""\n')
    parsed = urlhaus.parse(data)
    assert [o.ref for o in parsed.observations] == ["2"]
    assert [e.line for e in parsed.errors] == [2]


def test_url_with_out_of_range_ipv4_host_is_rejected() -> None:
    data = (b"# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n"
            b'"3","2024-05-01 10:00:00","http://300.12.4.1:8080/Mozi.m","online","","malware_download","","",""\n')
    assert [e.line for e in urlhaus.parse(data).errors] == [2]


# -- JSON: API answer and dump ----------------------------------------------------------------


def test_api_answer() -> None:
    parsed = urlhaus.parse(API.read_bytes())
    assert parsed.rows_read == 5
    found = by_ref(parsed)
    assert set(found) == {"223622", "2857440", "2857443"}
    doc_example = found["223622"]
    assert doc_example.value == "http://45.61.49.78/razor/r4z0r.mips"
    assert doc_example.first_seen == at("2019-08-10 09:02:05")
    assert doc_example.last_seen is None
    assert doc_example.tags == ("elf", "malware_download")
    assert doc_example.reporter == "zbetcheckin"
    assert doc_example.extra == {"url_status": "offline", "link": "https://urlhaus.abuse.ch/url/223622/"}
    assert found["2857440"].tags == ("malware_download",)  # tags: null
    assert found["2857443"].tags == ("AsyncRAT", "malware_download")  # "None" and the duplicate dropped
    assert errors(parsed) == [
        (2, "missing url", None),
        (3, "date_added is not a time: 'yesterday'", "http://203.0.113.62/sshd"),
    ]


def test_api_no_results_is_an_empty_feed() -> None:
    parsed = urlhaus.parse(b'{"query_status": "no_results"}')
    assert (parsed.rows_read, parsed.observations, parsed.errors) == (0, [], [])


def test_api_answer_with_bom() -> None:
    plain = urlhaus.parse(API.read_bytes())
    assert urlhaus.parse(BOM + API.read_bytes()).observations == plain.observations


def test_json_dump_keyed_by_id() -> None:
    parsed = urlhaus.parse(DUMP.read_bytes())
    assert parsed.rows_read == 3
    found = by_ref(parsed)
    assert found["2857431"].tags == ("32-bit", "elf", "mips", "Mozi", "malware_download")
    assert found["2857431"].last_seen == at("2024-05-01 12:00:07")
    assert found["2857430"].last_seen is None
    assert errors(parsed) == [(2857428, "url: not a valid url", "http://exa mple.com/payload.exe")]


# -- documents that are not the format --------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param((FIXTURES / "urlhaus_error_page.html").read_bytes(), "HTML page", id="html-error-page"),
        pytest.param(API.read_bytes()[:700], "not valid JSON", id="truncated-api-json"),
        pytest.param(DUMP.read_bytes()[:-40], "not valid JSON", id="truncated-dump-json"),
        pytest.param(b"", "empty", id="empty"),
        pytest.param(BOM + b"  \r\n", "empty", id="bom-and-blank"),
        pytest.param(b"Rate limit exceeded. Try again later.\n", "header", id="plain-text"),
        pytest.param(b"# URLhaus\n# nothing here\n", "header", id="banner-without-header"),
        pytest.param(b"[1, 2]", "neither", id="json-list"),
        pytest.param(b'{"error": "unknown"}', "not keyed by URLhaus id", id="json-other-object"),
        pytest.param(b'{"query_status": "unknown_auth_key"}', "unknown_auth_key", id="api-refused"),
        pytest.param(b'{"query_status": "ok", "urls": null}', "'urls' list", id="api-without-urls"),
        pytest.param(b'{"query_status": "ok", "urls": [\xff]}', "not valid JSON.*UTF-8", id="json-not-utf8"),
    ],
)
def test_not_the_format_raises(data: bytes, reason: str) -> None:
    with pytest.raises(FeedError, match=reason) as caught:
        urlhaus.parse(data)
    assert caught.value.source == "urlhaus"


def test_format() -> None:
    fmt = urlhaus.FORMAT
    assert fmt.name == "urlhaus"
    assert fmt.parse is urlhaus.parse
    assert fmt.default_url == "https://urlhaus.abuse.ch/downloads/csv_recent/"
    assert (fmt.category, fmt.reliability, fmt.reputation, fmt.severity) == (
        SourceCategory.THREAT_INTEL, Reliability.B, Reputation.BAD, Severity.HIGH)
    assert fmt.documentation.startswith("https://urlhaus.abuse.ch/")
