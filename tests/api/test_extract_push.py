"""Extraction over HTTP, the SOAR command shape, the Cortex XDR push shape and body limits (section 4)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from iocflow.api.app import create_app
from iocflow.settings import Settings
from iocflow.store.store import Store
from iocflow.store.vocabulary import IndicatorType
from tests.api.conftest import Api, assert_error, bearer
from tests.documents import pdf_with_text
from tests.hostile_documents import bomb_pdf, html_with_attributes, nested_html, slow_pdf

EXTRACT = "/api/v1/extract"
SOAR = "/Command/IOCsExtraction"
XDR = "/public_api/v1/indicators/insert_jsons"
SOAR_BAD_BODY = "The body of the request must be a valid JSON object"
TEXT = "Beacon to hxxps://paper-c2[.]top/gate.php from 45.155.205[.]233; dropper md5 3b2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d."
#: Keys of ioc-finder's ``find_iocs`` answer, a few of them.
IOC_FINDER_KEYS = {"urls", "domains", "ipv4s", "ipv6s", "md5s", "sha256s", "email_addresses", "cves",
                   "attack_techniques", "socket_addresses"}


def chunks(data: bytes, size: int = 256) -> Iterator[bytes]:
    """``data`` as a body of unknown length (sent chunked, without Content-Length)."""
    for start in range(0, len(data), size):
        yield data[start:start + size]


def found(answer: Any) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert set(body) == {"data", "indicators", "stored"}
    assert IOC_FINDER_KEYS <= set(body["data"])
    return body


def xdr_headers(secret: str, **extra: str) -> dict[str, str]:
    return {"Authorization": secret, "x-xdr-auth-id": "1"} | extra


def soar_body(text: object) -> dict[str, Any]:
    return {"Username": "analyst", "Site": "SOC", "CommandParams": {"Raw Text": text}}


# -- POST /api/v1/extract ------------------------------------------------------------------------


def test_extract_plain_text(api: Api) -> None:
    body = found(api.post(EXTRACT, content=TEXT, headers={"Content-Type": "text/plain"}))
    assert body["data"]["urls"] == ["https://paper-c2.top/gate.php"]
    assert body["data"]["ipv4s"] == ["45.155.205.233"]
    assert body["data"]["md5s"] == ["3b2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"]
    assert body["stored"] is None
    ip = next(i for i in body["indicators"] if i["type"] == "ipv4")
    assert ip["value"] == "45.155.205.233" and ip["raw"] == "45.155.205[.]233" and ip["defanged"] is True
    assert TEXT[ip["start"]:ip["end"]] == ip["raw"]


def test_extract_without_content_type_reads_text(api: Api) -> None:
    assert found(api.post(EXTRACT, content=TEXT.encode()))["data"]["ipv4s"] == ["45.155.205.233"]


def test_extract_json(api: Api) -> None:
    body = found(api.post(EXTRACT, json={"text": TEXT, "title": "A report"}))
    assert body["data"]["domains"] == ["paper-c2.top"]


def test_extract_html_upload(api: Api) -> None:
    html = (b"<html><head><title>Report</title><style>p{}</style></head><body>"
            b"<p>C2 at 45.155.205[.]233 and <a href='#'>paper-c2[.]top</a></p></body></html>")
    body = found(api.post(EXTRACT, files={"file": ("report.html", html, "text/html")}))
    assert body["data"]["ipv4s"] == ["45.155.205.233"]
    assert body["data"]["domains"] == ["paper-c2.top"]


def test_extract_pdf_upload(api: Api) -> None:
    pdf = pdf_with_text("Second stage from 45.155.205[.]233 via paper-c2[.]top")
    body = found(api.post(EXTRACT, files={"file": ("report.pdf", pdf, "application/pdf")}))
    assert body["data"]["ipv4s"] == ["45.155.205.233"]
    assert body["data"]["domains"] == ["paper-c2.top"]


def test_extract_raw_pdf_body(api: Api) -> None:
    pdf = pdf_with_text("Second stage from 45.155.205[.]233")
    body = found(api.post(EXTRACT, content=pdf, headers={"Content-Type": "application/pdf"}))
    assert body["data"]["ipv4s"] == ["45.155.205.233"]


def test_extract_types_filter(api: Api) -> None:
    body = found(api.post(EXTRACT, content=TEXT, params={"types": "ipv4"}))
    assert {i["type"] for i in body["indicators"]} == {"ipv4"}
    assert_error(api.post(EXTRACT, content=TEXT, params={"types": "ipv5"}), 400, "invalid_parameter")


def test_extract_min_confidence(api: Api) -> None:
    low = found(api.post(EXTRACT, content="see report.exe", params={"min_confidence": "low"}))
    high = found(api.post(EXTRACT, content="see report.exe", params={"min_confidence": "high"}))
    assert len(low["indicators"]) >= len(high["indicators"])
    assert_error(api.post(EXTRACT, content=TEXT, params={"min_confidence": "sure"}), 400, "invalid_parameter")


def test_free_tier_may_extract(api: Api) -> None:
    assert found(api.post(EXTRACT, key="free", content=TEXT))["data"]["ipv4s"] == ["45.155.205.233"]


def test_store_must_be_a_boolean(api: Api) -> None:
    assert_error(api.post(EXTRACT, key="writer", content=TEXT, params={"store": "nope"}), 400, "invalid_parameter")


def test_extract_without_the_scope_is_403(make_api: Callable[..., Api], store: Store) -> None:
    api = make_api()
    _, secret = store.create_key(name="reader", tier="pro", scopes=("read:iocs",))
    details = assert_error(api.client.post(EXTRACT, content=TEXT, headers={"X-API-Key": secret}), 403,
                           "insufficient_scope")
    assert details["required_scope"] == "extract"


def test_store_true_ingests_as_an_article(api: Api) -> None:
    payload = {"text": TEXT, "title": "Paper C2 notes", "url": "https://intel.example.org/paper-c2"}
    body = found(api.post(EXTRACT, key="writer", params={"store": "true"}, json=payload))
    assert body["stored"]["new"] == 4 and body["stored"]["failed"] is None
    assert body["stored"]["source"] == "intel.example.org"
    feed = api.get("/api/v1/iocs", params={"feed": "intel.example.org"}).json()["data"]
    assert {d["value"] for d in feed} == {"https://paper-c2.top/gate.php", "paper-c2.top", "45.155.205.233",
                                          "3b2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"}
    assert {d["source"]["article_title"] for d in feed} == {"Paper C2 notes"}
    assert {d["source"]["article_url"] for d in feed} == {"https://intel.example.org/paper-c2"}
    titles = [a["title"] for a in api.get("/api/v1/articles").json()["data"]]
    assert "Paper C2 notes" in titles


def test_store_true_without_a_url_is_the_keys_source(api: Api) -> None:
    body = found(api.post(EXTRACT, key="writer", params={"store": "true"}, content=TEXT))
    assert body["stored"]["source"] == "api:writer"


def test_store_true_needs_write_indicators(api: Api, store: Store) -> None:
    before = store.count()
    details = assert_error(api.post(EXTRACT, key="pro", params={"store": "true"}, content=TEXT), 403,
                           "insufficient_scope")
    assert details == {"required_scope": "write:indicators", "your_scopes": ["extract", "read:iocs"]}
    assert store.count() == before
    assert api.post(EXTRACT, key="pro", params={"store": "false"}, content=TEXT).status_code == 200


@pytest.mark.parametrize("body", [b"{not json", b'{"text": "unterminated', b"\xff\xfe"])
def test_malformed_json_is_400(api: Api, body: bytes) -> None:
    answer = api.post(EXTRACT, content=body, headers={"Content-Type": "application/json"})
    assert_error(answer, 400, "invalid_json")


@pytest.mark.parametrize("payload", [[], {"text": 5}, {"body": "x"}, "text"])
def test_json_without_text_is_400(api: Api, payload: object) -> None:
    assert_error(api.post(EXTRACT, json=payload), 400, "invalid_parameter")


@pytest.mark.parametrize("content_type", ["image/png", "application/xml", "video/mp4"])
def test_unsupported_content_type_is_415(api: Api, content_type: str) -> None:
    answer = api.post(EXTRACT, content=b"\x89PNG....", headers={"Content-Type": content_type})
    assert_error(answer, 415, "unsupported_media_type")


def test_multipart_without_a_file_field_is_400(api: Api) -> None:
    assert_error(api.post(EXTRACT, data={"text": TEXT}, files={"other": ("a.txt", b"x")}), 400, "invalid_parameter")


def test_empty_document_is_400(api: Api) -> None:
    answer = api.post(EXTRACT, files={"file": ("empty.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] in {"invalid_input", "invalid_parameter"}


# -- body size -----------------------------------------------------------------------------------


@pytest.fixture
def small(make_api: Callable[..., Api]) -> Api:
    """An app accepting bodies of at most 1,000 bytes."""
    return make_api(max_body_bytes=1000)


def test_body_at_the_limit_is_accepted(small: Api) -> None:
    body = ("8.8.8.8 " * 125).encode()
    assert len(body) == 1000
    assert small.post(EXTRACT, content=body).status_code == 200
    assert small.post(EXTRACT, content=chunks(body)).status_code == 200


def test_body_over_the_limit_with_content_length_is_413(small: Api) -> None:
    answer = small.post(EXTRACT, content=b"x" * 1001)
    assert_error(answer, 413, "payload_too_large")


@pytest.mark.parametrize(("path", "headers"), [
    (EXTRACT, {}),
    (EXTRACT, {"Content-Type": "application/json"}),
    ("/api/v1/keys", {"Content-Type": "application/json"}),  # a body FastAPI itself reads
    (SOAR, {"Content-Type": "application/json"}),
])
def test_chunked_body_over_the_limit_is_413(small: Api, path: str, headers: dict[str, str]) -> None:
    answer = small.post(path, key="admin", content=chunks(b"x" * 5000), headers=headers)
    assert "content-length" not in answer.request.headers
    assert_error(answer, 413, "payload_too_large")


def test_multipart_upload_over_the_limit_is_413(small: Api) -> None:
    answer = small.post(EXTRACT, files={"file": ("big.txt", b"8.8.8.8 " * 500, "text/plain")})
    assert_error(answer, 413, "payload_too_large")


def test_nothing_is_stored_from_an_oversized_body(small: Api, store: Store) -> None:
    before = store.count()
    answer = small.post(EXTRACT, key="writer", params={"store": "true"}, content=chunks(b"45.155.205.233 " * 200))
    assert answer.status_code == 413
    assert store.count() == before


# -- hostile documents: time and size budgets, worker processes (issue 12, items 1 and 8) --------


def test_decompression_bomb_pdf_is_400_not_500(api: Api) -> None:
    bomb = bomb_pdf()
    for answer in (api.post(EXTRACT, files={"file": ("bomb.pdf", bomb, "application/pdf")}),
                   api.post(EXTRACT, content=bomb, headers={"Content-Type": "application/pdf"})):
        assert_error(answer, 400, "invalid_input")
        assert "decompression bomb" in answer.json()["error"]["message"]


def test_document_over_the_size_budget_is_413(make_api: Callable[..., Api]) -> None:
    api = make_api(extract_max_chars=100)
    assert found(api.post(EXTRACT, content="8.8.8.8 " * 12))["data"]["ipv4s"] == ["8.8.8.8"]
    details = assert_error(api.post(EXTRACT, content="8.8.8.8 " * 13), 413, "document_too_large")
    assert details == {"chars": 104, "max_chars": 100}
    pdf = pdf_with_text("C2 at 45.155.205.233 " * 6)  # a small upload whose text is over the budget
    assert_error(api.post(EXTRACT, files={"file": ("r.pdf", pdf, "application/pdf")}), 413, "document_too_large")


def test_document_over_the_time_budget_is_503_and_stopped(make_api: Callable[..., Api]) -> None:
    api = make_api(extract_timeout_seconds=1)
    answer = api.post(EXTRACT, files={"file": ("slow.pdf", slow_pdf(), "application/pdf")})  # pypdf: a minute
    details = assert_error(answer, 503, "extraction_timeout")
    assert details == {"timeout_seconds": 1.0}
    assert found(api.post(EXTRACT, content=TEXT))["data"]["ipv4s"] == ["45.155.205.233"]  # a new worker serves


def test_the_server_answers_while_a_document_is_read(store: Store, keys: dict[str, str]) -> None:
    """A document used to be read on the event loop: /healthz waited until it was done."""
    app = create_app(Settings(database_url=store.url, extract_timeout_seconds=3), store=store)
    done: dict[str, Any] = {}
    with TestClient(app) as client:  # one event loop for every request, as in a server
        def post() -> None:
            done["answer"] = client.post(EXTRACT, headers=bearer(keys["pro"]),
                                         files={"file": ("slow.pdf", slow_pdf(), "application/pdf")})
            done["at"] = time.monotonic()

        reader = threading.Thread(target=post)
        reader.start()
        time.sleep(0.5)
        health = client.get("/healthz")
        health_at = time.monotonic()
        reader.join(120)
    assert health.status_code == 200
    assert health_at < done["at"], "/healthz waited for the extraction"
    assert_error(done["answer"], 503, "extraction_timeout")


def test_html_page_costly_to_parse_is_answered(api: Api) -> None:
    """The issue's page: 40,000 attributes on one tag took 59 s; it is read without a tree."""
    page = html_with_attributes(40_000).encode()
    body = found(api.post(EXTRACT, files={"file": ("page.html", page, "text/html")}))
    assert body["data"]["domains"] == ["evil.com"]


def test_html_page_costly_to_parse_can_be_stored(api: Api) -> None:
    page = nested_html(20_000).encode()
    body = found(api.post(EXTRACT, key="writer", params={"store": "true"}, content=page,
                          headers={"Content-Type": "text/html"}))
    assert body["data"]["ipv4s"] == ["203.0.113.9"]
    assert body["stored"]["new"] == 1


# -- POST /Command/IOCsExtraction (SOAR command shape) ------------------------------------------


def test_soar_success_shape(api: Api) -> None:
    answer = api.post(SOAR, json=soar_body("8[.]8[.]8[.]8 and evil-c2[.]top"))
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"error", "returnData"}
    assert body["error"] == ""
    assert IOC_FINDER_KEYS <= set(body["returnData"])
    assert body["returnData"]["ipv4s"] == ["8.8.8.8"]
    assert body["returnData"]["domains"] == ["evil-c2.top"]
    assert answer.headers["X-RateLimit-Limit"] == "1000" and answer.headers["X-Request-ID"]


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'"a string"', b"", b"null"])
def test_soar_bad_body_is_400_in_its_shape(api: Api, raw: bytes) -> None:
    answer = api.post(SOAR, content=raw, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json() == {"error": SOAR_BAD_BODY, "returnData": ""}


@pytest.mark.parametrize("payload", [{"Username": "a"}, {"CommandParams": {"Raw Text": 5}}, {"CommandParams": []}])
def test_soar_missing_raw_text_is_400(api: Api, payload: dict[str, Any]) -> None:
    answer = api.post(SOAR, json=payload)
    assert answer.status_code == 400
    body = answer.json()
    assert set(body) == {"error", "returnData"} and body["error"] and body["returnData"] == ""


def test_soar_without_a_key_is_401_in_its_shape(api: Api) -> None:
    for answer in (api.post(SOAR, key=None, json=soar_body("x")),
                   api.client.post(SOAR, json=soar_body("x"), headers={"Authorization": "Bearer sk_live_nope"})):
        assert answer.status_code == 401
        body = answer.json()
        assert set(body) == {"error", "returnData"} and body["error"] and body["returnData"] == ""
        assert answer.headers["X-Request-ID"]


def test_soar_without_the_scope_is_403_in_its_shape(api: Api, store: Store) -> None:
    _, secret = store.create_key(name="reader", tier="pro", scopes=("read:iocs",))
    answer = api.client.post(SOAR, json=soar_body("x"), headers={"X-API-Key": secret})
    assert answer.status_code == 403
    assert set(answer.json()) == {"error", "returnData"}


def test_soar_rate_limit_is_429_in_its_shape(api: Api) -> None:
    answers = [api.post(SOAR, key="free", json=soar_body("8.8.8.8")) for _ in range(11)]
    assert [a.status_code for a in answers] == [200] * 10 + [429]
    limited = answers[10]
    body = limited.json()
    assert set(body) == {"error", "returnData"} and body["returnData"] == ""
    assert "rate limit" in body["error"]
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["X-RateLimit-Remaining"] == "0"


def test_soar_text_goes_through_the_extraction_budgets(make_api: Callable[..., Api]) -> None:
    """The SOAR command extracts off the event loop with /api/v1/extract's budgets: over the size limit is a
    413 in the command's own shape, not minutes on the event loop."""
    answer = make_api(extract_max_chars=1000).post(SOAR, json=soar_body("8.8.8.8 " * 500))
    assert answer.status_code == 413
    body = answer.json()
    assert set(body) == {"error", "returnData"} and body["returnData"] == "" and "over the limit of 1000" in body["error"]


def test_soar_internal_error_is_500_in_its_shape(make_api: Callable[..., Api], monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(text: str, **_: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("iocflow.api.routes.extract.extract", broken)
    answer = make_api(raise_server_exceptions=False).post(SOAR, json=soar_body("8.8.8.8"))
    assert answer.status_code == 500
    body = answer.json()
    assert set(body) == {"error", "returnData"} and body["returnData"] == ""
    assert answer.headers["X-Request-ID"] in body["error"]
    assert "secret internals" not in answer.text and "Traceback" not in answer.text


# -- POST /public_api/v1/indicators/insert_jsons (Cortex XDR shape) ------------------------------


def test_xdr_push_stores_indicators(api: Api, store: Store) -> None:
    body = {"request_data": [
        {"indicator": "xdr-pushed-c2.top", "type": "DOMAIN_NAME", "severity": "HIGH", "reputation": "BAD",
         "reliability": "A", "expiration_date": None, "comment": "phishing", "vendors": [], "class": "Malware"},
        {"indicator": "45.155.205.233", "type": "IP", "severity": "MEDIUM"},
    ], "validate": True}
    answer = api.client.post(XDR, json=body, headers=xdr_headers(api.keys["writer"]))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"reply": {"success": True, "validation_errors": []}}
    pushed = store.indicator(IndicatorType.DOMAIN, "xdr-pushed-c2.top")
    assert pushed is not None
    assert store.indicator(IndicatorType.IPV4, "45.155.205.233") is not None
    sources = {s.feed_name for s in pushed.sightings}
    assert sources == {"xdr-push:writer"}
    looked_up = api.get("/api/v1/lookup", params={"value": "xdr-pushed-c2.top", "type": "domain"}).json()
    assert (looked_up["reputation"], looked_up["severity"]) == ("bad", "high")


def test_xdr_accepts_bearer_and_x_api_key_too(api: Api) -> None:
    body = {"request_data": [{"indicator": "xdr-bearer-c2.top", "type": "DOMAIN_NAME"}]}
    assert api.post(XDR, key="writer", json=body).json()["reply"]["success"] is True
    answer = api.client.post(XDR, json=body, headers={"X-API-Key": api.keys["writer"]})
    assert answer.json()["reply"]["success"] is True


def test_xdr_validate_true_with_a_bad_item_stores_nothing(api: Api, store: Store) -> None:
    before = store.count()
    body = {"request_data": [
        {"indicator": "xdr-valid-c2.top", "type": "DOMAIN_NAME"},
        {"indicator": "999.1.1.1", "type": "IP"},
        {"indicator": "abc", "type": "HASH"},
    ], "validate": True}
    answer = api.client.post(XDR, json=body, headers=xdr_headers(api.keys["writer"]))
    assert answer.status_code == 200
    reply = answer.json()["reply"]
    assert reply["success"] is False
    assert [(e["index"], e["indicator"]) for e in reply["validation_errors"]] == [(1, "999.1.1.1"), (2, "abc")]
    assert all(e["error"] for e in reply["validation_errors"])
    assert store.count() == before
    assert store.indicator(IndicatorType.DOMAIN, "xdr-valid-c2.top") is None


def test_xdr_validate_false_stores_the_valid_items(api: Api, store: Store) -> None:
    body = {"request_data": [{"indicator": "xdr-valid-c2.top", "type": "DOMAIN_NAME"},
                             {"indicator": "999.1.1.1", "type": "IP"}], "validate": False}
    reply = api.client.post(XDR, json=body, headers=xdr_headers(api.keys["writer"])).json()["reply"]
    assert [e["index"] for e in reply["validation_errors"]] == [1]
    assert store.indicator(IndicatorType.DOMAIN, "xdr-valid-c2.top") is not None


def test_xdr_large_reply_is_gzipped_when_asked(api: Api) -> None:
    body = {"request_data": [{"indicator": f"999.1.1.{n}", "type": "IP"} for n in range(60)], "validate": True}
    headers = xdr_headers(api.keys["writer"], **{"Accept-Encoding": "gzip"})
    answer = api.client.post(XDR, json=body, headers=headers)
    assert answer.status_code == 200
    assert answer.headers["content-encoding"] == "gzip"
    assert len(answer.json()["reply"]["validation_errors"]) == 60  # httpx decoded it
    assert int(answer.headers["content-length"]) < len(answer.content)  # compressed on the wire
    plain = api.client.post(XDR, json=body, headers=xdr_headers(api.keys["writer"], **{"Accept-Encoding": "identity"}))
    assert "content-encoding" not in plain.headers
    assert plain.json() == answer.json()


def test_xdr_small_reply_is_not_gzipped(api: Api) -> None:
    body = {"request_data": [{"indicator": "xdr-small-c2.top", "type": "DOMAIN_NAME"}]}
    answer = api.client.post(XDR, json=body, headers=xdr_headers(api.keys["writer"], **{"Accept-Encoding": "gzip"}))
    assert answer.status_code == 200 and "content-encoding" not in answer.headers


def test_xdr_needs_write_indicators(api: Api, store: Store) -> None:
    before = store.count()
    body = {"request_data": [{"indicator": "xdr-denied-c2.top", "type": "DOMAIN_NAME"}]}
    details = assert_error(api.client.post(XDR, json=body, headers=xdr_headers(api.keys["pro"])), 403,
                           "insufficient_scope")
    assert details["required_scope"] == "write:indicators"
    assert store.count() == before
    assert api.client.post(XDR, json=body, headers=xdr_headers(api.keys["admin"])).status_code == 200


def test_xdr_needs_a_key(api: Api) -> None:
    body = {"request_data": []}
    assert_error(api.client.post(XDR, json=body, headers={"x-xdr-auth-id": "1"}), 401, "missing_api_key")
    assert_error(api.client.post(XDR, json=body, headers=xdr_headers("sk_live_wrong")), 401, "invalid_api_key")


@pytest.mark.parametrize(("raw", "code"), [
    (b"{broken", "invalid_json"),
    (b"[]", "invalid_parameter"),
    (b'{"request_data": "evil.com"}', "invalid_parameter"),
])
def test_xdr_bad_request_is_400(api: Api, store: Store, raw: bytes, code: str) -> None:
    before = store.count()
    headers = xdr_headers(api.keys["writer"], **{"Content-Type": "application/json"})
    assert_error(api.client.post(XDR, content=raw, headers=headers), 400, code)
    assert store.count() == before
