"""Downloads: retries with backoff, Retry-After, conditional GET, truncation, local files."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from iocflow.exceptions import FeedError
from iocflow.ingest.fetch import fetch, make_client, relative_fetcher

URL = "https://feeds.example-intel.io/feed.json"


def scripted(*responses: httpx.Response | Exception) -> tuple[httpx.Client, list[httpx.Request]]:
    """A client whose server answers with ``responses`` in order."""
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return make_client(transport=httpx.MockTransport(handler)), seen


def test_retries_server_errors_with_exponential_backoff() -> None:
    client, seen = scripted(httpx.Response(503), httpx.ConnectError("refused"), httpx.Response(200, content=b"ok"))
    sleeps: list[float] = []
    got = fetch(URL, client=client, backoff=0.5, sleep=sleeps.append)
    assert got.data == b"ok" and len(seen) == 3 and sleeps == [0.5, 1.0]


def test_retry_after_is_honoured() -> None:
    client, _ = scripted(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, content=b"ok"))
    sleeps: list[float] = []
    assert fetch(URL, client=client, backoff=0.1, sleep=sleeps.append).data == b"ok"
    assert sleeps == [7.0]


def test_gives_up_after_the_retries() -> None:
    client, seen = scripted(*(httpx.Response(502) for _ in range(3)))
    with pytest.raises(FeedError, match="giving up after 3 attempts: HTTP 502"):
        fetch(URL, client=client, retries=2, sleep=lambda _: None)
    assert len(seen) == 3


def test_client_errors_are_not_retried() -> None:
    client, seen = scripted(httpx.Response(404))
    with pytest.raises(FeedError, match="HTTP 404"):
        fetch(URL, client=client, sleep=lambda _: None)
    assert len(seen) == 1


def test_a_truncated_body_is_retried_never_returned() -> None:
    short = httpx.Response(200, headers={"Content-Length": "1000"}, stream=httpx.ByteStream(b'{"partial": '))
    client, _ = scripted(short, httpx.Response(200, content=b'{"whole": true}'))
    assert fetch(URL, client=client, sleep=lambda _: None).data == b'{"whole": true}'
    client, _ = scripted(*(httpx.Response(200, headers={"Content-Length": "1000"}, stream=httpx.ByteStream(b"x"))
                           for _ in range(2)))
    with pytest.raises(FeedError, match="got 1 of 1000 bytes"):
        fetch(URL, client=client, retries=1, sleep=lambda _: None)


def test_conditional_get_sends_validators_and_understands_304() -> None:
    client, seen = scripted(
        httpx.Response(200, content=b"v1", headers={"ETag": '"abc"', "Last-Modified": "Tue, 03 Mar 2026 10:00:00 GMT"}),
        httpx.Response(304),
    )
    first = fetch(URL, client=client)
    assert (first.data, first.etag, first.last_modified) == (b"v1", '"abc"', "Tue, 03 Mar 2026 10:00:00 GMT")
    second = fetch(URL, client=client, etag=first.etag, last_modified=first.last_modified)
    assert second.data is None
    assert seen[1].headers["If-None-Match"] == '"abc"'
    assert seen[1].headers["If-Modified-Since"] == "Tue, 03 Mar 2026 10:00:00 GMT"
    assert "iocflow/" in seen[0].headers["User-Agent"]


def test_local_files_and_their_errors(tmp_path: Path) -> None:
    path = tmp_path / "feed.csv"
    path.write_bytes(b"a,b\r\n")
    assert fetch(str(path)).data == b"a,b\r\n"
    assert fetch(f"file://{path}").data == b"a,b\r\n"
    with pytest.raises(FeedError, match="cannot read"):
        fetch(str(tmp_path / "missing.csv"))


def test_relative_documents_resolve_against_a_url_or_a_folder(tmp_path: Path) -> None:
    (tmp_path / "event.json").write_bytes(b"{}")
    assert relative_fetcher(str(tmp_path / "manifest.json"))("event.json") == b"{}"
    assert relative_fetcher(str(tmp_path))("event.json") == b"{}"
    client, seen = scripted(httpx.Response(200, content=b"{}"))
    assert relative_fetcher("https://misp.example-intel.io/feed/manifest.json", client=client)("e1.json") == b"{}"
    assert str(seen[0].url) == "https://misp.example-intel.io/feed/e1.json"


def test_host_headers_go_to_that_host_and_its_subdomains_only() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "urlhaus.abuse.ch":  # a redirect off-site must not carry the key along
            return httpx.Response(302, headers={"Location": "https://mirror.example.org/dump.csv"})
        return httpx.Response(200, content=b"ok")

    client = make_client(transport=httpx.MockTransport(handler), user_agent="soc-pipeline/2",
                         host_headers={"abuse.ch": {"Auth-Key": "k-123"}})
    with client:
        fetch("https://abuse.ch/feed", client=client)
        fetch("https://urlhaus.abuse.ch/downloads/csv_recent/", client=client)
        fetch("https://notabuse.ch/feed", client=client)
    keys = {(r.url.host, r.headers.get("Auth-Key")) for r in seen}
    assert keys == {("abuse.ch", "k-123"), ("urlhaus.abuse.ch", "k-123"), ("mirror.example.org", None),
                    ("notabuse.ch", None)}
    assert {r.headers["User-Agent"] for r in seen} == {"soc-pipeline/2"}
