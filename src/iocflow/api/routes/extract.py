"""``POST /api/v1/extract``: the extractor over HTTP (text, JSON or an uploaded HTML/PDF/text file).

The event loop only receives the document. Reading it (PDF, HTML) and
extracting from it happen in a worker process (``ExtractWorkers``), within a
time budget (``IOCFLOW_EXTRACT_TIMEOUT_SECONDS``) and a size budget
(``IOCFLOW_EXTRACT_MAX_CHARS``): the server keeps answering while a document
is read, and a document that overruns its budget is stopped, not left running.
Short plain text is extracted in a thread instead (``SHORT_TEXT``).
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Annotated, Any

import anyio.to_thread
import orjson
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from iocflow.api.deps import ExtractDep, ServicesDep, StoreDep
from iocflow.api.errors import ApiError, domain_error_response
from iocflow.api.tiers import Scope
from iocflow.exceptions import IocflowError
from iocflow.extract import extract, readers
from iocflow.extract.engine import parse_types
from iocflow.extract.model import Confidence, Kind
from iocflow.ingest import articles
from iocflow.ingest.report import Parsed
from iocflow.ingest.runner import store_parsed
from iocflow.ingest.service import article_source
from iocflow.settings import Settings

log = logging.getLogger("iocflow.api")

router = APIRouter(prefix="/api/v1", tags=["extract"])

OPENAPI_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/plain": {"schema": {"type": "string"}, "example": "beacon to hxxps://evil[.]com/gate.php from 8[.]8[.]8[.]8"},
            "application/json": {"schema": {"type": "object", "required": ["text"], "properties": {
                "text": {"type": "string"}, "title": {"type": "string"}, "url": {"type": "string"}}},
                "example": {"text": "C2 at 45.155.205[.]233, dropper sha256 5f2b7e3c9d1a4e6b8c0d2f4a6b8c0e2d4f6a8b0c2e4d6f8a0b2c4e6d8f0a2b4c"}},
            "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}},
        },
    }
}


@dataclass(frozen=True, slots=True)
class Upload:
    """A document as received: its bytes and file name, or text (with title and URL) sent as JSON."""

    document: bytes | articles.ArticleText
    name: str = ""


async def read_document(request: Request) -> Upload:
    """The submitted document, whatever form it came in (not read yet: a worker reads it)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ApiError(400, "invalid_parameter", "multipart uploads carry the document in a field named 'file'")
        return Upload(await upload.read(), upload.filename or "upload")
    body = await request.body()
    if content_type == "application/json":
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ApiError(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
            raise ApiError(400, "invalid_parameter", "the JSON body must be an object with a 'text' string")
        return Upload(articles.ArticleText(payload["text"], _str(payload.get("title")), _str(payload.get("url"))))
    if content_type in ("", "text/plain", "text/html", "application/pdf", "application/octet-stream"):
        return Upload(body, "document.html" if content_type == "text/html" else "")
    raise ApiError(415, "unsupported_media_type", f"send text/plain, application/json or multipart/form-data, not {content_type}")


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


# ---------------------------------------------------------------- the work, in a worker process


@dataclass(frozen=True, slots=True)
class Job:
    """What a worker does for one request."""

    upload: Upload
    types: frozenset[Kind] | None
    min_confidence: Confidence
    max_chars: int
    store_at: datetime | None  # with store=true: the article's observations, seen at this time


@dataclass(frozen=True, slots=True)
class Outcome:
    """A worker's answer: the response body (and observations to store), or an error to answer with."""

    body: dict[str, Any] | None = None
    parsed: Parsed | None = None
    error: tuple[int, str, str, dict[str, Any]] | None = None
    failure: str | None = None  # the traceback of an unexpected exception: a bug, answered with a 500


def run_job(job: Job) -> Outcome:
    """Read the document, check its size, extract: in a worker process (for short text, a thread)."""
    try:
        document = job.upload.document
        article = (document if isinstance(document, articles.ArticleText)
                   else articles.read_article(document, name=job.upload.name))  # costly HTML is read without a tree
    except IocflowError as exc:
        return Outcome(error=domain_error_response(exc))
    if len(article.text) > job.max_chars:
        return Outcome(error=(413, "document_too_large",
                              f"the document's text is {len(article.text)} characters, over the limit of {job.max_chars}",
                              {"chars": len(article.text), "max_chars": job.max_chars}))
    found = extract(article.text, types=job.types)
    body = {
        "data": found.to_ioc_finder(min_confidence=job.min_confidence),
        "indicators": [i.as_dict() for i in found.unique(min_confidence=job.min_confidence)],
    }
    parsed = articles.article_observations(article, now=job.store_at) if job.store_at is not None else None
    return Outcome(body, parsed)


def _serve(conn: Connection) -> None:
    """A worker: warm the extractor up, say so, then run one job at a time until the pipe closes."""
    extract("warm-up: 8.8.8.8 example[.]com hxxp://a.example/x user@example.org")
    conn.send(None)
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        try:
            outcome = run_job(job)
        except Exception:  # noqa: BLE001 - the main process logs it and answers 500
            outcome = Outcome(failure=traceback.format_exc())
        conn.send(outcome)


class _Worker:
    """One worker process and the pipe to it."""

    def __init__(self, context: Any, startup_timeout: float) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child,), name="iocflow-extract", daemon=True)
        self.process.start()
        child.close()
        if not self.conn.poll(startup_timeout):
            self.stop()
            raise RuntimeError(f"an extraction worker did not start in {startup_timeout:g} s")
        self.conn.recv()

    def stop(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


#: Requests that may wait for a busy worker, per worker; more are answered 503 at once.
WAITING_PER_WORKER = 4
_STARTUP_TIMEOUT = 60.0


class ExtractWorkers:
    """``size`` worker processes that read and extract documents, one document each at a time.

    Processes, not threads: a document that overruns its time budget is
    stopped by killing its worker (a new one takes its place), where a thread
    would run on. Reading is where that matters: pypdf reads a PDF's inflated
    content in pure Python, so a 100 KB upload can inflate to minutes of work.
    Workers are started when first needed, from a fork server that has
    iocflow imported, so a new one is ready in about a second (the time to
    compile the extractor's patterns); that wait is not part of the budget.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._slots = threading.BoundedSemaphore(size)
        self._admitted = threading.BoundedSemaphore(size * (1 + WAITING_PER_WORKER))
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        methods = multiprocessing.get_all_start_methods()
        self._context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if "forkserver" in methods:
            self._context.set_forkserver_preload([__name__])

    def close(self) -> None:
        """Stop the idle workers (a busy one stops when its job ends or overruns)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()

    def admit(self) -> bool:
        """Take a place for one request (to be released by ``run``); False when too many are waiting."""
        return self._admitted.acquire(blocking=False)

    def run(self, job: Job, timeout: float) -> Outcome:
        """``job``'s outcome, from a free worker; blocks, so call it from a thread, after ``admit``.

        Waiting for a free worker and the work itself each get ``timeout`` seconds;
        past them the answer is a 503 (``extraction_busy``, ``extraction_timeout``).
        """
        try:
            if not self._slots.acquire(timeout=timeout):
                raise ApiError(503, "extraction_busy",
                               f"every extraction worker stayed busy for {timeout:g} s; try again later",
                               {"workers": self.size}, headers={"Retry-After": "5"})
            try:
                return self._run(job, timeout)
            finally:
                self._slots.release()
        finally:
            self._admitted.release()

    def _run(self, job: Job, timeout: float) -> Outcome:
        with self._lock:
            worker = self._idle.pop() if self._idle else None
        if worker is not None and not worker.process.is_alive():  # ended while idle (killed from outside)
            worker.stop()
            worker = None
        if worker is None:
            worker = _Worker(self._context, _STARTUP_TIMEOUT)
        try:
            worker.conn.send(job)
            if not worker.conn.poll(timeout):
                log.warning("a document took longer than %g s to read and extract: worker %s stopped",
                            timeout, worker.process.pid)
                raise ApiError(503, "extraction_timeout",
                               f"reading and extracting the document took longer than {timeout:g} s and was stopped; "
                               "send a smaller document or split it", {"timeout_seconds": timeout})
            outcome: Outcome = worker.conn.recv()
        except BaseException:
            worker.stop()  # overran its budget, or died (out of memory, a crash): a new one takes its place
            raise
        with self._lock:
            self._idle.append(worker)
        return outcome


_pools: dict[int, ExtractWorkers] = {}
_pools_lock = threading.Lock()


def workers(size: int) -> ExtractWorkers:
    """This process's pool of ``size`` extraction workers (one per size, made when first asked for)."""
    with _pools_lock:
        pool = _pools.get(size)
        if pool is None:
            pool = _pools[size] = ExtractWorkers(size)
        return pool


#: Text up to this long is extracted in a thread of the API process, not a worker: extraction is
#: linear, so even text that is an indicator every few characters takes well under a second,
#: and a short request never waits behind a large document. Documents that need a reader
#: (PDF, HTML) always go to a worker.
SHORT_TEXT = 64 * 1024


def is_short_text(upload: Upload) -> bool:
    """Whether ``upload`` is plain text of at most SHORT_TEXT characters (bytes)."""
    document = upload.document
    if isinstance(document, articles.ArticleText):
        return len(document.text) <= SHORT_TEXT
    return len(document) <= SHORT_TEXT and readers.detect_type(document, upload.name) is readers.DocumentType.TEXT


async def run_extraction(job: Job, settings: Settings) -> Outcome:
    """``job`` off the event loop within the settings' budgets: short text in a thread, anything else in a
    worker process; ``ApiError`` for a document over its limits, a timeout or no free worker."""
    if is_short_text(job.upload):
        outcome = await run_in_threadpool(run_job, job)
    else:
        pool = workers(settings.extract_workers)
        if not pool.admit():
            raise ApiError(503, "extraction_busy", "too many documents are waiting for an extraction worker; try again later",
                           {"workers": pool.size}, headers={"Retry-After": "5"})
        outcome = await anyio.to_thread.run_sync(pool.run, job, settings.extract_timeout_seconds)
        if outcome.failure is not None:
            raise RuntimeError(f"extraction failed in a worker:\n{outcome.failure}")
    if outcome.error is not None:
        raise ApiError(*outcome.error)
    return outcome


# ---------------------------------------------------------------- the route


@router.post("/extract", summary="Extract indicators from text or a document; ?store=true also ingests it",
             openapi_extra=OPENAPI_BODY, responses={
                 413: {"description": "payload_too_large (body) or document_too_large (the document's text)"},
                 503: {"description": "extraction_timeout (over the time budget) or extraction_busy (try again)"},
             })
async def extract_endpoint(
    request: Request,
    caller: ExtractDep,
    store: StoreDep,
    services: ServicesDep,
    store_it: Annotated[bool, Query(alias="store", description="Also ingest as an article (needs write:indicators).")] = False,
    types: Annotated[str | None, Query(description="Comma-separated types to look for.")] = None,
    min_confidence: Annotated[Confidence, Query()] = Confidence.MEDIUM,
) -> Response:
    if store_it:
        caller.need(Scope.WRITE_INDICATORS, "store=true")
    try:
        kinds = parse_types(types.split(",")) if types else None
    except IocflowError as exc:
        raise ApiError(400, "invalid_parameter", str(exc), {"parameter": "types"}) from None
    upload = await read_document(request)
    settings = services.settings
    job = Job(upload, kinds, min_confidence, settings.extract_max_chars, datetime.now(UTC) if store_it else None)
    outcome = await run_extraction(job, settings)
    assert outcome.body is not None
    body: dict[str, Any] = {**outcome.body, "stored": None}
    if store_it:
        assert outcome.parsed is not None
        url = upload.document.url if isinstance(upload.document, articles.ArticleText) else None
        source = article_source(url, name=None if url else f"api:{caller.key.name}")
        report = await run_in_threadpool(store_parsed, store, source, outcome.parsed)
        body["stored"] = report.as_dict()
    return Response(orjson.dumps(body), media_type="application/json")
