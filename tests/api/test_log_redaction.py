"""No API key, Authorization value or other secret reaches a log line.

Unit cases for ``redact``; the app's own log lines (a 500's traceback with the
request id) captured with caplog; uvicorn's access line as uvicorn formats it.
The served process's output is read in ``test_serve_process.py``.
"""

from __future__ import annotations

import logging

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from uvicorn.logging import AccessFormatter

from iocflow.api.app import create_app
from iocflow.api.logs import RedactSecrets, redact
from iocflow.settings import Settings
from iocflow.store.store import Store

KEY = "sk_live_" + "Ab3-_x" * 7 + "Z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param('"GET /api/v1/iocs?api_key=s3cret&limit=5 HTTP/1.1"',
                     '"GET /api/v1/iocs?api_key=[REDACTED]&limit=5 HTTP/1.1"', id="query-first"),
        pytest.param("/x?limit=5&api_key=s3cret", "/x?limit=5&api_key=[REDACTED]", id="query-later"),
        pytest.param("/x?API_KEY=s3cret", "/x?API_KEY=[REDACTED]", id="query-name-case"),
        pytest.param("/x?api%5Fkey=s3cret", "/x?api%5Fkey=[REDACTED]", id="query-name-escaped"),
        pytest.param("/x?%61pi_key=s3cret", "/x?%61pi_key=[REDACTED]", id="query-name-escaped-letter"),
        pytest.param("/x?access_token=t0k&token=t1k&password=p&x=1", "/x?access_token=[REDACTED]&token=[REDACTED]"
                     "&password=[REDACTED]&x=1", id="other-secret-params"),
        pytest.param("/x?api_key=", "/x?api_key=[REDACTED]", id="query-empty-value"),
        pytest.param("/x?keyword=api_key=1", "/x?keyword=api_key=1", id="not-a-parameter-name"),
        pytest.param("/x?type=ipv4&limit=5", "/x?type=ipv4&limit=5", id="nothing-secret"),
        pytest.param("Authorization: Bearer s3cret", "Authorization: Bearer [REDACTED]", id="header-bearer"),
        pytest.param("authorization: Basic dXNlcjpwYXNz", "authorization: Basic [REDACTED]", id="header-basic"),
        pytest.param("Authorization: s3cret", "Authorization: [REDACTED]", id="header-bare"),
        pytest.param("X-API-Key: s3cret", "X-API-Key: [REDACTED]", id="header-x-api-key"),
        pytest.param("{'authorization': 'Bearer s3cret', 'accept': '*/*'}",
                     "{'authorization': 'Bearer [REDACTED]', 'accept': '*/*'}", id="header-dict-repr"),
        pytest.param("[(b'x-api-key', b's3cret')]", "[(b'x-api-key', b'[REDACTED]')]", id="header-asgi-repr"),
        pytest.param(f"bad key {KEY}.", "bad key sk_live_[REDACTED].", id="key-anywhere"),
        pytest.param("redis://:pw@127.0.0.1:6379/0", "redis://:[REDACTED]@127.0.0.1:6379/0", id="url-password"),
        pytest.param("postgresql+psycopg://app:pw@db/x", "postgresql+psycopg://app:[REDACTED]@db/x",
                     id="url-user-password"),
        pytest.param("user@example.com and http://example.com:8080/a", "user@example.com and http://example.com:8080/a",
                     id="no-credentials"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert redact(expected) == expected


def test_access_line_as_uvicorn_formats_it() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", f"/api/v1/iocs?api_key={KEY}&limit=5", "1.1", 200), None)
    assert RedactSecrets().filter(record)
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False).format(record)
    assert line == '127.0.0.1:5000 - "GET /api/v1/iocs?api_key=[REDACTED]&limit=5 HTTP/1.1" 200 OK'


def test_a_traceback_carrying_the_key_is_redacted() -> None:
    try:
        raise RuntimeError(f"failed on {{'authorization': 'Bearer {KEY}'}}")
    except RuntimeError:
        record = logging.getLogger("iocflow.api").makeRecord("iocflow.api", logging.ERROR, __file__, 1,
                                                              "unhandled error (request %s)", ("r1",), _exc_info())
    assert RedactSecrets().filter(record)
    text = logging.Formatter().format(record)
    assert KEY not in text and "sk_live_" not in text
    assert "unhandled error (request r1)" in text and "RuntimeError: failed on" in text and "[REDACTED]" in text


def _exc_info():  # type: ignore[no-untyped-def]
    import sys

    return sys.exc_info()


@pytest.mark.parametrize("where", ["bearer", "x-api-key", "query"])
def test_app_log_lines_carry_no_key(store: Store, keys: dict[str, str], caplog: pytest.LogCaptureFixture,
                                    where: str) -> None:
    """A bug whose exception message quotes the request: the logged traceback keeps the id, not the key."""
    app = create_app(Settings(database_url=store.url), store=store)

    @app.get("/boom")
    def boom(request: Request) -> None:
        raise RuntimeError(f"cannot serve {request.url} with {dict(request.headers)} {request.headers.raw}")

    secret = keys["pro"]
    client = TestClient(app, raise_server_exceptions=False)
    options: dict[str, dict[str, str]] = {
        "bearer": {"headers": {"Authorization": f"Bearer {secret}"}},
        "x-api-key": {"headers": {"X-API-Key": secret}},
        "query": {"params": {"api_key": secret}},
    }[where]
    with caplog.at_level(logging.DEBUG):
        answer = client.get("/boom", **options)  # type: ignore[arg-type]
        assert client.get("/api/v1/iocs", **options).status_code == 200  # type: ignore[arg-type]
    assert answer.status_code == 500 and answer.json()["error"]["code"] == "internal_error"
    rid = answer.headers["X-Request-ID"]
    # what the server side wrote (httpx, the test's client, logs the URLs it requests)
    text = "\n".join(caplog.handler.format(r) for r in caplog.records if not r.name.startswith("httpx"))
    assert f"unhandled error (request {rid})" in text
    assert "RuntimeError: cannot serve" in text and "[REDACTED]" in text
    assert secret not in text and secret[8:] not in text
