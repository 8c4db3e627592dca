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
``iocflow.store.store``: a row added while a client pages lands after
every page already served), then the Reports by id. ``next`` is that
position as an opaque cursor (the store's one format, ``iocflow.store.cursor``;
anything else, a cursor of another listing included, is a 400), so a walk
with ``next`` returns every object exactly once however the store changes
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

This module holds only HTTP: media types, negotiation, authentication, the
error re-rendering, parameter parsing and the views. Views call only
``iocflow.export.taxii.TaxiiBackend``, one method per endpoint (the shape
medallion's ``Backend`` has), which reads the store through ``Store``'s
methods, builds objects with ``iocflow.export.stix`` and raises domain errors.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any, Final

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from iocflow.api.deps import Caller, ServicesDep, StoreDep, caller
from iocflow.api.errors import ApiError
from iocflow.api.tiers import Scope
from iocflow.export.taxii import (
    TAXII_MEDIA,
    Entry,
    ObjectPage,
    ObjectQuery,
    TaxiiBackend,
    manifest_record,
    timestamp,
)

API_ROOT: Final = "iocflow"
PREFIX: Final = "/taxii2"


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
    return TaxiiBackend(store, now=datetime.now(UTC), lookback_days=who.tier.lookback_days,
                        max_results=who.tier.max_results)


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
    """The TAXII filter parameters, read by ``ObjectQuery.parse``; the backend caps ``limit`` by the tier."""
    return ObjectQuery.parse(added_after=added_after, types=match_type, ids=match_id, versions=match_version,
                             spec_versions=match_spec_version, limit=limit, next=next)


QueryDep = Annotated[ObjectQuery, Depends(object_query)]


# -- the views --------------------------------------------------------------------------------

router = APIRouter(prefix=PREFIX, tags=["taxii"], route_class=TaxiiRoute, dependencies=[Depends(negotiate)],
                   responses={406: {"description": "Accept admits no TAXII 2.1 JSON"}})
ROOT = f"/{API_ROOT}"
COLLECTION = ROOT + "/collections/{collection_id}"


def _page(page: ObjectPage, key: str, value: Callable[[Entry], Any]) -> TaxiiResponse:
    """A page's envelope (its entries rendered by ``value`` under ``key``) with
    ``X-TAXII-Date-Added-First``/``-Last`` (see the module docstring)."""
    added = page.date_added_range()
    headers = {} if added is None else {"X-TAXII-Date-Added-First": timestamp(added[0]),
                                        "X-TAXII-Date-Added-Last": timestamp(added[1])}
    return TaxiiResponse(page.envelope(key, value), headers=headers)


@router.get("/", summary="TAXII discovery", response_class=TaxiiResponse)
def discovery(api: BackendDep) -> TaxiiResponse:
    return TaxiiResponse(api.discovery(f"{PREFIX}/{API_ROOT}/"))


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
    page = api.get_objects(api.collection(collection_id), query)
    return _page(page, "objects", lambda e: e.obj)


@router.post(COLLECTION + "/objects/", summary="Adding objects: refused, every collection is read-only",
             response_class=TaxiiResponse, status_code=403)
def add_objects(collection_id: str, api: BackendDep) -> TaxiiResponse:
    found = api.collection(collection_id)
    raise ApiError(403, "insufficient_scope", f"collection {found.key!r} is read-only (can_write is false)",
                   {"collection": found.id, "can_write": False})


@router.get(COLLECTION + "/objects/{object_id}/", summary="One STIX object", response_class=TaxiiResponse)
def get_object(collection_id: str, object_id: str, api: BackendDep, query: QueryDep) -> TaxiiResponse:
    page = api.get_object(api.collection(collection_id), object_id, query)
    return _page(page, "objects", lambda e: e.obj)


@router.get(COLLECTION + "/objects/{object_id}/versions/", summary="An object's versions",
            response_class=TaxiiResponse)
def get_versions(collection_id: str, object_id: str, api: BackendDep, query: QueryDep) -> TaxiiResponse:
    page = api.get_versions(api.collection(collection_id), object_id, query)
    return _page(page, "versions", lambda e: e.version)


@router.get(COLLECTION + "/manifest/", summary="A collection's manifest", response_class=TaxiiResponse)
def get_manifest(collection_id: str, api: BackendDep, query: QueryDep) -> TaxiiResponse:
    page = api.get_manifest(api.collection(collection_id), query)
    return _page(page, "objects", manifest_record)


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
