"""The risk score: every point has its reason, every table covers its vocabulary, levels by their floors."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from iocflow.enrich import risk
from iocflow.enrich.risk import Evidence, RiskLevel, score
from iocflow.store.vocabulary import Confidence, Reliability, Reputation, Severity, SourceCategory

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)

BASE = Evidence(
    reputation=Reputation.UNKNOWN, confidence=Confidence.MEDIUM, severity=Severity.MEDIUM,
    last_seen=NOW - timedelta(days=30), expires_at=None, allowlisted=False, allowlist_reason=None,
    source_reliabilities=[Reliability.F], source_categories=[SourceCategory.NEWS],
)


def points(reasons: tuple[str, ...]) -> int:
    """What the reasons add up to, clamped as the score is (each reason starts with its signed points)."""
    total = 0
    for reason in reasons:
        match = re.match(r"([+-]\d+) ", reason)
        assert match, reason
        total += int(match.group(1))
    return max(0, min(100, total))


# -- the tables -------------------------------------------------------------------------------


@pytest.mark.parametrize(("table", "vocabulary"), [
    (risk._REPUTATION, Reputation),
    (risk._RELIABILITY, Reliability),
    (risk._CATEGORY, SourceCategory),
    (risk._CONFIDENCE, Confidence),
    (risk._SEVERITY, Severity),
], ids=["reputation", "reliability", "category", "confidence", "severity"])
def test_every_table_lists_every_member(table: dict, vocabulary: type) -> None:
    assert set(table) == set(vocabulary)


def test_reliability_order_ranks_every_rating_once() -> None:
    assert sorted(risk._RELIABILITY_ORDER) == sorted(Reliability)
    assert len(risk._RELIABILITY_ORDER) == len(Reliability)


def test_a_value_outside_the_vocabulary_fails_loudly() -> None:
    """A renamed or unknown rating is an error, never 0 points."""
    with pytest.raises(KeyError):
        score(replace(BASE, reputation="malicious"), now=NOW)  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        score(replace(BASE, source_categories=["blog"]), now=NOW)  # type: ignore[list-item]


# -- levels -----------------------------------------------------------------------------------


def test_levels_and_their_values() -> None:
    assert [level.value for level in RiskLevel] == ["critical", "high", "medium", "low", "unknown"]
    assert [(floor, level.value) for floor, level in risk.LEVELS] == [
        (70, "critical"), (50, "high"), (30, "medium"), (0, "low")]


def test_a_level_is_written_as_its_value() -> None:
    """The lookup's JSON keeps ``"risk_score": "critical"``, whichever serialiser writes it."""
    level = RiskLevel.CRITICAL
    assert level == "critical" and str(level) == f"{level}" == "critical"
    assert orjson.dumps({"risk_score": level}) == b'{"risk_score":"critical"}'
    assert json.dumps({"risk_score": level}) == '{"risk_score": "critical"}'


def test_unknown() -> None:
    result = risk.unknown()
    assert (result.level, result.score) == (RiskLevel.UNKNOWN, 0)
    assert result.reasons == ("no source has reported this value",)


@pytest.mark.parametrize(("reputation", "confidence", "severity", "age"), list(itertools.product(
    Reputation, Confidence, Severity, (timedelta(days=1), timedelta(days=30), timedelta(days=200)),
)))
def test_points_and_level_follow_the_reasons(reputation: Reputation, confidence: Confidence, severity: Severity,
                                             age: timedelta) -> None:
    evidence = replace(BASE, reputation=reputation, confidence=confidence, severity=severity, last_seen=NOW - age)
    result = score(evidence, now=NOW)
    assert result.score == points(result.reasons)
    floor_level = next(level for floor, level in risk.LEVELS if result.score >= floor)
    assert result.level is floor_level
    assert all("Reputation." not in r and "Confidence." not in r and "Severity." not in r for r in result.reasons)


# -- the rules --------------------------------------------------------------------------------


def test_everything_bad_is_critical_and_clamped_at_100() -> None:
    evidence = Evidence(
        reputation=Reputation.BAD, confidence=Confidence.HIGH, severity=Severity.CRITICAL,
        last_seen=NOW - timedelta(days=1), expires_at=NOW + timedelta(days=30), allowlisted=False,
        allowlist_reason=None, source_reliabilities=[Reliability.C, Reliability.A, Reliability.E],
        source_categories=[SourceCategory.NEWS, SourceCategory.THREAT_INTEL, SourceCategory.VENDOR],
    )
    result = score(evidence, now=NOW)
    assert (result.level, result.score) == (RiskLevel.CRITICAL, 100)
    assert result.reasons == (
        "+40 reputation bad", "+20 3 independent sources", "+15 most reliable source rated A",
        "+10 reported by a threat-intel source", "+15 confidence high", "+15 severity critical",
        "+10 seen in the last 7 days",
    )


def test_a_lone_article_indicator() -> None:
    """One research source rated C, medium confidence, seen this week: 25 points, low (as the lookup shows)."""
    evidence = replace(BASE, last_seen=NOW - timedelta(days=2), source_reliabilities=[Reliability.C],
                       source_categories=[SourceCategory.RESEARCH])
    result = score(evidence, now=NOW)
    assert (result.level, result.score) == (RiskLevel.LOW, 25)
    assert result.reasons == ("+5 most reliable source rated C", "+5 reported by a research source",
                              "+5 confidence medium", "+10 seen in the last 7 days")


@pytest.mark.parametrize(("ratings", "reason"), [
    ([Reliability.B, Reliability.A], "+15 most reliable source rated A"),
    ([Reliability.E, Reliability.C, Reliability.F], "+5 most reliable source rated C"),
    ([Reliability.D, Reliability.E], "-10 most reliable source rated D"),
    ([Reliability.D, Reliability.F], None),  # F, "cannot be judged", beats a source judged unreliable; worth 0
])
def test_the_most_reliable_source_counts(ratings: list[Reliability], reason: str | None) -> None:
    result = score(replace(BASE, source_reliabilities=ratings), now=NOW)
    rated = [r for r in result.reasons if "most reliable source" in r]
    assert rated == ([reason] if reason else [])


def test_the_best_category_counts() -> None:
    categories = [SourceCategory.NEWS, SourceCategory.VENDOR, SourceCategory.COMMUNITY]
    result = score(replace(BASE, source_categories=categories), now=NOW)
    assert "+5 reported by a vendor source" in result.reasons


def test_stale_and_expired() -> None:
    evidence = replace(BASE, last_seen=NOW - timedelta(days=100), expires_at=NOW - timedelta(days=1))
    result = score(evidence, now=NOW)
    assert result.reasons[-2:] == ("-15 last seen 100 days ago", "-25 expired")
    assert (result.level, result.score) == (RiskLevel.LOW, 0)


@pytest.mark.parametrize(("reason", "shown"), [("corporate CDN", "corporate CDN"), (None, "on the allowlist")])
def test_allowlisted_is_low_whatever_else(reason: str | None, shown: str) -> None:
    evidence = replace(BASE, reputation=Reputation.BAD, severity=Severity.CRITICAL, allowlisted=True,
                       allowlist_reason=reason)
    result = score(evidence, now=NOW)
    assert (result.level, result.score, result.reasons) == (RiskLevel.LOW, 0, (f"allowlisted: {shown}",))
