"""``GET /api/v1/lookup``: detection, refanging, risk score and reasons, ATT&CK names, hunting queries (section 3)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from iocflow.enrich import risk
from iocflow.store.store import Store
from iocflow.store.vocabulary import Confidence, IndicatorType, Reliability, Reputation, Severity, SourceCategory
from tests.api.conftest import ALLOWLISTED_IP, ARTICLE_DOMAIN, ARTICLE_IP, ARTICLE_SHA256, Api, assert_error, record

LOOKUP = "/api/v1/lookup"
HUNTING_KEYS = {"splunk", "kql", "elastic", "sigma"}
#: Every field of a lookup answer, known value or not.
FIELDS = {"value", "type", "id", "known", "risk_score", "risk_points", "risk_reasons", "confidence", "severity",
          "reputation", "mitre_techniques", "sources", "first_seen", "last_seen", "expires_at", "tags", "industries",
          "allowlisted", "allowlist_reason", "hunting_queries"}


def lookup(api: Api, value: str, key: str = "pro", **params: str) -> dict[str, Any]:
    answer = api.get(LOOKUP, key=key, params={"value": value, **params})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert set(body) == FIELDS
    return body


def points(reasons: list[str]) -> int:
    """The points the reasons add up to (each reason starts with its signed points)."""
    total = 0
    for reason in reasons:
        match = re.match(r"([+-]\d+) ", reason)
        assert match, reason
        total += int(match.group(1))
    return max(0, min(100, total))


def level(score: int) -> str:
    return next(name for floor, name in risk.LEVELS if score >= floor)


# -- values --------------------------------------------------------------------------------------


def test_known_value_refanged(api: Api) -> None:
    body = lookup(api, "185.220.101[.]47")
    assert body["value"] == ARTICLE_IP and body["type"] == "ipv4" and body["known"] is True
    assert body["confidence"] == "medium"
    assert [(s["feed_name"], s["category"]) for s in body["sources"]] == [("articles", "research")]
    assert "second stage" in body["sources"][0]["context"]
    assert body["first_seen"] and body["last_seen"]
    assert body["industries"] == ["finance", "healthcare"]
    assert body["allowlisted"] is False


@pytest.mark.parametrize(("raw", "value", "kind"), [
    ("hxxps://paper-lantern[.]top/gate.php", "https://paper-lantern.top/gate.php", "url"),
    ("PAPER-LANTERN[.]TOP", ARTICLE_DOMAIN, "domain"),
    (ARTICLE_SHA256.upper(), ARTICLE_SHA256, "sha256"),
    ("abuse-reports[@]paper-lantern[.]top", "abuse-reports@paper-lantern.top", "email"),
    ("  185.220.101.47  ", ARTICLE_IP, "ipv4"),
])
def test_value_is_detected_and_normalised(api: Api, raw: str, value: str, kind: str) -> None:
    body = lookup(api, raw)
    assert (body["value"], body["type"], body["known"]) == (value, kind, True)


def test_type_hint(api: Api) -> None:
    assert lookup(api, "paper-lantern[.]top", type="domain")["known"] is True
    assert lookup(api, "185.220.101.47", type="IPV4")["type"] == "ipv4"


def test_type_hint_that_does_not_fit_is_400(api: Api) -> None:
    details = assert_error(api.get(LOOKUP, params={"value": "185.220.101.47", "type": "domain"}), 400,
                           "invalid_parameter")
    assert details["parameter"] == "value"


def test_unknown_type_hint_is_400_with_valid_types(api: Api) -> None:
    details = assert_error(api.get(LOOKUP, params={"value": "185.220.101.47", "type": "ipv5"}), 400,
                           "invalid_parameter")
    assert details["valid_types"] == [t.value for t in IndicatorType]


def test_unknown_value_is_200_unknown(api: Api) -> None:
    body = lookup(api, "8.8.4[.]4")
    assert body["value"] == "8.8.4.4" and body["type"] == "ipv4" and body["known"] is False
    assert body["risk_score"] == "unknown" and body["risk_points"] == 0 and body["risk_reasons"]
    assert body["sources"] == [] and body["mitre_techniques"] == [] and body["tags"] == []
    assert body["first_seen"] is None and body["last_seen"] is None and body["confidence"] is None


@pytest.mark.parametrize("value", ["not an indicator at all", "999.1.1.1", "%%%", " "])
def test_invalid_value_is_400(api: Api, value: str) -> None:
    assert_error(api.get(LOOKUP, params={"value": value}), 400, "invalid_parameter")


def test_value_is_required(api: Api) -> None:
    assert_error(api.get(LOOKUP), 400, "invalid_parameter")


def test_lookup_needs_read_iocs(api: Api) -> None:
    assert_error(api.get(LOOKUP, key="extract_only", params={"value": "8.8.8.8"}), 403, "insufficient_scope")


def test_free_tier_may_look_up(api: Api) -> None:
    assert lookup(api, ARTICLE_IP, key="free")["known"] is True


# -- risk score ----------------------------------------------------------------------------------


def test_risk_points_and_level_follow_the_reasons(api: Api) -> None:
    for value in (ARTICLE_IP, ARTICLE_DOMAIN, "5d41402abc4b2a76b9719d911017c592", "x4z9arb.cn"):
        body = lookup(api, value)
        assert body["risk_points"] == points(body["risk_reasons"]), value
        assert body["risk_score"] == level(body["risk_points"]), value


def test_article_ip_risk(api: Api) -> None:
    # research source rated C (+5, +5), medium confidence (+5), seen now (+10), reputation unknown (0)
    body = lookup(api, ARTICLE_IP)
    assert body["risk_points"] == 25 and body["risk_score"] == "low"
    assert body["risk_reasons"] == ["+5 most reliable source rated C", "+5 reported by a research source",
                                    "+5 confidence medium", "+10 seen in the last 7 days"]


def test_a_second_source_raises_the_score(api: Api, store: Store) -> None:
    before = lookup(api, ARTICLE_IP)["risk_points"]
    record(store, [(IndicatorType.IPV4, ARTICLE_IP)], source="second", category=SourceCategory.COMMUNITY,
           reliability=Reliability.E)
    after = lookup(api, ARTICLE_IP)
    assert len(after["sources"]) == 2
    assert "+10 2 independent sources" in after["risk_reasons"]
    assert after["risk_points"] > before  # the extra source counts; the best rating and category stay


def test_critical_indicator(api: Api, store: Store) -> None:
    record(store, [(IndicatorType.SHA256, "a" * 64)], category=SourceCategory.GOVERNMENT, reliability=Reliability.A,
           reputation=Reputation.BAD, severity=Severity.CRITICAL)
    body = lookup(api, "a" * 64)
    # bad +40, rated A +15, government +10, high confidence +15, critical +15, fresh +10 (capped at 100)
    assert body["risk_score"] == "critical" and body["risk_points"] == 100
    assert body["reputation"] == "bad" and body["severity"] == "critical"


def test_medium_indicator(api: Api, store: Store) -> None:
    record(store, [(IndicatorType.SHA256, "b" * 64)], category=SourceCategory.RESEARCH, reliability=Reliability.C,
           reputation=Reputation.SUSPICIOUS, confidence=Confidence.MEDIUM)
    body = lookup(api, "b" * 64)
    # suspicious +20, rated C +5, research +5, medium +5, fresh +10
    assert body["risk_points"] == 45 and body["risk_score"] == "medium"


def test_stale_weak_indicator_is_low(api: Api, store: Store) -> None:
    record(store, [(IndicatorType.SHA256, "c" * 64)], now=datetime.now(UTC) - timedelta(days=120),
           category=SourceCategory.COMMUNITY, reliability=Reliability.D, reputation=Reputation.SUSPICIOUS,
           confidence=Confidence.LOW)
    body = lookup(api, "c" * 64)
    # suspicious +20, rated D -10, low -10, last seen 120 days ago -15: below zero, clamped
    assert body["risk_points"] == 0 and body["risk_score"] == "low"
    assert any("days ago" in r for r in body["risk_reasons"])


def test_expired_indicator_loses_points(api: Api, store: Store) -> None:
    record(store, [(IndicatorType.IPV4, "45.155.205.233")], now=datetime.now(UTC) - timedelta(days=40),
           reputation=Reputation.BAD)
    body = lookup(api, "45.155.205.233")
    assert "-25 expired" in body["risk_reasons"]
    assert body["risk_points"] == points(body["risk_reasons"])


def test_allowlisted_is_low_whatever_else(api: Api) -> None:
    body = lookup(api, ALLOWLISTED_IP)
    assert body["reputation"] == "bad" and body["severity"] == "high"  # ThreatFox says Cobalt Strike C2
    assert body["allowlisted"] is True and body["allowlist_reason"]
    assert body["risk_score"] == "low" and body["risk_points"] == 0
    assert body["risk_reasons"] == [f"allowlisted: {body['allowlist_reason']}"]


def test_operator_allowlist_entry_turns_a_lookup_low(api: Api, store: Store) -> None:
    assert lookup(api, "5d41402abc4b2a76b9719d911017c592")["risk_score"] == "critical"
    store.add_allowlist_entry("5d41402abc4b2a76b9719d911017c592", "test hash")
    body = lookup(api, "5d41402abc4b2a76b9719d911017c592")
    assert body["risk_score"] == "low" and body["risk_points"] == 0
    assert body["risk_reasons"] == [f"allowlisted: {body['allowlist_reason']}"]
    assert "test hash" in body["allowlist_reason"]


# -- ATT&CK --------------------------------------------------------------------------------------


def test_mitre_techniques_carry_attack_names(api: Api) -> None:
    body = lookup(api, ARTICLE_DOMAIN)
    assert body["mitre_techniques"] == [{"id": "T1566.001", "name": "Spearphishing Attachment"},
                                        {"id": "T1574.002", "name": "DLL Side-Loading"}]
    assert lookup(api, "5d41402abc4b2a76b9719d911017c592")["mitre_techniques"] == [{"id": "T1566", "name": "Phishing"}]


# -- hunting queries -----------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "shown"), [
    (ARTICLE_IP, ARTICLE_IP),
    ("paper-lantern[.]top", ARTICLE_DOMAIN),
    (ARTICLE_SHA256, ARTICLE_SHA256),
    ("8.8.4.4", "8.8.4.4"),  # unknown values get queries too
])
def test_hunting_queries_for_ip_domain_hash(api: Api, value: str, shown: str) -> None:
    pytest.importorskip("iocflow.enrich.hunting")
    queries = lookup(api, value)["hunting_queries"]
    assert HUNTING_KEYS <= set(queries)
    for dialect in HUNTING_KEYS:
        assert shown in queries[dialect], dialect


def test_no_hunting_queries_for_a_cve(api: Api) -> None:
    pytest.importorskip("iocflow.enrich.hunting")
    assert lookup(api, "CVE-2025-24813")["hunting_queries"] == {}


def test_hunting_queries_escape_quotes_and_pipes(api: Api) -> None:
    pytest.importorskip("iocflow.enrich.hunting")
    body = lookup(api, 'Mozilla/5.0 (X11; "evil" | rm)', type="user_agent")
    queries = body["hunting_queries"]
    assert {"splunk", "kql", "elastic"} <= set(queries)
    for dialect, query in queries.items():
        assert 'evil\\" | rm)' in query, dialect  # the quote is escaped, the pipe stays inside the string
        assert query.count('"evil') == query.count('\\"evil'), dialect


def test_lookup_sigma_rule_is_the_sigma_export_of_the_stored_indicator(api: Api, store: Store) -> None:
    """One rule writer: the lookup's Sigma rule for a stored indicator is what /export/sigma writes for it alone
    (same detection, same level from the stored severity, same tags, id and date)."""
    value = "sigma-one-writer.iocflow-test.net"
    record(store, [(IndicatorType.DOMAIN, value)], source="sigma-only-feed", severity=Severity.CRITICAL,
           techniques=("T1071.004",))
    rule = lookup(api, value)["hunting_queries"]["sigma"]
    exported = api.get("/api/v1/export/sigma", key="admin", params={"feed": "sigma-only-feed", "confidence": "low"})
    assert exported.status_code == 200, exported.text
    assert exported.text == f"---\n{rule}"
    assert "level: critical" in rule and "attack.t1071.004" in rule
