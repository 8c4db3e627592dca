"""/api/v1/export/{format}, /api/v1/rules/sigma and /api/v1/hunt over the sample store."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import orjson
import pytest
import yaml

from tests.api.conftest import Api, assert_error


def _feed_values(api: Api, **params: str) -> set[str]:
    answer = api.get("/api/v1/iocs", key="admin", params={"format": "csv", "limit": "10000", **params})
    return {row["value"] for row in csv.DictReader(io.StringIO(answer.text))}


def test_stix_bundle_holds_the_feeds_indicators(api: Api) -> None:
    answer = api.get("/api/v1/export/stix", key="admin", params={"type": "domain,ipv4,url", "limit": "10000"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/stix+json;version=2.1"
    assert "attachment" in answer.headers["content-disposition"]
    bundle = orjson.loads(answer.content)
    assert bundle["type"] == "bundle"
    patterns = " ".join(o["pattern"] for o in bundle["objects"] if o["type"] == "indicator")
    for value in _feed_values(api, type="domain,ipv4,url"):
        assert f"'{value}'" in patterns


@pytest.mark.parametrize(("name", "media", "parse"), [
    ("misp", "application/json", lambda b: orjson.loads(b)["response"]),
    ("cef", "text/plain; charset=utf-8", lambda b: b.decode().splitlines()),
    ("openioc", "application/xml", lambda b: list(ET.fromstring(b).iter())),
    ("sigma", "application/yaml", lambda b: list(yaml.safe_load_all(b))),
    ("xdr", "application/json", lambda b: orjson.loads(b)["request_data"]),
])
def test_every_format_renders(api: Api, name: str, media: str, parse: object) -> None:
    answer = api.get(f"/api/v1/export/{name}", key="admin")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == media
    assert parse(answer.content)  # type: ignore[operator]


def test_cef_lines_match_the_feed_filters(api: Api) -> None:
    answer = api.get("/api/v1/export/cef", key="admin", params={"type": "ipv4", "limit": "10000"})
    lines = answer.text.splitlines()
    assert len(lines) == len(_feed_values(api, type="ipv4")) > 0
    assert all(line.startswith("CEF:0|iocflow|iocflow|") and "|ioc:ipv4|" in line for line in lines)


def test_tier_and_scope_rules_apply(api: Api) -> None:
    assert_error(api.get("/api/v1/export/cef", key="free"), 403, "format_not_allowed")
    assert_error(api.get("/api/v1/export/stix", key="pro"), 403, "insufficient_scope")  # needs read:stix
    assert_error(api.get("/api/v1/export/stix", key="extract_only"), 403, "insufficient_scope")
    assert_error(api.get("/api/v1/export/docx", key="admin"), 404, "not_found")
    assert_error(api.get("/api/v1/export/cef", key=None), 401, "missing_api_key")


def _ids(text: str) -> list[str]:
    return [line.split("externalId=")[1].split(" ")[0] for line in text.splitlines()]


def test_limit_caps_an_export_in_feed_order(api: Api) -> None:
    everything = _ids(api.get("/api/v1/export/cef", key="admin", params={"limit": "10000"}).text)
    first = _ids(api.get("/api/v1/export/cef", key="admin", params={"limit": "3"}).text)
    assert len(everything) > 3 and first == everything[:3]


def test_sigma_rules_endpoint(api: Api) -> None:
    answer = api.get("/api/v1/rules/sigma", key="admin", params={"confidence": "low", "days": "3650"})
    assert answer.status_code == 200
    rules = list(yaml.safe_load_all(answer.content))
    assert rules and all(r["status"] == "experimental" and "detection" in r for r in rules)
    from sigma.collection import SigmaCollection

    assert len(SigmaCollection.from_yaml(answer.text).rules) == len(rules)


def test_hunt_returns_one_query_set_for_many_indicators(api: Api) -> None:
    answer = api.post("/api/v1/hunt", json={"indicators": ["evil[.]com", "45.155.205.233", "CVE-2024-3094", "nope nope"]})
    assert answer.status_code == 200
    body = answer.json()
    assert set(body["queries"]) == {"splunk", "kql", "elastic", "sigma"}
    assert body["indicators"] == 2
    assert [r["index"] for r in body["rejected"]] == [2, 3]
    kql = "\n".join(body["queries"]["kql"])
    assert '"evil.com"' in kql and '"45.155.205.233"' in kql
    assert_error(api.post("/api/v1/hunt", json={"indicators": []}), 400, "invalid_parameter")
