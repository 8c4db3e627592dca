"""A read-only TAXII 2.1 server under ``/taxii2/``: the STIX export, pulled by TAXII clients.

Endpoints (TAXII 2.1, OASIS, sections 4 and 5), one API root named ``iocflow``:

* ``GET /taxii2/`` discovery; ``GET /taxii2/iocflow/`` the API root;
* ``GET /taxii2/iocflow/collections/`` and ``.../collections/{id}/``: four
  collections, one per confidence level (``high``, ``medium``, ``low``: the
  indicators of exactly that level) and ``all``; their ids are UUIDv5s, so
  they never change between deployments;
* ``GET .../collections/{id}/objects/`` with ``added_after``, ``match[type]``,
  ``match[id]``, ``match[version]`` (``last``, ``first``, ``all`` or a
  timestamp), ``match[spec_version]``, ``limit`` and ``next``;
  ``GET .../objects/{object_id}/``, ``.../objects/{object_id}/versions/`` and
  ``GET .../collections/{id}/manifest/`` (same filters and paging).
* ``POST .../objects/`` answers 403: every collection is ``can_write: false``
  (indicators enter iocflow through ingest and ``/public_api/v1/...``, which
  apply the allowlist and scoring TAXII has no room for). Other methods on a
  TAXII path answer 405, unknown paths 404. There is no status endpoint,
  since nothing is ever added.

What a collection holds is what ``iocflow.export.stix`` makes of its
indicators, exactly as ``/api/v1/export/stix`` would: the iocflow Identity,
one Indicator (or Vulnerability, for a CVE) per stored indicator, and a Report
per source article listing the collection's indicators from it. Expired and
allowlisted indicators are left out, as the feed leaves them out by default.

``date_added`` is the indicator's ``last_seen``: an indicator seen again is
"added again", so a client polling with ``added_after`` receives it with its
new ``modified``. A Report's ``date_added`` is its ``modified`` (its latest
indicator's ``last_seen``); the Identity's is its fixed ``created``. Every
object has one version, its current one, so ``match[version]`` ``first``,
``last`` and ``all`` select the same thing.

Order and paging. Objects come in one fixed order: the Identity, then the
indicators in row-key order (the feed's keyset order, see
``iocflow.store.queries``: a row added while a client pages lands after
every page already served), then the Reports by id. ``next`` is that
position (``rows:<row key>`` or ``reports:<report id>``), so a walk with
``next`` returns every object exactly once however the store changes
underneath. Because row-key order is not ``date_added`` order,
``X-TAXII-Date-Added-First``/``-Last`` carry the earliest and the latest
``date_added`` in the response (not the first and last object's): a poller
that sends the largest ``-Last`` it saw as ``added_after`` misses nothing.
``added_after`` is strict (later than), at microsecond precision.

Access. The iocflow API key, as ``Authorization: Bearer``, ``X-API-Key``,
``?api_key=``, ``Authorization: Token`` (taxii2-client's ``TokenAuth``) or
HTTP Basic with the key as the password (what ``Server(url, user=...,
password=KEY)`` sends; any user name; ``curl -u KEY:``, the key as the user
name with an empty password, works too). The key needs the ``read:stix``
scope and a tier whose formats include ``stix``; the tier's lookback bounds
what is served (``added_after`` is raised to it) and ``limit`` is capped at
its ``max_results`` (default page: 1000). Rate limits count as for any call.

Media types. Responses are ``application/taxii+json;version=2.1``. A request
whose ``Accept`` admits none of ``application/taxii+json`` (without a
version, or version 2.1), ``application/*`` or ``*/*`` is answered 406.

Errors inside ``/taxii2/`` are TAXII error messages (section 3.6.1), because
TAXII clients parse those and not iocflow's envelope: ``title`` (the HTTP
reason), ``description`` (the envelope's message), ``error_id`` (the request
id), ``error_code`` (the envelope's stable code), ``http_status`` (a string,
as the spec types it) and ``details``. They are rendered from the envelope
the app's own handlers build (``iocflow.api.errors``), so the mapping of
failures to statuses stays in one place; only unexpected exceptions keep the
envelope the outermost middleware answers them with.

Views call only ``TaxiiBackend``, one method per endpoint (the shape
medallion's ``Backend`` has); it reads the store through
``iocflow.store.queries`` and builds objects with ``iocflow.export.stix``.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from itertools import islice
from typing import Annotated, Any, Final, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.responses import Response

from iocflow.api.deps import Caller, ServicesDep, StoreDep, caller
from iocflow.api.errors import ApiError
from iocflow.api.tiers import Scope
from iocflow.export import stix
from iocflow.export.records import ExportItem, items
from iocflow.store.queries import IndicatorFilter, Page, indicator_by_id, list_indicators
from iocflow.store.records import NAMESPACE
from iocflow.store.store import Store
from iocflow.store.vocabulary import IndicatorType
from iocflow.times import as_utc

TAXII_MEDIA: Final = "application/taxii+json;version=2.1"
STIX_MEDIA: Final = "application/stix+json;version=2.1"
API_ROOT: Final = "iocflow"
PREFIX: Final = "/taxii2"
#: Objects per page when the client names no ``limit`` (then capped by the tier's ``max_results``).
DEFAULT_LIMIT: Final = 1000
#: Rows read per query while filling a page or gathering Reports.
_CHUNK: Final = 1000


# -- collections ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Collection:
    """One TAXII collection: a fixed selection of the store (``confidence`` None: every level)."""

    key: str
    title: str
    description: str
    confidence: str | None

    @property
    def id(self) -> str:
        """A UUIDv5 of the key: the same id on every deployment, so clients can be configured once."""
        return str(uuid.uuid5(NAMESPACE, f"taxii-collection:{self.key}"))

    def resource(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "description": self.description, "alias": self.key,
                "can_read": True, "can_write": False, "media_types": [STIX_MEDIA]}


COLLECTIONS: Final = (
    Collection("high", "iocflow: high confidence",
               "Indicators iocflow rates high confidence (STIX confidence 85), with their source reports.", "high"),
    Collection("medium", "iocflow: medium confidence",
               "Indicators iocflow rates medium confidence (STIX confidence 50), with their source reports.",
               "medium"),
    Collection("low", "iocflow: low confidence",
               "Indicators iocflow rates low confidence (STIX confidence 15), with their source reports.", "low"),
    Collection("all", "iocflow: all indicators",
               "Every indicator iocflow serves, whatever its confidence, with their source reports.", None),
)
_BY_ID: Final = {c.id: c for c in COLLECTIONS}


def _expressible(kind: str) -> bool:
    """Whether STIX 2.1 can carry the type (``build`` skips the rest); a CVE becomes a Vulnerability."""
    if kind == IndicatorType.CVE.value:
        return True
    try:
        return stix.pattern_string(kind, "0") is not None
    except ValueError:  # a pattern exists, "0" is just not a value of the type
        return True


#: Store types by the STIX object type they become.
_ROW_TYPES: Final = {
    "indicator": tuple(t.value for t in IndicatorType if t is not IndicatorType.CVE and _expressible(t.value)),
    "vulnerability": (IndicatorType.CVE.value,),
}


# -- queries, cursors, pages ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cursor:
    """A position in a collection's object order; ``next`` is its text form."""

    phase: Literal["rows", "reports"]
    after: int | str  # the last row key, or the last report id, already served

    def encode(self) -> str:
        return f"{self.phase}:{self.after}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        phase, _, after = text.partition(":")
        if phase == "rows" and after.isdigit() and len(after) <= 18:
            return cls("rows", int(after))
        if phase == "reports" and after.startswith("report--") and _is_uuid(after.removeprefix("report--")):
            return cls("reports", after)
        raise ApiError(400, "invalid_parameter", "next must be the next of a previous response",
                       {"parameter": "next"})


@dataclass(frozen=True, slots=True)
class ObjectQuery:
    """The filters of an objects, manifest, object or versions request (None: not filtered on)."""

    added_after: datetime | None = None
    types: frozenset[str] | None = None
    ids: frozenset[str] | None = None
    versions: tuple[datetime | str, ...] = ("last",)
    spec_versions: frozenset[str] | None = None
    limit: int = DEFAULT_LIMIT
    next: Cursor | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One object of a collection with its TAXII bookkeeping."""

    obj: dict[str, Any]
    date_added: datetime
    cursor: Cursor  # resuming here continues after this object

    @property
    def version(self) -> str:
        return str(self.obj["modified"])


@dataclass(frozen=True, slots=True)
class ObjectPage:
    entries: list[Entry]
    more: bool
    next: str | None

    def headers(self) -> dict[str, str]:
        """``X-TAXII-Date-Added-First``/``-Last``: the earliest and latest ``date_added`` here (see the docstring)."""
        if not self.entries:
            return {}
        added = [e.date_added for e in self.entries]
        return {"X-TAXII-Date-Added-First": timestamp(min(added)), "X-TAXII-Date-Added-Last": timestamp(max(added))}

    def envelope(self, key: str, value: Callable[[Entry], Any]) -> dict[str, Any]:
        body: dict[str, Any] = {"more": self.more}
        if self.next:
            body["next"] = self.next
        if self.entries:  # the spec's resources leave the list out rather than send it empty
            body[key] = [value(e) for e in self.entries]
        return body


def timestamp(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds: ``added_after`` sent back from it then excludes exactly what was seen."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(text: str, parameter: str) -> datetime:
    try:
        return as_utc(datetime.fromisoformat(text.strip()))
    except ValueError:
        raise ApiError(400, "invalid_parameter", f"{parameter} must be an RFC 3339 timestamp, e.g. "
                       "2025-01-31T12:00:00.000Z", {"parameter": parameter, "value": text}) from None


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _split(raw: str | None) -> frozenset[str] | None:
    if raw is None:
        return None
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


# -- the backend: one method per endpoint -----------------------------------------------------


class TaxiiBackend:
    """What the views call: one method per TAXII endpoint, over the store and the STIX exporter."""

    def __init__(self, store: Store, caller: Caller, *, now: datetime) -> None:
        self.store = store
        self.caller = caller
        self.now = now
        #: The tier's lookback: nothing older (by ``last_seen``) is served, whatever ``added_after`` says.
        self.earliest = now - timedelta(days=caller.tier.lookback_days)

    # endpoints

    def discovery(self) -> dict[str, Any]:
        root = f"{PREFIX}/{API_ROOT}/"
        return {"title": "iocflow TAXII 2.1 server",
                "description": "Indicators extracted by iocflow from articles and feeds, as STIX 2.1.",
                "contact": "the operator of this iocflow instance", "default": root, "api_roots": [root]}

    def api_root(self, max_content_length: int) -> dict[str, Any]:
        return {"title": "iocflow", "description": "iocflow's indicators by confidence level (read-only).",
                "versions": [TAXII_MEDIA], "max_content_length": max_content_length}

    def collections(self) -> dict[str, Any]:
        return {"collections": [c.resource() for c in COLLECTIONS]}

    def collection(self, collection_id: str) -> Collection:
        found = _BY_ID.get(collection_id)
        if found is None:
            raise ApiError(404, "not_found", f"no collection {collection_id!r} in this API root",
                           {"collections": [c.id for c in COLLECTIONS]})
        return found

    def get_objects(self, collection: Collection, query: ObjectQuery) -> ObjectPage:
        """A page of the collection's objects matching ``query``, from ``query.next`` on."""
        with self.store.transaction() as session:
            walked = (e for e in self._walk(session, collection, query) if self._matches(e, query))
            entries = list(islice(walked, query.limit + 1))
        more = len(entries) > query.limit
        entries = entries[:query.limit]
        return ObjectPage(entries, more, entries[-1].cursor.encode() if more else None)

    def get_manifest(self, collection: Collection, query: ObjectQuery) -> ObjectPage:
        """The manifest walks the same objects; the view renders entries as manifest records."""
        return self.get_objects(collection, query)

    def get_object(self, collection: Collection, object_id: str, query: ObjectQuery) -> ObjectPage:
        """The object's versions matching ``query``; 404 when the collection does not hold the object."""
        with self.store.transaction() as session:  # unfiltered first: filtered out is not the same as absent
            found = list(islice(self._walk(session, collection, ObjectQuery(ids=frozenset({object_id}))), 1))
        if not found:
            raise ApiError(404, "not_found", f"no object {object_id!r} in this collection", {"id": object_id})
        return ObjectPage([e for e in found if self._matches(e, query)][:query.limit], False, None)

    def get_versions(self, collection: Collection, object_id: str, query: ObjectQuery) -> ObjectPage:
        """Every object has one version, so the versions are those of ``get_object`` with ``match[version]=all``."""
        return self.get_object(collection, object_id, ObjectQuery(
            added_after=query.added_after, versions=("all",), spec_versions=query.spec_versions, limit=query.limit))

    # the walk: Identity, rows in key order, Reports by id

    def _walk(self, session: Session, collection: Collection, query: ObjectQuery) -> Iterator[Entry]:
        start = query.next
        if start is None and self._wants(query, "identity", stix.IDENTITY_ID):
            identity = stix.build([], now=self.now).bundle["objects"][0]
            yield Entry(identity, _parse_time(identity["created"], "created"), Cursor("rows", 0))
        if start is None or start.phase == "rows":
            after = int(start.after) if start is not None else 0
            yield from self._rows(session, collection, query, after)
        if self._wants(query, "report", None):
            after_id = str(start.after) if start is not None and start.phase == "reports" else ""
            for report, added in self._reports(session, collection):
                if report["id"] > after_id and (query.ids is None or report["id"] in query.ids):
                    yield Entry(report, added, Cursor("reports", report["id"]))

    def _wants(self, query: ObjectQuery, stix_type: str, object_id: str | None) -> bool:
        if query.types is not None and stix_type not in query.types:
            return False
        if query.ids is None:
            return True
        return object_id in query.ids if object_id else any(i.startswith(f"{stix_type}--") for i in query.ids)

    def _filter(self, collection: Collection, query: ObjectQuery | None) -> IndicatorFilter:
        """The collection's rows (only those ``query`` can match, when given), within the tier's lookback."""
        since = self.earliest
        types = _ROW_TYPES["indicator"] + _ROW_TYPES["vulnerability"]
        if query is not None:
            if query.added_after is not None:  # added_after is strict; the filter's since is inclusive
                since = max(since, query.added_after + timedelta(microseconds=1))
            if query.types is not None:
                types = tuple(t for stix_type in ("indicator", "vulnerability") if stix_type in query.types
                              for t in _ROW_TYPES[stix_type])
        return IndicatorFilter(types=types, confidence=collection.confidence, since=since, now=self.now)

    def _rows(self, session: Session, collection: Collection, query: ObjectQuery, after: int) -> Iterator[Entry]:
        """Indicators and vulnerabilities after row key ``after``, a chunk of rows at a time."""
        filters = self._filter(collection, query)
        if not filters.types:
            return
        if query.ids is not None:
            yield from self._rows_by_id(session, filters, query.ids, after)
            return
        while True:
            page = list_indicators(session, filters, limit=_CHUNK, after=after, with_total=False)
            yield from self._entries(page)
            if len(page.rows) < _CHUNK:
                return
            after = page.rows[-1].pk

    def _rows_by_id(self, session: Session, filters: IndicatorFilter, ids: frozenset[str],
                    after: int) -> Iterator[Entry]:
        """``match[id]``: each id's row key by the store's id lookup; a one-row keyset page from just before
        that key re-applies the collection's filters to the row."""
        keys: set[int] = set()
        for object_id in ids:
            kind, _, raw = object_id.partition("--")
            if kind in _ROW_TYPES and _is_uuid(raw):
                row = indicator_by_id(session, str(uuid.UUID(raw)))
                if row is not None:
                    keys.add(row.pk)
        for key in sorted(k for k in keys if k > after):
            page = list_indicators(session, filters, limit=1, after=key - 1, with_total=False)
            page.rows = [r for r in page.rows if r.pk == key]
            for entry in self._entries(page):
                if entry.obj["id"] in ids:
                    yield entry

    def _entries(self, page: Page) -> Iterator[Entry]:
        converted = self._objects(page)
        for row in page.rows:
            obj = converted.get(row.id)
            if obj is not None:  # types STIX has no observable for are not in the collection
                yield Entry(obj, row.last_seen, Cursor("rows", row.pk))

    def _objects(self, page: Page) -> dict[str, dict[str, Any]]:
        """The exporter's object for each row of ``page``, by the row's id."""
        objects = stix.build(items([page]), now=self.now).bundle["objects"]
        return {obj["id"].partition("--")[2]: obj for obj in objects if obj["type"] in _ROW_TYPES}

    def _reports(self, session: Session, collection: Collection) -> list[tuple[dict[str, Any], datetime]]:
        """Every Report of the collection by id, with its ``date_added``. A Report lists all the
        collection's indicators from its article, so it is built from the whole collection (one pass,
        keeping only rows with an article), whatever this request's ``added_after`` or ``match`` filters.
        ``date_added`` is its latest indicator's ``last_seen`` (its ``modified``, at the microsecond
        precision of the indicators' own ``date_added``)."""
        filters = self._filter(collection, None)
        with_article: list[ExportItem] = []
        after = 0
        while True:
            page = list_indicators(session, filters, limit=_CHUNK, after=after, with_total=False)
            with_article.extend(i for i in items([page]) if i.source is not None and i.source.article_id)
            if len(page.rows) < _CHUNK:
                break
            after = page.rows[-1].pk
        objects = stix.build(with_article, now=self.now).bundle["objects"]
        last_seen = {item.id: as_utc(item.last_seen) for item in with_article}
        reports = sorted((obj for obj in objects if obj["type"] == "report"), key=lambda obj: str(obj["id"]))
        return [(r, max(last_seen[ref.partition("--")[2]] for ref in r["object_refs"])) for r in reports]

    @staticmethod
    def _matches(entry: Entry, query: ObjectQuery) -> bool:
        """The filters the walk does not apply itself: ``added_after`` (the Identity and Reports),
        ``match[version]`` and ``match[spec_version]``."""
        if query.added_after is not None and entry.date_added <= query.added_after:
            return False
        if query.spec_versions is not None and entry.obj.get("spec_version", "2.1") not in query.spec_versions:
            return False
        if any(v in ("last", "first", "all") for v in query.versions):
            return True  # one version per object: it is the first, the last and all of them
        modified = _parse_time(entry.version, "modified")
        return any(v == modified for v in query.versions)


# -- HTTP: media types, errors, authentication ------------------------------------------------


class TaxiiResponse(Response):
    media_type = TAXII_MEDIA

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _taxii_error(status: int, error: dict[str, Any], headers: dict[str, str]) -> TaxiiResponse:
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body = {"title": title,
            "description": error.get("message", ""), "error_id": error.get("request_id", ""),
            "error_code": error.get("code", ""), "http_status": str(status), "details": error.get("details", {})}
    if status == 401:
        headers = headers | {"WWW-Authenticate": 'Basic realm="iocflow TAXII", Bearer'}
    return TaxiiResponse(body, status_code=status, headers=headers)


async def _as_taxii(request: Request, exc: Exception) -> Response | None:
    """The app's own answer to ``exc`` (its envelope), re-rendered as a TAXII error; None if it has none."""
    handlers = request.app.exception_handlers
    handler = next((handlers[cls] for cls in type(exc).__mro__ if cls in handlers), None)
    if handler is None:
        return None
    rendered = await handler(request, exc)
    try:
        error = orjson.loads(rendered.body)["error"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return rendered
    kept = {k: v for k, v in rendered.headers.items() if k.lower() not in ("content-type", "content-length")}
    return _taxii_error(rendered.status_code, error, kept)


class TaxiiRoute(APIRoute):
    """Routes whose failures (dependencies included) answer in the TAXII error shape, not the envelope."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def taxii_handler(request: Request) -> Response:
            try:
                return await handle(request)
            except Exception as exc:  # noqa: BLE001 - re-raised unless the app has an answer for it
                answer = await _as_taxii(request, exc)
                if answer is None:
                    raise
                return answer

        return taxii_handler


def _accepts_taxii(accept: str) -> bool:
    """Whether an ``Accept`` header admits TAXII 2.1 JSON (no header admits anything)."""
    if not accept.strip():
        return True
    for media_range in accept.split(","):
        kind, *params = (part.strip() for part in media_range.split(";"))
        values = {k.strip().lower(): v.strip().strip('"') for k, _, v in (p.partition("=") for p in params)}
        try:
            if float(values.get("q", "1")) <= 0:
                continue
        except ValueError:
            continue
        kind = kind.lower()
        if kind in ("*/*", "application/*"):
            return True
        if kind == "application/taxii+json" and values.get("version", "2.1") == "2.1":
            return True
    return False


def negotiate(request: Request) -> None:
    """406 before anything else: a client that cannot read TAXII 2.1 JSON cannot read any answer here."""
    accept = request.headers.get("accept", "")
    if not _accepts_taxii(accept):
        raise ApiError(406, "not_acceptable", f"this server answers {TAXII_MEDIA} only",
                       {"accept": accept, "available": [TAXII_MEDIA]})


def _presented_secret(authorization: str) -> str | None:
    """The key from ``Basic`` (the password, else the user name) or ``Token``; None for any other scheme."""
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme.lower() == "token" and rest.strip():
        return rest.strip()
    if scheme.lower() != "basic" or not rest.strip():
        return None
    try:
        decoded = base64.b64decode(rest.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, _, password = decoded.partition(":")
    return password or user or None


def taxii_caller(request: Request, svc: ServicesDep) -> Caller:
    """``deps.caller`` (the one place keys are checked and counted), also reading Basic and Token auth:
    the key is handed to it as a Bearer token on a copy of the request."""
    secret = _presented_secret(request.headers.get("authorization", ""))
    if secret is not None:
        headers = [(k, v) for k, v in request.scope["headers"] if k.lower() != b"authorization"]
        headers.append((b"authorization", f"Bearer {secret}".encode("latin-1", "replace")))
        request = Request({**request.scope, "headers": headers}, request.receive)  # "state" stays shared
    who = caller(request, svc)
    who.need(Scope.READ_STIX, "TAXII")
    who.need_format("stix", "STIX (TAXII)")
    return who


StixReader = Annotated[Caller, Depends(taxii_caller)]


def backend(store: StoreDep, who: StixReader) -> TaxiiBackend:
    return TaxiiBackend(store, who, now=datetime.now(UTC))


BackendDep = Annotated[TaxiiBackend, Depends(backend)]


def object_query(
    added_after: Annotated[str | None, Query(description="Only objects added (last seen) after this time.")] = None,
    match_type: Annotated[str | None, Query(alias="match[type]", description="STIX types, comma-separated.")] = None,
    match_id: Annotated[str | None, Query(alias="match[id]", description="STIX ids, comma-separated.")] = None,
    match_version: Annotated[str | None, Query(alias="match[version]",
                                               description="last (default), first, all, or timestamps.")] = None,
    match_spec_version: Annotated[str | None, Query(alias="match[spec_version]")] = None,
    limit: Annotated[int | None, Query(ge=1, description="Objects per page (capped by the tier).")] = None,
    next: Annotated[str | None, Query(description="The next of the previous page.")] = None,  # noqa: A002
) -> ObjectQuery:
    """The TAXII filter parameters, checked; ``limit`` is capped by the tier in the view."""
    versions = _split(match_version) or frozenset({"last"})
    return ObjectQuery(
        added_after=_parse_time(added_after, "added_after") if added_after is not None else None,
        types=_split(match_type),
        ids=_split(match_id),
        versions=tuple(v if v in ("last", "first", "all") else _parse_time(v, "match[version]")
                       for v in sorted(versions)),
        spec_versions=_split(match_spec_version),
        limit=limit or DEFAULT_LIMIT,
        next=Cursor.decode(next) if next is not None else None,
    )


QueryDep = Annotated[ObjectQuery, Depends(object_query)]


# -- the views --------------------------------------------------------------------------------

router = APIRouter(prefix=PREFIX, tags=["taxii"], route_class=TaxiiRoute, dependencies=[Depends(negotiate)],
                   responses={406: {"description": "Accept admits no TAXII 2.1 JSON"}})
ROOT = f"/{API_ROOT}"
COLLECTION = ROOT + "/collections/{collection_id}"


def _capped(api: TaxiiBackend, query: ObjectQuery) -> ObjectQuery:
    return replace(query, limit=min(query.limit, api.caller.tier.max_results))


def _manifest_record(entry: Entry) -> dict[str, Any]:
    return {"id": entry.obj["id"], "date_added": timestamp(entry.date_added), "version": entry.version,
            "media_type": STIX_MEDIA}


@router.get("/", summary="TAXII discovery", response_class=TaxiiResponse)
def discovery(api: BackendDep) -> TaxiiResponse:
    return TaxiiResponse(api.discovery())


@router.get(ROOT + "/", summary="TAXII API root", response_class=TaxiiResponse)
def api_root(api: BackendDep, svc: ServicesDep) -> TaxiiResponse:
    return TaxiiResponse(api.api_root(svc.settings.max_body_bytes))


@router.get(ROOT + "/collections/", summary="TAXII collections", response_class=TaxiiResponse)
def collections(api: BackendDep) -> TaxiiResponse:
    return TaxiiResponse(api.collections())


@router.get(COLLECTION + "/", summary="A TAXII collection", response_class=TaxiiResponse)
def collection(collection_id: str, api: BackendDep) -> TaxiiResponse:
    return TaxiiResponse(api.collection(collection_id).resource())


@router.get(COLLECTION + "/objects/", summary="A collection's STIX objects, filtered and paged",
            response_class=TaxiiResponse)
def get_objects(collection_id: str, api: BackendDep, query: QueryDep) -> TaxiiResponse:
    page = api.get_objects(api.collection(collection_id), _capped(api, query))
    return TaxiiResponse(page.envelope("objects", lambda e: e.obj), headers=page.headers())


@router.post(COLLECTION + "/objects/", summary="Adding objects: refused, every collection is read-only",
             response_class=TaxiiResponse, status_code=403)
def add_objects(collection_id: str, api: BackendDep) -> TaxiiResponse:
    found = api.collection(collection_id)
    raise ApiError(403, "insufficient_scope", f"collection {found.key!r} is read-only (can_write is false)",
                   {"collection": found.id, "can_write": False})


@router.get(COLLECTION + "/objects/{object_id}/", summary="One STIX object", response_class=TaxiiResponse)
def get_object(collection_id: str, object_id: str, api: BackendDep, query: QueryDep) -> TaxiiResponse:
    page = api.get_object(api.collection(collection_id), object_id, _capped(api, query))
    return TaxiiResponse(page.envelope("objects", lambda e: e.obj), headers=page.headers())


@router.get(COLLECTION + "/objects/{object_id}/versions/", summary="An object's versions",
            response_class=TaxiiResponse)
def get_versions(collection_id: str, object_id: str, api: BackendDep, query: QueryDep) -> TaxiiResponse:
    page = api.get_versions(api.collection(collection_id), object_id, _capped(api, query))
    return TaxiiResponse(page.envelope("versions", lambda e: e.version), headers=page.headers())


@router.get(COLLECTION + "/manifest/", summary="A collection's manifest", response_class=TaxiiResponse)
def get_manifest(collection_id: str, api: BackendDep, query: QueryDep) -> TaxiiResponse:
    page = api.get_manifest(api.collection(collection_id), _capped(api, query))
    return TaxiiResponse(page.envelope("objects", _manifest_record), headers=page.headers())


@router.api_route("/{path:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
def elsewhere(path: str, request: Request) -> TaxiiResponse:
    """Every other request under ``/taxii2/``: 405 on a TAXII path (with ``Allow``), else 404, both as TAXII
    errors (this route matches fully, so it also stands in for Starlette's own 405)."""
    full = request.url.path
    for route in router.routes:
        if isinstance(route, APIRoute) and route.endpoint is not elsewhere and route.path_regex.match(full):
            allowed = sorted(m for r in router.routes if isinstance(r, APIRoute) and r.endpoint is not elsewhere
                             and r.path_regex.match(full) for m in r.methods)
            raise ApiError(405, "method_not_allowed", f"{request.method} is not supported here",
                           {"allowed_methods": allowed}, headers={"Allow": ", ".join(allowed)})
    raise ApiError(404, "not_found", f"no TAXII resource at {full}" + ("" if full.endswith("/") else
                                                                       " (TAXII URLs end with /)"), {"path": full})
