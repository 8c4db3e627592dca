"""Cortex XDR insert_jsons bodies: mapping, per-item errors, validate's all-or-nothing rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from iocflow.ingest.xdr import XdrRequestError, insert_jsons, parse_request
from iocflow.store.records import NEVER
from iocflow.store.store import Store
from iocflow.store.vocabulary import IndicatorType, Reliability, Reputation, Severity

NOW = datetime(2026, 4, 1, tzinfo=UTC)
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b856".replace("e3b0", "f3b0")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    st = Store(f"sqlite:///{tmp_path / 'x.db'}")
    st.upgrade()
    return st


def body(*items: dict, validate: bool = True) -> dict:
    return {"request_data": list(items), "validate": validate}


def test_items_map_onto_observations() -> None:
    parsed, errors, validate = parse_request(body(
        {"indicator": SHA256.upper(), "type": "HASH", "severity": "HIGH", "expiration_date": 1794395200000,
         "comment": "dropper", "reputation": "BAD", "reliability": "D", "class": "Malware",
         "vendors": [{"vendor_name": "VirusTotal", "reputation": "SUSPICIOUS", "reliability": "B"}]},
        {"indicator": "8[.]8[.]4[.]4", "type": "IP", "expiration_date": "Never"},
        {"indicator": "evil-cdn.top", "type": "DOMAIN_NAME", "expiration_date": None},
        {"indicator": "invoice.pdf.exe", "type": "FILENAME"},
    ))
    assert errors == [] and validate is True
    hashed, ip, domain, filename = parsed.observations
    assert (hashed.type, hashed.value) == (IndicatorType.SHA256, SHA256.lower())
    assert hashed.severity is Severity.HIGH and hashed.reputation is Reputation.BAD
    assert hashed.reliability is Reliability.B  # the best of the item's D and the vendor's B
    assert hashed.expiry == datetime.fromtimestamp(1794395200, UTC)
    assert hashed.tags == ("vendor:VirusTotal",) and hashed.comment == "dropper" and hashed.indicator_class == "Malware"
    assert (ip.type, ip.value, ip.expiry) == (IndicatorType.IPV4, "8.8.4.4", NEVER)
    assert (domain.type, domain.value, domain.expiry) == (IndicatorType.DOMAIN, "evil-cdn.top", None)
    assert (filename.type, filename.value) == (IndicatorType.FILENAME, "invoice.pdf.exe")


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"indicator": "evil-cdn.top", "type": "IP"}, "not a valid ipv4/ipv6"),
        ({"indicator": "abc", "type": "HASH"}, "not a valid md5/sha1/sha256"),
        ({"indicator": "a" * 128, "type": "HASH"}, "not a valid md5/sha1/sha256"),
        ({"indicator": "x.exe", "type": "URL"}, "type must be one of"),
        ({"indicator": "", "type": "IP"}, "indicator is required"),
        ({"type": "IP"}, "indicator is required"),
        ({"indicator": "1.2.3.4", "type": "IP", "severity": "SEVERE"}, "severity must be one of"),
        ({"indicator": "1.2.3.4", "type": "IP", "reputation": "EVIL"}, "reputation must be one of"),
        ({"indicator": "1.2.3.4", "type": "IP", "reliability": "Z"}, "reliability must be one of"),
        ({"indicator": "1.2.3.4", "type": "IP", "expiration_date": "tomorrow"}, "expiration_date must be"),
        ({"indicator": "1.2.3.4", "type": "IP", "expiration_date": 10**20}, "out of range"),
        ({"indicator": "1.2.3.4", "type": "IP", "vendors": "VT"}, "vendors must be a list"),
        ({"indicator": "C:\\Windows\\evil.exe", "type": "FILENAME"}, "a file name is a bare name"),
        ("1.2.3.4", "each item must be an object"),
    ],
)
def test_bad_items_get_a_reason_and_their_index(item: object, message: str) -> None:
    parsed, errors, _ = parse_request(body({"indicator": "1.2.3.4", "type": "IP"}, item))
    assert len(parsed.observations) == 1
    assert len(errors) == 1 and errors[0]["index"] == 1 and message in errors[0]["error"]


@pytest.mark.parametrize(
    "bad_body",
    [[], "text", {"request_data": "1.2.3.4"}, {"request_data": [], "validate": "yes"},
     {"request_data": [{"indicator": "1.1.1.1", "type": "IP"}] * 10_001}],
)
def test_a_body_that_is_not_a_request_is_refused(bad_body: object) -> None:
    with pytest.raises(XdrRequestError):
        parse_request(bad_body)


def test_validate_true_stores_nothing_when_any_item_is_bad(store: Store) -> None:
    reply = insert_jsons(store, body({"indicator": "45.77.1.2", "type": "IP"}, {"indicator": "nope", "type": "IP"}), now=NOW)
    assert reply.as_dict() == {"reply": {"success": False, "validation_errors": [
        {"indicator": "nope", "index": 1, "error": "not a valid ipv4/ipv6"}]}}
    assert store.count() == 0


def test_validate_false_stores_the_valid_items(store: Store) -> None:
    reply = insert_jsons(store, body({"indicator": "45.77.1.2", "type": "IP", "severity": "CRITICAL"},
                                     {"indicator": "nope", "type": "IP"}, validate=False), now=NOW)
    assert reply.success is False and len(reply.validation_errors) == 1
    assert reply.report is not None and (reply.report.new, reply.report.rejected) == (1, 1)
    detail = store.indicator(IndicatorType.IPV4, "45.77.1.2")
    assert detail is not None
    row = detail.record
    assert row.severity == "critical" and row.expires_at == NOW + timedelta(days=30)
    [sighting] = detail.sightings
    assert (sighting.feed_name, sighting.kind) == ("cortex-xdr-push", "push")


def test_a_clean_push_succeeds_and_is_idempotent(store: Store) -> None:
    request = body({"indicator": "evil-cdn.top", "type": "DOMAIN_NAME", "reputation": "BAD", "reliability": "A"})
    assert insert_jsons(store, request, now=NOW).as_dict() == {"reply": {"success": True, "validation_errors": []}}
    again = insert_jsons(store, request, now=NOW + timedelta(hours=1))
    assert again.report is not None and (again.report.new, again.report.unchanged) == (0, 1)
    detail = store.indicator(IndicatorType.DOMAIN, "evil-cdn.top")
    assert detail is not None
    row = detail.record
    assert (row.reputation, row.reliability, row.confidence) == ("bad", "A", "high")
