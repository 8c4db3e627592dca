"""MISP feeds: a manifest and its event files, one event document, and what is counted as rejected."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from iocflow.exceptions import FeedError
from iocflow.ingest.feeds import misp
from iocflow.ingest.report import Parsed
from iocflow.store.records import Observation
from iocflow.store.vocabulary import Confidence, IndicatorType as T, Reputation, Severity

FEED = Path(__file__).parent / "fixtures" / "misp_feed"
FULL = "c3a5e1f0-6b7d-4e2a-9f11-2d8b4c6e0a01"
SPARSE = "8d1f0e44-2c9b-4f6a-b3d5-7e0a1c2b3d4e"
TRUNCATED = "5b6c7d8e-9f01-4a2b-8c3d-4e5f60718293"
MISSING = "0a1b2c3d-4e5f-4061-9728-3a4b5c6d7e8f"
NOT_AN_EVENT = "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b"
EVENT_DATE = datetime(2024, 3, 14, tzinfo=UTC)
ATTRIBUTE_TIME = datetime(2024, 3, 14, 10, 30, tzinfo=UTC)  # "timestamp": "1710412200"
FULL_TAGS = ("tlp:white", "type:OSINT")
MONERO = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"


def read_fixture(name: str) -> bytes:
    """The tests' ``fetch``: a document named relative to the feed folder."""
    return (FEED / name).read_bytes()


def attr_uuid(n: int) -> str:
    return f"6a0b{n:04x}-1c2d-4e3f-8a4b-5c6d7e8f9a0b"


@pytest.fixture(scope="module")
def feed() -> Parsed:
    return misp.parse(read_fixture("manifest.json"), read_fixture)


def of(parsed: Parsed, n: int) -> list[Observation]:
    return [o for o in parsed.observations if o.ref == attr_uuid(n)]


def values(parsed: Parsed, n: int) -> list[tuple[T, str]]:
    return [(o.type, o.value) for o in of(parsed, n)]


def event(*attributes: dict[str, Any], **fields: Any) -> bytes:
    body = {"uuid": "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7", "info": "inline", "date": "2024-05-01",
            "threat_level_id": "2", "published": True, "Orgc": {"name": "Inline Org"},
            "Attribute": list(attributes)}
    body.update(fields)
    return json.dumps({"Event": body}).encode()


def attribute(type_: str, value: object, **fields: Any) -> dict[str, Any]:
    attr = {"uuid": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a", "type": type_, "category": "Network activity",
            "value": value, "to_ids": True, "timestamp": "1714564800", "comment": ""}
    attr.update(fields)
    return attr


# -- the feed ---------------------------------------------------------------------------------


def test_counts(feed: Parsed) -> None:
    # 31 attributes of the full event (4 in objects), 8 of the sparse one, 3 event files that fail
    assert feed.rows_read == 42
    assert len(feed.observations) == 34
    assert len(feed.errors) == 12


def test_an_attribute_with_its_event_context(feed: Parsed) -> None:
    assert of(feed, 1) == [Observation(
        T.IPV4,
        "198.51.100.23",
        first_seen=EVENT_DATE,  # the event's date
        last_seen=ATTRIBUTE_TIME,  # the attribute's timestamp
        confidence=Confidence.HIGH,  # to_ids: true
        severity=Severity.HIGH,  # threat_level_id 1
        reputation=None,  # the feed's default (bad)
        tags=FULL_TAGS,
        techniques=("T1566",),  # misp-galaxy:mitre-attack-pattern="Phishing - T1566"
        malware="Emotet",  # misp-galaxy:malpedia="Emotet"
        comment="C2 server",
        reporter="ACME CERT",  # Orgc
        context="OSINT - Emotet malspam wave delivering XLSM droppers",  # info
        ref=attr_uuid(1),
    )]


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (2, [(T.IPV4, "203.0.113.80")]),  # ip-dst|port
        (3, [(T.DOMAIN, "invoice-portal.example.net"), (T.IPV4, "192.0.2.44")]),  # domain|ip
        (4, [(T.URL, "http://invoice-portal.example.net/download.php?id=77")]),  # defanged
        (5, [(T.MD5, "b2b1f5d5b8a4c3e2f1a0b9c8d7e6f5a4")]),  # upper-case
        (6, [(T.FILENAME, "Rechnung_2024-03.xlsm"),
             (T.SHA256, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]),  # filename|sha256
        (7, [(T.SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709")]),
        (11, [(T.CVE, "CVE-2017-11882")]),
        (12, [(T.ASN, "ASN64496")]),  # a bare number
        (13, [(T.USER_AGENT, "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.1; Trident/7.0)")]),
        (14, [(T.USER_AGENT, "curl/8.4.0")]),  # stated, though the extractor knows only browser agents
        (15, [(T.JA3, "e7d705a3286e19ea42f587b344ee6865")]),  # an MD5 by shape, a JA3 by the feed's word
        (16, [(T.JARM, "07d14d16d21d21d07c42d41d00041d24a458a375eef0c576d23a7bab9a9fb1")]),
        (17, [(T.BITCOIN, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")]),
        (18, [(T.REGISTRY_KEY, "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run")]),  # regkey|value
        (19, [(T.MAC, "00:00:5e:00:53:01")]),
        (20, [(T.EMAIL, "invoice@rechnung-example.com")]),
        (21, [(T.DOMAIN, "mail.rechnung-example.com")]),  # hostname
        (22, [(T.IMPHASH, "f34d5f2d4577ed6d9ceec516c1f5a744")]),
        (23, [(T.SSDEEP, "3072:Zh3pLw8aK1s5Pq9TbN2cX7mY4uR6vW0eJ:Zh3pLwaK1s5Pq9TbN2cX7mY4uR6vW0eJ")]),
        (28, [(T.FILENAME, "Rechnung_2024-03.xlsm")]),  # in the file object
        (29, [(T.MD5, "5d41402abc4b2a76b9719d911017c592")]),
        (30, [(T.DOMAIN, "cdn-update.example.org")]),  # in the domain-ip object
        (31, [(T.IPV4, "192.0.2.45")]),
        (101, [(T.DOMAIN, "update-server.example.com")]),
        (102, [(T.IPV6, "2001:db8::7")]),
        (103, [(T.FILE_PATH, "C:\\Users\\Public\\loader.dll"), (T.MD5, "8f14e45fceea167a5a36dedd4bea2543")]),
        (104, [(T.EMAIL, "victim@example.com")]),
        (106, [(T.FILENAME, "loader.dll"), (T.MD5, "8f14e45fceea167a5a36dedd4bea2543")]),  # malware-sample
        (107, [(T.MONERO, MONERO)]),
    ],
)
def test_attribute_types(feed: Parsed, n: int, expected: list[tuple[T, str]]) -> None:
    assert values(feed, n) == expected


def test_composite_context_goes_to_extra(feed: Parsed) -> None:
    assert [o.extra for o in of(feed, 2)] == [{"port": "8080"}]
    assert [o.extra for o in of(feed, 18)] == [{"registry_data": "C:\\Users\\Public\\svchost.exe"}]
    assert [o.extra for o in of(feed, 3)] == [{}, {}]


def test_to_ids_false_is_medium_confidence_and_suspicious(feed: Parsed) -> None:
    for n in (7, 28, 104):  # false; false inside an object; the string "0"
        assert {(o.confidence, o.reputation) for o in of(feed, n)} == {(Confidence.MEDIUM, Reputation.SUSPICIOUS)}
    assert {(o.confidence, o.reputation) for o in of(feed, 29)} == {(Confidence.HIGH, None)}


def test_attribute_tags_add_to_the_event_tags(feed: Parsed) -> None:
    (name, sha256) = of(feed, 6)
    assert name.techniques == sha256.techniques == ("T1566", "T1204.002")
    # the event's Malpedia cluster is the malware; the attribute's threat actor stays a tag
    assert name.malware == "Emotet"
    assert name.tags == (*FULL_TAGS, 'misp-galaxy:threat-actor="Mummy Spider"')


def test_object_attributes_keep_their_own_time_and_the_object_comment(feed: Parsed) -> None:
    (md5,) = of(feed, 29)
    assert md5.last_seen == datetime(2024, 3, 14, 10, 31, 40, tzinfo=UTC)
    assert md5.comment == "dropper document"
    assert md5.first_seen == EVENT_DATE


def test_a_sparse_event_takes_the_manifest_summary(feed: Parsed) -> None:
    for obs in (o for o in feed.observations if o.ref.startswith("6a0b006")):
        assert (obs.severity, obs.reporter, obs.context) == (
            Severity.LOW, "Partner SOC", "Partner sighting: TrickBot loader infrastructure")
        assert obs.tags == ("tlp:green",)


def test_attribute_first_and_last_seen_win_over_the_event(feed: Parsed) -> None:
    (domain,) = of(feed, 101)
    assert (domain.first_seen, domain.last_seen) == (
        datetime(2024, 2, 1, 10, tzinfo=UTC), datetime(2024, 2, 20, 18, 30, tzinfo=UTC))
    assert domain.comment is None and domain.techniques == () and domain.malware is None  # nulls


def test_a_threat_actor_is_the_malware_when_no_malware_is_named(feed: Parsed) -> None:
    (ip,) = of(feed, 102)
    assert (ip.malware, ip.techniques, ip.tags) == ("Wizard Spider", ("T1071",), ("tlp:green",))
    assert ip.first_seen == datetime(2024, 2, 20, tzinfo=UTC)


def test_rejected_rows_say_why(feed: Parsed) -> None:
    full = f"event {FULL} attribute"
    sparse = f"event {SPARSE} attribute"
    assert [(e.line, e.message, e.value) for e in feed.errors] == [
        (None, f"{full} {attr_uuid(8)} (link): a 'link' attribute is a reference to a report, not an indicator",
         "https://blog.example.com/emotet-march-2024"),
        (None, f"{full} {attr_uuid(9)} (text): a 'text' attribute is a note, not an indicator", "Emotet epoch 5"),
        (None, f"{full} {attr_uuid(10)} (comment): a 'comment' attribute is a note, not an indicator",
         "Wave started around 08:00 UTC"),
        (None, f"{full} {attr_uuid(24)} (ip-src): deleted", "198.51.100.24"),
        (None, f"{full} {attr_uuid(25)} (ip-src): not a valid ipv4/ipv4_cidr/ipv6/ipv6_cidr", "256.10.10.1"),
        (None, f"{full} {attr_uuid(26)} (mutex): attribute type 'mutex' is not an indicator type iocflow reads",
         "Global\\EmotetMutex"),
        (None, f"{full} {attr_uuid(27)} (uri): not a valid url", "/wp-content/plugins/x/loader.php"),
        (None, f"event {TRUNCATED}: {TRUNCATED}.json: not valid JSON, truncated or corrupt: "
               "unexpected end of data at line 14 column 22", TRUNCATED),
        (None, f"{sparse} {attr_uuid(105)} (sha256): no value", None),
        (None, f"{sparse} {attr_uuid(108)} (ip-dst): timestamp is not Unix seconds: 'yesterday'", "192.0.2.99"),
        (None, f"event {MISSING}: cannot fetch {MISSING}.json: [Errno 2] No such file or directory: "
               f"'{FEED / (MISSING + '.json')}'", MISSING),
        (None, f"event {NOT_AN_EVENT}: {NOT_AN_EVENT}.json is not a MISP event (no 'Event' object)", NOT_AN_EVENT),
    ]


def test_broken_event_files_do_not_stop_the_feed(feed: Parsed) -> None:
    # the truncated file is listed before the sparse event, which is still read in full
    assert len([o for o in feed.observations if o.ref.startswith("6a0b006")]) == 8


def test_times_are_aware_utc(feed: Parsed) -> None:
    times = [t for o in feed.observations for t in (o.first_seen, o.last_seen) if t is not None]
    assert len(times) == 2 * len(feed.observations)
    assert all(t.utcoffset() is not None and t.utcoffset().total_seconds() == 0 for t in times)


# -- one event document -----------------------------------------------------------------------


def test_a_single_event_document_reads_without_fetch(feed: Parsed) -> None:
    alone = misp.parse(read_fixture(f"{FULL}.json"))
    assert alone.observations == [o for o in feed.observations if o.context and "Emotet" in o.context]
    assert alone.rows_read == 31 and len(alone.errors) == 7


def test_a_sparse_event_alone_has_no_summary_to_fall_back_on() -> None:
    alone = misp.parse(read_fixture(f"{SPARSE}.json"))
    assert {(o.severity, o.reporter, o.tags) for o in alone.observations} - {(None, None, ())} == set()


@pytest.mark.parametrize(
    ("level", "expected"),
    [("1", Severity.HIGH), (2, Severity.MEDIUM), ("3", Severity.LOW), ("4", None), (None, None)],
)
def test_threat_level_is_the_severity(level: object, expected: Severity | None) -> None:
    result = misp.parse(event(attribute("ip-dst", "192.0.2.1"), threat_level_id=level))
    assert [o.severity for o in result.observations] == [expected]


def test_an_event_with_a_bad_threat_level_or_date_is_one_rejection() -> None:
    for fields, reason in (({"threat_level_id": "9"}, "threat_level_id must be 1-4, got '9'"),
                           ({"date": "14/03/2024"}, "date is not a date: '14/03/2024'")):
        result = misp.parse(event(attribute("ip-dst", "192.0.2.1"), attribute("domain", "a.example.com"), **fields))
        assert result.observations == [] and result.rows_read == 2
        assert [e.message for e in result.errors] == [
            f"event 3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7: {reason}; its 2 attributes are not read"]


@pytest.mark.parametrize(
    ("tag", "techniques", "malware", "tags"),
    [
        ('misp-galaxy:mitre-attack-pattern="Command and Scripting Interpreter - T1059"', ("T1059",), None, ()),
        ('misp-galaxy:mitre-enterprise-attack-attack-pattern="Spearphishing Link - T1192"', ("T1192",), None, ()),
        ("mitre-attack:T1059.001", ("T1059.001",), None, ()),
        ('mitre-attack:attack-pattern="Phishing - T1566"', ("T1566",), None, ()),
        ('misp-galaxy:mitre-attack-pattern="Not an ID"', (), None, ('misp-galaxy:mitre-attack-pattern="Not an ID"',)),
        ('misp-galaxy:mitre-course-of-action="Antivirus - M1049"', (), None,
         ('misp-galaxy:mitre-course-of-action="Antivirus - M1049"',)),  # a mitigation is no technique
        ('misp-galaxy:malpedia="Cobalt Strike"', (), "Cobalt Strike", ()),
        ('misp-galaxy:ransomware="LockBit"', (), "LockBit", ()),
        ('misp-galaxy:threat-actor="APT28"', (), "APT28", ()),
        ('misp-galaxy:sector="Finance"', (), None, ('misp-galaxy:sector="Finance"',)),
        ("tlp:amber", (), None, ("tlp:amber",)),
        ('admiralty-scale:source-reliability="b"', (), None, ('admiralty-scale:source-reliability="b"',)),
    ],
)
def test_each_tag_becomes_a_technique_the_malware_or_a_tag(
    tag: str, techniques: tuple[str, ...], malware: str | None, tags: tuple[str, ...],
) -> None:
    result = misp.parse(event(attribute("ip-dst", "192.0.2.1", Tag=[{"name": tag, "colour": "#000000"}])))
    (obs,) = result.observations
    assert (obs.techniques, obs.malware, obs.tags) == (techniques, malware, tags)


def test_a_malware_galaxy_wins_over_a_threat_actor_wherever_it_is() -> None:
    tags = [{"name": 'misp-galaxy:threat-actor="Wizard Spider"'}, {"name": 'misp-galaxy:malpedia="TrickBot"'}]
    result = misp.parse(event(attribute("ip-dst", "192.0.2.1", Tag=tags)))
    assert [(o.malware, o.tags) for o in result.observations] == [
        ("TrickBot", ('misp-galaxy:threat-actor="Wizard Spider"',))]


@pytest.mark.parametrize(
    ("type_", "value", "message"),
    [
        ("ip-dst|port", "192.0.2.1", "a ip-dst|port value has 2 parts joined by '|'"),
        ("md5", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "not a valid md5 (it is a sha1)"),
        ("filename", "bad:name?.exe", "a file name is a bare name"),
        ("user-agent", "bad\x01agent", "not a valid user_agent"),
        ("domain", 42, "no value"),
        ("other", "free text", "an 'other' attribute is a note, not an indicator"),
        ("sha3-256", "ab" * 32, "attribute type 'sha3-256' is not an indicator type iocflow reads"),
    ],
)
def test_bad_attributes_are_rejected_with_the_reason(type_: str, value: object, message: str) -> None:
    result = misp.parse(event(attribute(type_, value)))
    assert result.observations == [] and result.rows_read == 1
    assert len(result.errors) == 1 and message in result.errors[0].message, result.errors


def test_a_composite_with_one_bad_half_keeps_the_other() -> None:
    result = misp.parse(event(attribute("domain|ip", "good.example.com|300.1.1.1")))
    assert [(o.type, o.value) for o in result.observations] == [(T.DOMAIN, "good.example.com")]
    assert [e.value for e in result.errors] == ["300.1.1.1"]


def test_an_attribute_that_is_not_an_object_is_a_rejected_row() -> None:
    result = misp.parse(event(attribute("ip-dst", "192.0.2.1"), "192.0.2.2"))
    assert result.rows_read == 2 and len(result.observations) == 1
    assert [(e.message, e.value) for e in result.errors] == [
        ("event 3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7: an attribute that is not a JSON object", "192.0.2.2")]


def test_a_single_attribute_or_object_written_without_its_list_is_read() -> None:
    obj = {"name": "domain-ip", "Attribute": attribute("domain", "one.example.com")}
    result = misp.parse(event(Attribute=attribute("ip-dst", "192.0.2.1"), Object=obj))
    assert [o.value for o in result.observations] == ["192.0.2.1", "one.example.com"]


def test_a_deleted_object_rejects_its_attributes() -> None:
    obj = {"name": "domain-ip", "deleted": True, "Attribute": [attribute("domain", "gone.example.com")]}
    result = misp.parse(event(Object=[obj]))
    assert result.observations == [] and [e.message.endswith("deleted") for e in result.errors] == [True]


# -- the manifest and documents that are not MISP ---------------------------------------------


def test_an_event_fetch_that_raises_feed_error_is_one_rejected_row() -> None:
    def unreachable(name: str) -> bytes:
        raise FeedError("HTTP 404 from https://feed.example.com/x.json", source="https://feed.example.com/x.json")

    manifest = json.dumps({FULL: {"info": "x", "Orgc": {"name": "ACME CERT"}}}).encode()
    result = misp.parse(manifest, unreachable)
    assert result.rows_read == 1 and result.observations == []
    assert [(e.line, e.value, e.message) for e in result.errors] == [
        (None, FULL, f"event {FULL}: cannot fetch {FULL}.json: https://feed.example.com/x.json: "
                     "HTTP 404 from https://feed.example.com/x.json")]


def test_an_empty_manifest_is_an_empty_feed() -> None:
    result = misp.parse(b"{}")
    assert (result.rows_read, result.observations, result.errors) == (0, [], [])


def test_a_manifest_needs_fetch() -> None:
    with pytest.raises(FeedError, match="no way to fetch them"):
        misp.parse(read_fixture("manifest.json"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not valid JSON"),
        (b"<html>404</html>", "not valid JSON"),
        (b"[]", "neither a MISP event nor a MISP feed manifest"),
        (b'{"response": []}', "key 'response' is not an event uuid"),
        (json.dumps({FULL: "not an object"}).encode(), f"key '{FULL}' is not an event uuid with an object"),
        (b'{"Event": []}', "'Event' is not a JSON object"),
        (read_fixture("manifest.json")[:300], "truncated or corrupt"),
    ],
    ids=["empty", "html", "list", "not-a-manifest", "manifest-value", "event-not-object", "truncated"],
)
def test_a_document_that_is_not_misp_raises_feed_error(data: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message) as info:
        misp.parse(data, read_fixture)
    assert info.value.source == "misp"


def test_format() -> None:
    assert misp.FORMAT.name == "misp" and misp.FORMAT.parse is misp.parse
    assert misp.FORMAT.default_url.endswith("/manifest.json")
