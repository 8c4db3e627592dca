"""STIX 2.1 bundles: each pattern's values, the observables, the context around them, and what is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from iocflow.exceptions import FeedError
from iocflow.ingest.feeds import stix
from iocflow.ingest.report import Parsed
from iocflow.store.records import Observation
from iocflow.store.vocabulary import Confidence, IndicatorType as T, Reputation

BUNDLE = Path(__file__).parent / "fixtures" / "stix_bundle.json"

IDENTITY = "identity--3dc0e666-1565-4e90-a639-25a62960976e"
POISON_IVY = "indicator--969610ae-aba6-4891-a578-b4bded2ebbdb"
MALICIOUS_URL = "indicator--441fe6b3-9670-4352-a7f4-b2ef7a7ff87c"
ORED_ADDRESSES = "indicator--1b2f85a0-be52-49f6-a982-cfb03fb23f49"
REVOKED = "indicator--24c121d2-985e-4968-a337-6280eea696b6"
LIKE = "indicator--72463f29-1d6f-4500-a538-3a4d14a06388"
AND_OBSERVATIONS = "indicator--7b7bce72-ce91-41ba-a853-45addb512511"
ONE_FILE = "indicator--ce314b65-37c0-4ae8-a2a3-60ec1afe4ab8"
SIGMA = "indicator--6bef754f-6ab7-4a90-ac38-b27f31d5221a"
DEFANGED_URL = "indicator--795b899b-58ac-483b-a1e9-ac18f1509a69"
PINNED_REF = "indicator--94c08b74-2580-4ef5-a466-3829e44f5baf"
OTHER_TYPES = "indicator--a1c46cf5-26f5-417d-a104-8240a888d315"
HASH_SPELLINGS = "indicator--2f78a555-0587-4f01-a598-9e973019a232"
UNQUOTED_HASH = "indicator--594263bb-ec30-4ff9-afd2-e02a727b2166"
BROKEN_PATTERN = "indicator--d1fb034c-a31c-4a62-aad5-09d505eb85b5"
QUALIFIED = "indicator--9b27ebe9-b9ba-409d-a505-004b8bd8ffa1"
BAD_CONFIDENCE = "indicator--189982ee-bc11-4e31-ad85-65c081ad2ccb"
SCO_IPV4 = "ipv4-addr--c4b8d682-c518-54b1-ac61-0a8de58eb850"
SCO_DOMAIN = "domain-name--0914591a-9d51-5b51-8699-12da7eed36c7"
SCO_URL = "url--44e1bbe9-9b67-5509-a3b9-30f1d87445f5"
SCO_FILE = "file--13e0f34f-d97f-5924-8a6a-137f70ec1507"
SCO_EMAIL = "email-addr--ffc43c54-17b0-59e7-aa3a-5837a356a4bc"
SCO_NAME_ONLY = "file--21acc2f7-a867-5136-80da-25a9c3c28494"
SCO_BAD_IPV4 = "ipv4-addr--6d3c5634-8eb2-5d4b-937f-0ae1cdec3ecd"
#: Objects the fixture makes invalid on purpose (see fixtures/README-stix-misp.md).
DELIBERATE_FAULTS = (ORED_ADDRESSES, UNQUOTED_HASH, BROKEN_PATTERN, BAD_CONFIDENCE, SCO_DOMAIN, SCO_BAD_IPV4)
VALID_FROM = datetime(2024, 3, 14, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def parsed() -> Parsed:
    return stix.parse(BUNDLE.read_bytes())


def values(parsed: Parsed, ref: str) -> list[tuple[T, str]]:
    return [(o.type, o.value) for o in parsed.observations if o.ref == ref]


def only(parsed: Parsed, ref: str) -> Observation:
    found = [o for o in parsed.observations if o.ref == ref]
    assert len(found) == 1, found
    return found[0]


def bundle(*objects: dict[str, Any]) -> bytes:
    return json.dumps({"type": "bundle", "id": "bundle--4f1d0c3e-9a3b-4c1e-8f77-0d6b2a9c5e11",
                       "objects": list(objects)}).encode()


def indicator(pattern: str, **props: Any) -> dict[str, Any]:
    obj = {"type": "indicator", "spec_version": "2.1", "id": "indicator--0c7b5e1a-2f4d-4e6b-9a8c-1d2e3f4a5b6c",
           "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
           "pattern": pattern, "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"}
    obj.update(props)
    return obj


def read_pattern(pattern: str) -> tuple[list[tuple[T, str]], list[str]]:
    result = stix.parse(bundle(indicator(pattern)))
    return [(o.type, o.value) for o in result.observations], [e.message for e in result.errors]


# -- the fixture ------------------------------------------------------------------------------


def test_counts(parsed: Parsed) -> None:
    assert parsed.rows_read == 23  # 16 indicators and 7 observables; SDOs, SROs and markings are not rows
    assert len(parsed.observations) == 24
    assert len(parsed.errors) == 10


def test_the_file_hash_indicator_carries_all_its_context(parsed: Parsed) -> None:
    assert only(parsed, POISON_IVY) == Observation(
        T.SHA256,
        "4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877",  # upper-cased in the bundle
        first_seen=datetime(2016, 1, 1, tzinfo=UTC),
        expiry=datetime(2027, 1, 1, tzinfo=UTC),
        confidence=Confidence.HIGH,  # 85
        reputation=Reputation.BAD,  # malicious-activity
        tags=("poison-ivy", "malicious-activity", "tlp:green", "lockheed-martin-cyber-kill-chain:installation"),
        techniques=("TA0002", "T1204.002"),  # the mitre-attack phase "execution", the external reference
        malware="Poison Ivy",  # the malware it "indicates"
        comment="This file is part of Poison Ivy",
        reporter="ACME CERT",  # created_by_ref resolved in the bundle
        ref=POISON_IVY,
    )


def test_an_or_between_observations_gives_one_observation_each(parsed: Parsed) -> None:
    assert values(parsed, MALICIOUS_URL) == [(T.URL, "http://x4z9arb.cn/4712/"), (T.DOMAIN, "x4z9arb.cn")]
    for obs in (o for o in parsed.observations if o.ref == MALICIOUS_URL):
        assert obs.confidence is Confidence.MEDIUM  # 50
        assert obs.first_seen == datetime(2016, 5, 12, 8, 17, 27, tzinfo=UTC)
        assert obs.techniques == ("T1566.001",)  # through the attack pattern it "indicates"
        assert obs.comment == "Malicious site hosting downloader"  # no description: the name
        assert obs.reporter is None and obs.malware is None and obs.expiry is None


def test_an_or_inside_brackets_keeps_the_good_values_and_rejects_the_bad(parsed: Parsed) -> None:
    assert values(parsed, ORED_ADDRESSES) == [
        (T.IPV4, "198.51.100.17"), (T.IPV4_CIDR, "203.0.113.0/24"), (T.IPV6, "2001:db8::bad:1"),
    ]
    obs = [o for o in parsed.observations if o.ref == ORED_ADDRESSES]
    assert {(o.confidence, o.reputation, o.tags, o.comment, o.expiry) for o in obs} == {
        (Confidence.LOW, Reputation.SUSPICIOUS, ("anonymization",), None, None),  # confidence 20; nulls
    }
    bad = [e for e in parsed.errors if e.line == 6]
    assert [(e.value, e.message) for e in bad] == [
        ("198.51.100.300", f"{ORED_ADDRESSES}: ipv4-addr:value: not a valid ipv4/ipv4_cidr"),
    ]


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        pytest.param(ONE_FILE, [(T.MD5, "3773a88f65a5e780c8dff9cdc3a056f3"),
                                (T.SHA1, "2c4d7e6b1c3a0f0e5a2d8a7a6f3f0b9d3e2c1a0b"),
                                (T.FILENAME, "invoice.pdf.exe")], id="and-naming-one-file"),
        pytest.param(DEFANGED_URL, [(T.URL, "https://login-microsoftonline.example.com/common/oauth2")],
                     id="defanged-url"),
        pytest.param(PINNED_REF, [(T.IPV4, "203.0.113.45")], id="network-traffic-dst-ref"),
        pytest.param(OTHER_TYPES, [(T.ASN, "ASN64496"),
                                   (T.REGISTRY_KEY,
                                    "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\updater"),
                                   (T.MAC, "00:00:5e:00:53:af"),
                                   (T.EMAIL, "billing@invoices-example.com")], id="asn-registry-mac-email"),
        pytest.param(HASH_SPELLINGS, [(T.SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
                                      (T.SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709")], id="SHA256-and-sha1"),
        pytest.param(UNQUOTED_HASH, [(T.SHA256, "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb")],
                     id="unquoted-SHA-256-repaired"),
    ],
)
def test_pattern_values(parsed: Parsed, ref: str, expected: list[tuple[T, str]]) -> None:
    assert values(parsed, ref) == expected
    for obs in (o for o in parsed.observations if o.ref == ref):
        assert (obs.first_seen, obs.confidence, obs.reputation, obs.tags) == (VALID_FROM, Confidence.HIGH, None, ())


def test_rejected_rows_say_where_and_why(parsed: Parsed) -> None:
    assert [(e.line, e.message, e.value) for e in parsed.errors] == [
        (6, f"{ORED_ADDRESSES}: ipv4-addr:value: not a valid ipv4/ipv4_cidr", "198.51.100.300"),
        (7, f"{REVOKED}: revoked indicator", "[ipv4-addr:value = '192.0.2.66']"),
        (8, f"{LIKE}: LIKE matches a family of values, not one value", "url:value LIKE 'http://%.evil.example.com/%'"),
        (9, f"{AND_OBSERVATIONS}: AND between observations matches only when all are seen: not one value",
         "[ipv4-addr:value = '192.0.2.10'] AND [domain-name:value = 'c2.example.net']"),
        (11, f"{SIGMA}: pattern_type 'sigma' is not a STIX pattern",
         "title: Suspicious rundll32\ndetection:\n  condition: selection"),
        (17, f"{BROKEN_PATTERN}: pattern does not parse: 1:32: mismatched input '<EOF>' expecting ']'",
         "[ipv4-addr:value = '203.0.113.7'"),
        (18, f"{QUALIFIED}: a WITHIN qualifier describes behaviour over time, not one value",
         "([ipv4-addr:value = '192.0.2.20'] FOLLOWEDBY [ipv4-addr:value = '192.0.2.21']) WITHIN 300 SECONDS"),
        (19, f"{BAD_CONFIDENCE}: confidence must be an integer from 0 to 100, got 150",
         "[domain-name:value = 'bad-confidence.example.com']"),
        (25, f"{SCO_NAME_ONLY}: a file without an MD5, SHA-1, SHA-256, SHA-512 or SSDEEP hash", "readme.txt"),
        (26, f"{SCO_BAD_IPV4}: ipv4-addr:value: not a valid ipv4/ipv4_cidr", "10.0.0.999"),
    ]


def test_observables_in_the_bundle_are_observations(parsed: Parsed) -> None:
    found = [(o.ref, o.type, o.value, o.tags) for o in parsed.observations if not o.ref.startswith("indicator--")]
    assert found == [
        (SCO_IPV4, T.IPV4, "198.51.100.99", ("tlp:green",)),
        (SCO_DOMAIN, T.DOMAIN, "update-check.example.org", ()),  # defanged: true
        (SCO_URL, T.URL, "http://198.51.100.99:8080/bins/mozi.m", ()),
        (SCO_FILE, T.MD5, "8f14e45fceea167a5a36dedd4bea2543", ()),  # its TLSH is not a type iocflow keeps
        (SCO_FILE, T.SHA256, "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b", ()),
        (SCO_EMAIL, T.EMAIL, "helpdesk@invoices-example.com", ()),
    ]
    for obs in (o for o in parsed.observations if not o.ref.startswith("indicator--")):
        assert (obs.first_seen, obs.confidence, obs.reputation, obs.malware) == (None, Confidence.HIGH, None, None)


def test_times_are_aware_utc(parsed: Parsed) -> None:
    times = [t for o in parsed.observations for t in (o.first_seen, o.expiry) if isinstance(t, datetime)]
    assert times and all(t.utcoffset() is not None and t.utcoffset().total_seconds() == 0 for t in times)


def test_fixture_is_valid_stix_but_for_its_deliberate_faults() -> None:
    validator = pytest.importorskip("stix2validator")
    options = validator.ValidationOptions(version="2.1")
    doc = json.loads(BUNDLE.read_bytes())
    clean = dict(doc, objects=[o for o in doc["objects"] if o["id"] not in DELIBERATE_FAULTS])
    assert validator.validate_instance(clean, options).is_valid
    by_id = {o["id"]: o for o in doc["objects"]}
    for faulty in DELIBERATE_FAULTS:
        obj = by_id[faulty]
        if None in obj.values():  # the validator cannot read nulls at all; without them the object is valid
            assert validator.validate_instance(dict(doc, objects=[
                {k: v for k, v in obj.items() if v is not None}]), options).is_valid
        else:
            assert not validator.validate_instance(dict(doc, objects=[obj]), options).is_valid, faulty


# -- patterns ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("[ipv4-addr:value IN ('192.0.2.1', '192.0.2.2')]", [(T.IPV4, "192.0.2.1"), (T.IPV4, "192.0.2.2")]),
        ("([domain-name:value = 'a.example.com'] OR [domain-name:value = 'A.EXAMPLE.COM'])",
         [(T.DOMAIN, "a.example.com")]),  # one observation per value
        ("[file:hashes.'SHA-512' = '" + "AB" * 64 + "']", [(T.SHA512, "ab" * 64)]),
        ("[file:hashes.SSDEEP = '3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C']",
         [(T.SSDEEP, "3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C")]),
        ("[file:name = 'C:\\\\Users\\\\Public\\\\run.exe']", [(T.FILE_PATH, "C:\\Users\\Public\\run.exe")]),
        ("[network-traffic:src_ref.value = 'scan.example.org']", [(T.DOMAIN, "scan.example.org")]),
        ("[autonomous-system:number = 64511]", [(T.ASN, "ASN64511")]),
        ("[email-addr:value = 'it\\'s@example.com']", [(T.EMAIL, "it's@example.com")]),  # \' unescaped
    ],
)
def test_equal_comparisons(pattern: str, expected: list[tuple[T, str]]) -> None:
    assert read_pattern(pattern)[0] == expected


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("[ipv4-addr:value != '192.0.2.1']", "'!=' and NOT match everything but a value"),
        ("[ipv4-addr:value NOT IN ('192.0.2.1')]", "NOT IN matches everything but some values"),
        ("[url:value MATCHES '^http://evil']", "MATCHES tests a regular expression"),
        ("[ipv4-addr:value ISSUBSET '192.0.2.0/24']", "ISSUBSET tests membership of a network range"),
        ("[file:size > 1000]", "'<', '>', '<=', '>=' test a range"),
        ("[ipv4-addr:value = '192.0.2.1'] REPEATS 3 TIMES", "a REPEATS qualifier"),
        ("[ipv4-addr:value = '192.0.2.1'] START t'2024-01-01T00:00:00Z' STOP t'2024-02-01T00:00:00Z'",
         "a START/STOP qualifier"),
        ("[ipv4-addr:value = '192.0.2.1'] FOLLOWEDBY [ipv4-addr:value = '192.0.2.2']", "FOLLOWEDBY describes"),
        ("[ipv4-addr:value = '192.0.2.1' AND ipv4-addr:value = '192.0.2.2']", "AND of several values"),
        ("[(ipv4-addr:value = '192.0.2.1' OR ipv4-addr:value = '192.0.2.3') AND ipv4-addr:value = '192.0.2.2']",
         "AND joins tests that must all hold"),
        ("[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = '192.0.2.5']",
         "not a valid domain"),  # the pinned type wins over what the value looks like
        ("[email-message:subject = 'Invoice']", "email-message:subject is not a property iocflow reads"),
        ("[x-acme-beacon:host = 'c2.example.com']", "x-acme-beacon:host is not a property iocflow reads"),
        ("[file:hashes.'SHA3-256' = '" + "ab" * 32 + "']", "hash algorithm 'SHA3-256' is not one iocflow stores"),
        ("[file:hashes.MD5 = 'ab12']", "file:hashes.MD5: not a valid md5"),
        ("[file:hashes.'SHA-256' = 'd41d8cd98f00b204e9800998ecf8427e']", "not a valid sha256 (it is a md5)"),
        ("[ipv4-addr:value = true]", "compared with a literal that is not a string or an integer"),
        ("ipv4-addr:value = '192.0.2.1'", "pattern does not parse"),
    ],
)
def test_patterns_without_one_value_are_rejected_with_the_reason(pattern: str, reason: str) -> None:
    found, errors = read_pattern(pattern)
    assert found == []
    assert len(errors) == 1 and reason in errors[0], errors


def test_an_or_keeps_its_readable_alternatives() -> None:
    found, errors = read_pattern("[url:value LIKE '%/gate.php' OR url:value = 'http://c2.example.com/gate.php']")
    assert found == [(T.URL, "http://c2.example.com/gate.php")]
    assert len(errors) == 1 and "LIKE matches a family of values" in errors[0]


# -- indicator properties ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("confidence", "expected"),
    [(None, Confidence.HIGH), (0, Confidence.LOW), (29, Confidence.LOW), (30, Confidence.MEDIUM),
     (69, Confidence.MEDIUM), (70, Confidence.HIGH), (100, Confidence.HIGH)],
)
def test_confidence_follows_the_none_low_med_high_scale(confidence: int | None, expected: Confidence) -> None:
    props = {} if confidence is None else {"confidence": confidence}
    result = stix.parse(bundle(indicator("[ipv4-addr:value = '192.0.2.1']", **props)))
    assert [o.confidence for o in result.observations] == [expected]


@pytest.mark.parametrize("confidence", [-1, 101, "80", True, 50.5])
def test_a_confidence_outside_0_to_100_rejects_the_indicator(confidence: object) -> None:
    result = stix.parse(bundle(indicator("[ipv4-addr:value = '192.0.2.1']", confidence=confidence)))
    assert result.observations == []
    assert ["confidence must be an integer from 0 to 100" in e.message for e in result.errors] == [True]


@pytest.mark.parametrize(
    ("types", "expected"),
    [(["malicious-activity"], Reputation.BAD), (["compromised"], Reputation.BAD),
     (["anomalous-activity"], Reputation.SUSPICIOUS), (["benign"], Reputation.GOOD),
     (["benign", "malicious-activity"], Reputation.BAD), (["attribution"], None), ([], None)],
)
def test_indicator_types_set_the_reputation(types: list[str], expected: Reputation | None) -> None:
    result = stix.parse(bundle(indicator("[ipv4-addr:value = '192.0.2.1']", indicator_types=types)))
    assert [(o.reputation, o.tags) for o in result.observations] == [(expected, tuple(types))]


def test_a_stix_20_indicator_reads_too() -> None:
    old = indicator("[domain-name:value = 'old.example.com']", labels=["malicious-activity"])
    del old["pattern_type"], old["spec_version"]
    result = stix.parse(bundle(old))
    assert [(o.type, o.value, o.reputation, o.tags) for o in result.observations] == [
        (T.DOMAIN, "old.example.com", Reputation.BAD, ("malicious-activity",)),
    ]


def test_attack_kill_chain_phases_become_tactic_ids_per_matrix() -> None:
    phases = [
        {"kill_chain_name": "mitre-mobile-attack", "phase_name": "command-and-control"},
        {"kill_chain_name": "mitre-ics-attack", "phase_name": "inhibit-response-function"},
        {"kill_chain_name": "mitre-attack", "phase_name": "T1059.001"},
        {"kill_chain_name": "mitre-attack", "phase_name": "no-such-tactic"},
        {"kill_chain_name": "acme-chain", "phase_name": "stage-2"},
    ]
    refs = [{"source_name": "mitre-attack", "external_id": "T9999"},  # not in the ATT&CK table
            {"source_name": "mitre-attack", "external_id": "M1049"},  # a mitigation, not a technique
            {"source_name": "capec", "external_id": "CAPEC-163"}]
    result = stix.parse(bundle(indicator("[ipv4-addr:value = '192.0.2.1']", kill_chain_phases=phases,
                                         external_references=refs)))
    (obs,) = result.observations
    assert obs.techniques == ("TA0037", "TA0107", "T1059.001")
    assert obs.tags == ("acme-chain:stage-2",)


def test_tlp_markings_from_the_spec_and_from_the_bundle() -> None:
    amber = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"  # the spec's TLP:AMBER, not in the bundle
    own = {"type": "marking-definition", "spec_version": "2.1",
           "id": "marking-definition--8a3c9f1e-5b2d-4c6e-9f0a-1b2c3d4e5f60", "created": "2024-01-01T00:00:00.000Z",
           "name": "TLP:AMBER+STRICT", "extensions": {}}
    statement = {"type": "marking-definition", "spec_version": "2.1",
                 "id": "marking-definition--9b4d0a2f-6c3e-4d7f-8a1b-2c3d4e5f6071",
                 "created": "2024-01-01T00:00:00.000Z", "definition_type": "statement",
                 "definition": {"statement": "Copyright ACME"}}
    result = stix.parse(bundle(own, statement, indicator(
        "[ipv4-addr:value = '192.0.2.1']", object_marking_refs=[amber, own["id"], statement["id"]])))
    assert [o.tags for o in result.observations] == [("tlp:amber", "tlp:amber+strict")]


def test_a_revoked_relationship_or_malware_links_nothing() -> None:
    malware = {"type": "malware", "spec_version": "2.1", "id": "malware--1a2b3c4d-5e6f-4071-8293-a4b5c6d7e8f9",
               "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
               "name": "GoodLoader", "is_family": True}
    ind = indicator("[ipv4-addr:value = '192.0.2.1']")
    rel = {"type": "relationship", "spec_version": "2.1", "id": "relationship--2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901",
           "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
           "relationship_type": "indicates", "source_ref": ind["id"], "target_ref": malware["id"]}
    assert [o.malware for o in stix.parse(bundle(malware, ind, rel)).observations] == ["GoodLoader"]
    assert [o.malware for o in stix.parse(bundle(malware, ind, dict(rel, revoked=True))).observations] == [None]


def test_an_unknown_identity_leaves_no_reporter() -> None:
    result = stix.parse(bundle(indicator("[ipv4-addr:value = '192.0.2.1']", created_by_ref=IDENTITY)))
    assert [o.reporter for o in result.observations] == [None]


def test_a_bad_valid_from_rejects_the_indicator() -> None:
    result = stix.parse(bundle(indicator("[ipv4-addr:value = '192.0.2.1']", valid_from="last Tuesday")))
    assert result.observations == []
    assert [e.message for e in result.errors] == [
        "indicator--0c7b5e1a-2f4d-4e6b-9a8c-1d2e3f4a5b6c: valid_from is not a time: 'last Tuesday'",
    ]


# -- documents that are not bundles ---------------------------------------------------------


def test_a_bundle_without_objects_is_empty() -> None:
    result = stix.parse(b'{"type": "bundle", "id": "bundle--4f1d0c3e-9a3b-4c1e-8f77-0d6b2a9c5e11"}')
    assert (result.rows_read, result.observations, result.errors) == (0, [], [])


def test_a_non_object_entry_is_a_rejected_row() -> None:
    result = stix.parse(b'{"type": "bundle", "id": "bundle--x", "objects": ["indicator--x"]}')
    assert [(e.line, e.message) for e in result.errors] == [(0, "not a STIX object")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not valid JSON"),
        (b"<html>502 Bad Gateway</html>", "not valid JSON"),
        (b"[]", "not a STIX bundle"),
        (b'{"type": "report", "id": "report--x"}', "not a STIX bundle"),
        (b'{"type": "bundle", "id": "bundle--x", "objects": {}}', "'objects' is not a list"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (BUNDLE.read_bytes()[:5000], "truncated or corrupt"),
    ],
    ids=["empty", "html", "list", "not-bundle", "objects-not-list", "binary", "truncated"],
)
def test_a_document_that_is_not_a_bundle_raises_feed_error(data: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message) as info:
        stix.parse(data)
    assert info.value.source == "stix"


def test_format() -> None:
    assert stix.FORMAT.name == "stix" and stix.FORMAT.parse is stix.parse
