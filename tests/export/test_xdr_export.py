"""XDR export: iocflow's own insert_jsons reader accepts the body and reads back every value."""

from __future__ import annotations

import json
from dataclasses import replace
from enum import Enum
from typing import Any
from datetime import UTC, datetime, timedelta

import pytest

from iocflow.export import xdr
from iocflow.ingest.xdr import parse_request
from iocflow.store.records import NEVER, indicator_id
from iocflow.store.views import IndicatorRecord
from iocflow.store.vocabulary import Confidence, IndicatorType, Reliability, Reputation, Severity

T = IndicatorType

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
EXPIRES = datetime(2025, 6, 1, 12, 30, 45, 123000, tzinfo=UTC)  # whole milliseconds: XDR's resolution


def make(kind: IndicatorType, value: str, **changes: object) -> IndicatorRecord:
    base = IndicatorRecord(
        id=indicator_id(kind, value), type=kind, value=value, confidence=Confidence.HIGH, severity=Severity.HIGH,
        reputation=Reputation.BAD, first_seen=NOW - timedelta(days=3), last_seen=NOW, expires_at=EXPIRES,
        tags=("apt",), techniques=(), industries=(), indicator_class="Malware",
        comment="C2 \"panel\"\nline two \\ é", source=None,
    )
    return replace(base, **changes)


EXPORTABLE = [
    make(T.MD5, "d41d8cd98f00b204e9800998ecf8427e"),
    make(T.SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709", severity=Severity.INFO, reputation=Reputation.UNKNOWN),
    make(T.SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", severity=Severity.CRITICAL),
    make(T.IPV4, "203.0.113.7", reputation=Reputation.SUSPICIOUS, severity=Severity.LOW),
    make(T.IPV6, "2001:db8::7", expires_at=None),
    make(T.DOMAIN, "evil-example.com", comment=None, indicator_class=None, severity=Severity.MEDIUM,
         reputation=Reputation.GOOD),
    make(T.DOMAIN, "xn--bcher-kva.de"),
    make(T.FILENAME, "invoice 2024.pdf.exe"),
    make(T.FILENAME, "ünïcødé.scr"),
]
SKIPPED = [
    make(T.URL, "http://evil-example.com/x"),
    make(T.CVE, "CVE-2024-3400"),
    make(T.EMAIL, "a@evil-example.com"),
    make(T.SHA512, "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
                    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"),
]


def test_body_is_accepted_by_iocflow_ingest_with_no_errors() -> None:
    body = json.loads(json.dumps(xdr.request(EXPORTABLE + SKIPPED, now=NOW)))  # as it travels over HTTP
    parsed, errors, validate = parse_request(body)
    assert errors == []
    assert parsed.errors == []
    assert validate is True
    assert len(parsed.observations) == len(EXPORTABLE)


def test_every_value_round_trips() -> None:
    parsed, _, _ = parse_request(xdr.request(EXPORTABLE, now=NOW))
    for item, obs in zip(EXPORTABLE, parsed.observations, strict=True):
        assert obs.type is item.type
        assert obs.value == item.value
        assert obs.severity is item.severity
        assert obs.reputation is item.reputation
        assert obs.expiry == (item.expires_at or NEVER)
        assert obs.comment == item.comment
        assert obs.indicator_class == item.indicator_class
        assert obs.tags == ("vendor:iocflow",)


def test_shape_and_upper_case_vocabularies() -> None:
    body = xdr.request([EXPORTABLE[0], EXPORTABLE[4]], now=NOW)
    assert set(body) == {"request_data", "validate"}
    first, second = body["request_data"]
    assert first == {
        "indicator": "d41d8cd98f00b204e9800998ecf8427e",
        "type": "HASH",
        "severity": "HIGH",
        "reputation": "BAD",
        "expiration_date": int(EXPIRES.timestamp() * 1000),
        "reliability": "F",
        "vendors": [{"vendor_name": "iocflow", "reputation": "BAD", "reliability": "F"}],
        "comment": EXPORTABLE[0].comment,
        "class": "Malware",
    }
    assert second["type"] == "IP"
    assert second["expiration_date"] == "Never"


def test_types_xdr_cannot_take_are_skipped_and_counted() -> None:
    result = xdr.export(EXPORTABLE + SKIPPED, now=NOW)
    assert [e["indicator"] for e in result.body["request_data"]] == [i.value for i in EXPORTABLE]
    assert result.skipped == {T.URL: 1, T.CVE: 1, T.EMAIL: 1, T.SHA512: 1}
    assert result.skipped_total == 4


def test_every_type_is_exported_or_listed_as_not_exported() -> None:
    assert set(xdr.XDR_TYPES) | xdr.NOT_EXPORTED == set(IndicatorType)
    assert not set(xdr.XDR_TYPES) & xdr.NOT_EXPORTED


def _plain(value: Any) -> bool:
    """Whether ``value`` holds only plain JSON types: no enum member, whatever the serialiser makes of one."""
    if isinstance(value, Enum):
        return False
    if isinstance(value, dict):
        return all(type(k) is str and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or type(value) in (str, int, bool)


@pytest.mark.parametrize("reliability", list(Reliability), ids=str)
def test_ratings_are_written_as_plain_values(reliability: Reliability) -> None:
    body = xdr.request([replace(item, reliability=reliability) for item in EXPORTABLE], now=NOW)
    assert _plain(body)
    for item, entry in zip(EXPORTABLE, body["request_data"], strict=True):
        assert (entry["severity"], entry["reputation"]) == (item.severity.value.upper(), item.reputation.value.upper())
        assert entry["reliability"] == entry["vendors"][0]["reliability"] == reliability.value


def test_empty_export_is_a_valid_empty_request() -> None:
    body = xdr.request([], now=NOW)
    assert body == {"request_data": [], "validate": True}
    parsed, errors, _ = parse_request(body)
    assert errors == [] and parsed.observations == []


def test_long_class_is_cut_to_what_iocflow_keeps() -> None:
    item = make(T.IPV4, "203.0.113.9", indicator_class="x" * 100)
    parsed, _, _ = parse_request(xdr.request([item], now=NOW))
    assert parsed.observations[0].indicator_class == "x" * 64


def test_requests_split_large_exports() -> None:
    items = [make(T.IPV4, f"198.51.100.{n}") for n in range(1, 8)] + SKIPPED
    bodies = list(xdr.requests(items, now=NOW, batch=3))
    assert [len(b["request_data"]) for b in bodies] == [3, 3, 1]
    assert all(parse_request(b)[1] == [] for b in bodies)
    with pytest.raises(ValueError):
        list(xdr.requests(items, now=NOW, batch=0))
