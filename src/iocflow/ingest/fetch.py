"""Getting a source's bytes: from a URL (httpx) or a local file.

Downloads time out, are retried with exponential backoff on network errors,
5xx and 429 (honouring Retry-After), and use conditional GET: a feed that
sends an ETag or Last-Modified is asked again with If-None-Match /
If-Modified-Since, and a 304 means nothing to do. A body shorter than its
Content-Length (a truncated download) is an error, never half a feed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from iocflow import __version__
from iocflow.exceptions import FeedError

#: Largest document iocflow downloads (the biggest public feeds are a few hundred MB uncompressed).
MAX_BYTES = 1 << 30
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class Fetched:
    """A document, or ``data is None`` when the server said it has not changed (304)."""

    location: str
    data: bytes | None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None


def is_url(location: str) -> bool:
    return urlsplit(location).scheme in {"http", "https"}


DEFAULT_USER_AGENT = f"iocflow/{__version__}"


def make_client(
    *,
    timeout: float = 30.0,
    user_agent: str | None = None,
    host_headers: Mapping[str, Mapping[str, str]] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """The HTTP client every connector uses (tests pass an ``httpx.MockTransport``).

    ``host_headers`` are extra headers for one host and its subdomains, such as abuse.ch's
    ``{"abuse.ch": {"Auth-Key": "..."}}``. They are added to each request, redirects included,
    only when its host matches, so a key never travels to another site.
    """
    hooks = {"request": [_host_headers_hook(host_headers)]} if host_headers else {}
    return httpx.Client(
        timeout=httpx.Timeout(timeout),
        follow_redirects=True,
        headers={"User-Agent": user_agent or DEFAULT_USER_AGENT},
        transport=transport,
        event_hooks=hooks,
    )


def _host_headers_hook(table: Mapping[str, Mapping[str, str]]) -> Callable[[httpx.Request], None]:
    by_domain = {domain.strip(".").lower(): dict(headers) for domain, headers in table.items()}
    names = {name for headers in by_domain.values() for name in headers}

    def scope(request: httpx.Request) -> None:
        # A redirect's request starts as a copy of the last one's headers: take ours off, then put back
        # only what this host gets.
        for name in names:
            request.headers.pop(name, None)
        host = request.url.host.lower()
        for domain, headers in by_domain.items():
            if host == domain or host.endswith("." + domain):
                request.headers.update(headers)

    return scope


def read_local(location: str) -> Fetched:
    path = Path(location.removeprefix("file://")).expanduser()
    try:
        return Fetched(str(path), path.read_bytes())
    except OSError as exc:
        raise FeedError(f"cannot read {path}: {exc.strerror or exc}", source=str(path)) from exc


def fetch(
    location: str,
    *,
    client: httpx.Client | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    retries: int = 3,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Fetched:
    """The document at ``location`` (URL or path); ``FeedError`` once retries are spent."""
    if not is_url(location):
        return read_local(location)
    own = client is None
    client = client or make_client()
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        for attempt in range(retries + 1):
            delay = backoff * (2**attempt)
            try:
                response, body = _get(client, location, headers)
            except (httpx.TransportError, _Truncated) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 304:
                    return Fetched(location, None, etag, last_modified)
                if response.status_code not in _RETRY_STATUS:
                    if response.status_code >= 400:
                        raise FeedError(f"HTTP {response.status_code} from {location}", source=location)
                    return Fetched(
                        location, body, response.headers.get("ETag"),
                        response.headers.get("Last-Modified"), response.headers.get("Content-Type"),
                    )
                problem = f"HTTP {response.status_code}"
                delay = max(delay, _retry_after(response))
            if attempt < retries:
                sleep(delay)
        raise FeedError(f"giving up after {retries + 1} attempts: {problem}", source=location)
    finally:
        if own:
            client.close()


class _Truncated(Exception):
    pass


def _get(client: httpx.Client, url: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
    """The response and its decoded body, read in full; a body short of its Content-Length is ``_Truncated``."""
    with client.stream("GET", url, headers=headers) as response:
        chunks = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_BYTES:
                raise FeedError(f"{url} is larger than {MAX_BYTES} bytes", source=url)
            chunks.append(chunk)
        expected = response.headers.get("Content-Length", "")
        received = response.num_bytes_downloaded or size  # a body handed over whole was never streamed
        if response.status_code == 200 and expected.isdigit() and int(expected) != received:
            raise _Truncated(f"got {received} of {expected} bytes")
        return response, b"".join(chunks)


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else 0.0


def relative_fetcher(base: str, *, client: httpx.Client | None = None, retries: int = 3,
                     sleep: Callable[[float], None] = time.sleep) -> Callable[[str], bytes]:
    """Fetch documents named relative to ``base`` (a MISP manifest's event files)."""

    def get(name: str) -> bytes:
        if is_url(base):
            target = urljoin(base, name)
        else:
            root = Path(base.removeprefix("file://")).expanduser()
            target = str((root if root.is_dir() else root.parent) / name)
        data = fetch(target, client=client, retries=retries, sleep=sleep).data
        return data or b""

    return get
