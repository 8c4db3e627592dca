"""MISP export: every event loads in PyMISP and reads back through iocflow's MISP importer.

Records are built directly (no store): the exporter only reads ``IndicatorRecord``s.
"""

from __future__ import annotations

import uuid
import warnings
from datetime import UTC, datetime, timedelta

import orjson
import pymisp
import pytest

from iocflow.export import misp
from iocflow.ingest.feeds.misp import parse
from iocflow.store.records import NAMESPACE, indicator_id
from iocflow.store.views import IndicatorRecord, SourceRef
from iocflow.store.vocabulary import Confidence, IndicatorType, Reputation, Severity, SourceCategory

T = IndicatorType

NOW = datetime(2025, 6, 1, tzinfo=UTC)
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ARTICLE = SourceRef("research-blog", SourceCategory.RESEARCH, "0b1c2d3e-0000-5000-8000-000000000001",
                    'Campaign "X" \\ it\'s back ☠', "https://blog.example.com/campaign-x", "from the loader's config")
FEED = SourceRef("feodo", SourceCategory.THREAT_INTEL, None, None, None, None)


def record(kind: IndicatorType, value: str, **changes: object) -> IndicatorRecord:
    fields: dict[str, object] = {
        "confidence": Confidence.HIGH, "severity": Severity.MEDIUM, "reputation": Reputation.BAD,
        "first_seen": T0, "last_seen": T0 + timedelta(days=2), "expires_at": T0 + timedelta(days=30),
        "tags": ("tlp:green", "phishing"), "techniques": ("T1059.001",), "industries": (),
        "indicator_class": None, "comment": None, "source": ARTICLE,
    }
    fields.update(changes)
    return IndicatorRecord(indicator_id(kind, value), kind, value, **fields)  # type: ignore[arg-type]


#: (record, MISP type, category): every type iocflow's importer reads back, nasty values where the type allows.
CASES = [
    (record(T.IPV4, "203.0.113.5"), "ip-dst", "Network activity"),
    (record(T.IPV6, "2001:db8::1"), "ip-dst", "Network activity"),
    (record(T.IPV4_CIDR, "198.51.100.0/24"), "ip-dst", "Network activity"),
    (record(T.IPV6_CIDR, "2001:db8:abcd::/48"), "ip-dst", "Network activity"),
    (record(T.DOMAIN, "пример.рф"), "domain", "Network activity"),
    (record(T.URL, "http://пример.рф/путь/%27x%5C?q=1"), "url", "Network activity"),
    (record(T.EMAIL, "o'brien@example.com"), "email-src", "Payload delivery"),
    (record(T.MD5, "e7a6e0e6ffd5aa0cc0e3a1e1b0f3f2b6"), "md5", "Payload delivery"),
    (record(T.SHA1, "a" * 40), "sha1", "Payload delivery"),
    (record(T.SHA256, "b" * 64), "sha256", "Payload delivery"),
    (record(T.SHA512, "c" * 128), "sha512", "Payload delivery"),
    (record(T.SSDEEP, "3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C"), "ssdeep", "Payload delivery"),
    (record(T.IMPHASH, "d" * 32), "imphash", "Payload delivery"),
    (record(T.FILENAME, "it's évil ☠.exe"), "filename", "Payload delivery"),
    (record(T.FILE_PATH, "C:\\Users\\O'Neil\\AppData\\évil.exe"), "filename", "Artifacts dropped"),
    (record(T.REGISTRY_KEY, "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run"), "regkey",
     "Persistence mechanism"),
    (record(T.CVE, "CVE-2024-3400", severity=Severity.CRITICAL), "vulnerability", "External analysis"),
    (record(T.MAC, "00:11:22:aa:bb:cc"), "mac-address", "Network activity"),
    (record(T.ASN, "ASN64496"), "AS", "Network activity"),
    (record(T.BITCOIN, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"), "btc", "Financial fraud"),
    (record(T.USER_AGENT, 'Mozilla/5.0 ("quoted") \\ it\'s ☠'), "user-agent", "Network activity"),
    (record(T.JA3, "e7a6e0e6ffd5aa0cc0e3a1e1b0f3f2b7"), "ja3-fingerprint-md5", "Network activity"),
]
READABLE = [case[0] for case in CASES]
#: Exported, but the importer cannot give back the same type (and says why, or reads the address).
SOCKET = record(T.SOCKET_ADDRESS, "203.0.113.5:8443", source=FEED)
NOT_ATTRIBUTES = [record(T.MITRE_ATTACK, "T1566"), record(T.TLP, "TLP:AMBER"),
                  record(T.ETHEREUM, "0x" + "ab" * 20), record(T.GOOGLE_ANALYTICS, "UA-12345678-1")]


def load(document: dict) -> pymisp.MISPEvent:
    """PyMISP's own loader, with its warnings as failures."""
    loaded = pymisp.MISPEvent()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded.load(misp.dumps(document).decode())
    return loaded


def attributes(document: dict) -> list[dict]:
    return document["Event"]["Attribute"]


# -- PyMISP -----------------------------------------------------------------------------------


def test_pymisp_loads_the_event_with_every_attribute() -> None:
    document = misp.event([*READABLE, SOCKET, *NOT_ATTRIBUTES], info="Campaign X", now=NOW)
    loaded = load(document)
    assert loaded.info == "Campaign X"
    assert str(loaded.uuid) == document["Event"]["uuid"]
    values = [(a.type, a.category, a.value) for a in loaded.attributes]
    assert values[:len(CASES)] == [(t, c, misp._value(i)) for i, t, c in CASES]
    assert values[len(CASES)] == ("ip-dst|port", "Network activity", "203.0.113.5|8443")
    assert values[len(CASES) + 1] == ("link", "External analysis", ARTICLE.article_url)
    assert len(values) == len(CASES) + 2
    assert loaded.Orgc.name == "iocflow"
    assert loaded.threat_level_id == 1  # critical CVE
    assert loaded.analysis == 2
    assert loaded.published is True


def test_every_event_by_source_loads_in_pymisp() -> None:
    for document in misp.events_by_source([*READABLE, SOCKET, *NOT_ATTRIBUTES], NOW):
        assert load(document).attributes


@pytest.mark.parametrize("item", READABLE, ids=lambda i: i.type.value)
def test_attribute_types_and_categories_are_ones_misp_allows(item: IndicatorRecord) -> None:
    """PyMISP's describeTypes lists each type's allowed categories; MISP refuses any other."""
    described = pymisp.MISPAttribute().describe_types
    (exported,) = attributes(misp.event([item], info="x", now=NOW))[:1]
    assert exported["type"] in described["types"]
    assert exported["type"] in described["category_type_mappings"][exported["category"]]


# -- mapping ----------------------------------------------------------------------------------


def test_attribute_fields() -> None:
    item = record(T.DOMAIN, "evil.example.com", techniques=("T1059.001", "TA0002", "M1013", "T9999"),
                  comment="the loader's C2 \"primary\"")
    document = misp.event([item], info="x", now=NOW)
    (attribute, link) = attributes(document)
    assert attribute["uuid"] == str(uuid.uuid5(uuid.UUID(document["Event"]["uuid"]), item.id))
    assert attribute["to_ids"] is True
    assert attribute["comment"] == "the loader's C2 \"primary\""
    assert attribute["first_seen"] == "2025-03-01T12:00:00+00:00"
    assert attribute["last_seen"] == "2025-03-03T12:00:00+00:00"
    assert attribute["timestamp"] == str(int((T0 + timedelta(days=2)).timestamp()))
    assert [t["name"] for t in attribute["Tag"]] == [
        "tlp:green", "phishing",
        'misp-galaxy:mitre-attack-pattern="PowerShell - T1059.001"',
        'mitre-attack:tactic="Execution - TA0002"',
        'misp-galaxy:mitre-course-of-action="Application Developer Guidance - M1013"',
        "mitre-attack:T9999",
    ]
    assert link["type"] == "link" and link["to_ids"] is False


def test_comment_falls_back_to_the_source_context() -> None:
    (attribute, _) = attributes(misp.event([record(T.DOMAIN, "a.example.com")], info="x", now=NOW))
    assert attribute["comment"] == "from the loader's config"


@pytest.mark.parametrize(("confidence", "reputation", "kind", "value", "to_ids"), [
    (Confidence.HIGH, Reputation.BAD, T.DOMAIN, "a.example.com", True),
    (Confidence.MEDIUM, Reputation.SUSPICIOUS, T.DOMAIN, "a.example.com", True),
    (Confidence.LOW, Reputation.BAD, T.DOMAIN, "a.example.com", False),
    (Confidence.HIGH, Reputation.GOOD, T.DOMAIN, "a.example.com", False),
    (Confidence.HIGH, Reputation.BAD, T.CVE, "CVE-2024-3400", False),
    (Confidence.HIGH, Reputation.BAD, T.ASN, "ASN64496", False),
])
def test_to_ids(confidence: Confidence, reputation: Reputation, kind: IndicatorType, value: str, to_ids: bool) -> None:
    item = record(kind, value, confidence=confidence, reputation=reputation)
    assert attributes(misp.event([item], info="x", now=NOW))[0]["to_ids"] is to_ids


@pytest.mark.parametrize(("severities", "level"), [
    ((Severity.INFO,), "4"), ((Severity.LOW, Severity.INFO), "3"), ((Severity.MEDIUM, Severity.LOW), "2"),
    ((Severity.HIGH,), "1"), ((Severity.CRITICAL, Severity.LOW), "1"),
])
def test_threat_level_is_the_highest_severity(severities: tuple[Severity, ...], level: str) -> None:
    items = [record(T.DOMAIN, f"d{n}.example.com", severity=s) for n, s in enumerate(severities)]
    assert misp.event(items, info="x", now=NOW)["Event"]["threat_level_id"] == level


@pytest.mark.parametrize(("tags", "tlp", "distribution"), [
    ((), None, "0"), (("tlp:clear",), "tlp:clear", "3"), (("TLP:GREEN", "tlp:white"), "tlp:green", "1"),
    (("tlp:green", "tlp:amber+strict"), "tlp:amber+strict", "0"), (("tlp:red",), "tlp:red", "0"),
])
def test_event_tlp_is_the_strictest_and_sets_distribution(tags: tuple[str, ...], tlp: str | None,
                                                         distribution: str) -> None:
    items = [record(T.DOMAIN, f"d{n}.example.com", tags=(tag,)) for n, tag in enumerate(tags)]
    body = misp.event(items, info="x", now=NOW)["Event"]
    assert body["distribution"] == distribution
    assert [t["name"] for t in body["Tag"]] == ([tlp] if tlp else [])


def test_attack_and_tlp_records_become_event_tags_and_the_rest_is_left_out() -> None:
    body = misp.event(NOT_ATTRIBUTES, info="x", now=NOW)["Event"]
    assert [t["name"] for t in body["Tag"]] == ["tlp:amber", 'misp-galaxy:mitre-attack-pattern="Phishing - T1566"']
    assert [a["type"] for a in body["Attribute"]] == ["link"]
    assert misp.attribute_type(T.ETHEREUM) is None


def test_every_type_is_an_attribute_a_tag_or_listed_as_left_out() -> None:
    tables = [set(misp._TYPES), misp.TAG_TYPES, misp.NO_ATTRIBUTE]
    assert set.union(*tables) == set(IndicatorType)
    assert sum(len(t) for t in tables) == len(IndicatorType)  # no type in two of them
    assert {t for t in IndicatorType if misp.attribute_type(t) is None} == misp.TAG_TYPES | misp.NO_ATTRIBUTE


def test_every_severity_has_a_threat_level() -> None:
    assert set(misp._THREAT_LEVELS) == set(Severity)


def test_event_uuid_from_info_or_given() -> None:
    assert misp.event([], info="Campaign X", now=NOW)["Event"]["uuid"] == str(
        uuid.uuid5(NAMESPACE, "misp-event:Campaign X"))
    given = "5a0a9c2e-1b5c-4b8e-9b55-7f1f3c2f0e11"
    assert misp.event([], info="x", now=NOW, uuid=given.upper())["Event"]["uuid"] == given


def test_empty_event_loads() -> None:
    loaded = load(misp.event([], info="nothing", now=NOW))
    assert loaded.attributes == [] and loaded.date.isoformat() == "2025-06-01"


def test_events_by_source_groups_by_article_then_feed() -> None:
    other = SourceRef("research-blog", SourceCategory.RESEARCH, "0b1c2d3e-0000-5000-8000-000000000002", None,
                      "https://blog.example.com/other", None)
    items = [record(T.DOMAIN, "a.example.com"), SOCKET, record(T.DOMAIN, "b.example.com", source=other),
             record(T.DOMAIN, "c.example.com"), record(T.DOMAIN, "d.example.com", source=None)]
    documents = misp.events_by_source(items, NOW)
    assert [d["Event"]["info"] for d in documents] == [
        ARTICLE.article_title, "iocflow: feed feodo", other.article_url,
        "iocflow: indicators without a recorded source"]
    assert [[a["value"] for a in attributes(d) if a["type"] != "link"] for d in documents] == [
        ["a.example.com", "c.example.com"], ["203.0.113.5|8443"], ["b.example.com"], ["d.example.com"]]
    assert len({d["Event"]["uuid"] for d in documents}) == 4
    attribute_uuids = [a["uuid"] for d in documents for a in attributes(d)]
    assert len(attribute_uuids) == len(set(attribute_uuids))


# -- determinism ------------------------------------------------------------------------------


def test_same_records_same_bytes() -> None:
    items = [*READABLE, SOCKET, *NOT_ATTRIBUTES]
    assert misp.dumps(misp.event(items, info="x", now=NOW)) == misp.dumps(misp.event(list(items), info="x", now=NOW))
    first = [misp.dumps(d) for d in misp.events_by_source(items, NOW)]
    assert [misp.dumps(d) for d in misp.events_by_source(iter(items), NOW)] == first


def test_event_uuid_by_source_survives_a_retitled_article() -> None:
    retitled = SourceRef(*[ARTICLE.feed_name, ARTICLE.category, ARTICLE.article_id, "New title",
                           ARTICLE.article_url, None])
    before = misp.events_by_source([record(T.DOMAIN, "a.example.com")], NOW)[0]["Event"]
    after = misp.events_by_source([record(T.DOMAIN, "a.example.com", source=retitled)], NOW)[0]["Event"]
    assert before["uuid"] == after["uuid"] and before["info"] != after["info"]
    assert before["Attribute"][0]["uuid"] == after["Attribute"][0]["uuid"]


# -- round trip through iocflow's MISP importer -----------------------------------------------


def test_round_trip_through_the_importer_keeps_every_value_and_type() -> None:
    document = misp.event(READABLE, info=ARTICLE.article_title or "", now=NOW)
    parsed = parse(misp.dumps(document))
    assert [(o.type, o.value) for o in parsed.observations] == [(i.type, i.value) for i in READABLE]
    assert [e.value for e in parsed.errors] == [ARTICLE.article_url]  # the link: a report, not an indicator
    for item, obs in zip(READABLE, parsed.observations, strict=True):
        assert obs.first_seen == item.first_seen and obs.last_seen == item.last_seen
        assert obs.context == ARTICLE.article_title
        assert obs.reporter == "iocflow"
        assert set(item.tags) <= set(obs.tags)
        assert obs.techniques == item.techniques
        assert obs.comment == ARTICLE.context


def test_socket_address_comes_back_as_its_address() -> None:
    """MISP has no socket type: ``ip-dst|port`` is read as the address, the port as detail."""
    (obs,) = parse(misp.dumps(misp.event([SOCKET], info="x", now=NOW))).observations
    assert (obs.type, obs.value, obs.extra) == (T.IPV4, "203.0.113.5", {"port": "8443"})


@pytest.mark.parametrize("value", ["it's.exe", 'back\\slash "and" quote', "ünïcødé ☠ 日本語", "a\u2028b"])
def test_nasty_comments_and_names_survive_json(value: str) -> None:
    item = record(T.SHA256, "e" * 64, comment=value)
    document = misp.event([item], info=value, now=NOW)
    assert orjson.loads(misp.dumps(document)) == document
    loaded = load(document)
    assert loaded.info == value and loaded.attributes[0].comment == value
    (obs,) = parse(misp.dumps(document)).observations
    assert obs.comment == value and obs.context == value


def test_socket_with_a_host_name_is_hostname_port() -> None:
    item = record(T.SOCKET_ADDRESS, "evil.example.com:8080")
    (attribute, _) = attributes(misp.event([item], info="x", now=NOW))
    assert (attribute["type"], attribute["value"]) == ("hostname|port", "evil.example.com|8080")
    (obs,) = parse(misp.dumps(misp.event([item], info="x", now=NOW))).observations
    assert (obs.type, obs.value) == (T.DOMAIN, "evil.example.com")
