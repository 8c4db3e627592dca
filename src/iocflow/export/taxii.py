"""TAXII 2.1 collections over the store: what the ``/taxii2/`` views call, one method per endpoint.

``TaxiiBackend`` has the shape of medallion's ``Backend``: discovery, the API
root, the collections, and objects, manifest, object and versions, each
returning TAXII resources (dicts) or an ``ObjectPage`` the view renders. It
knows nothing of HTTP: failures are domain errors (``NotFound`` for an unknown
collection or object, ``InvalidParameter`` for a filter or ``next`` it cannot
read) that the API maps to statuses in one place. The served contract (the
collections, ``date_added``, order and paging, access) is documented with the
views, in ``iocflow.api.routes.taxii``.

A collection is a fixed ``IndicatorQuery`` (one confidence level, or all)
within the tier's lookback, and its objects are what ``iocflow.export.stix``
makes of those indicators: the Identity, then the Indicators and
Vulnerabilities in the store's row-key order, then the Reports by id. The
rows come from ``Store.walk_indicators`` a chunk at a time (each chunk its own
short transaction, so a page holds one chunk in memory and no transaction
while it is built), and a ``next`` in the rows is the store's own cursor
(``iocflow.store.cursor``, listing ``INDICATORS``); once the rows are served,
``next`` is a ``REPORTS`` cursor holding the last Report id served. The
Reports are built, when a page reaches them, from one more walk over the
collection's indicators that came from an article (the exporter holds those
while it gathers each article's Report).

The filters are pushed into the store's query, so what a request reads
follows what it selects, not the size of the store: ``match[type]`` and
``match[id]`` pick the phases and the rows' types and ids; ``added_after``
and a ``match[version]`` timestamp select rows by ``last_seen`` (an
indicator's ``date_added`` and, to the millisecond, its ``modified``), and
the Reports pass reads first the article indicators those times select
(a Report is dated by its latest indicator), then only those articles'
indicators; a ``match[spec_version]`` without 2.1 reads nothing, since every
object is STIX 2.1. ``ObjectQuery.matches`` still judges every object served.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import islice
from typing import Any, Final

from iocflow.exceptions import InvalidCursor, InvalidParameter, NotFound
from iocflow.export import stix
from iocflow.store.cursor import Cursor, Listing
from iocflow.store.filters import IndicatorQuery, split
from iocflow.store.records import NAMESPACE
from iocflow.store.store import Store
from iocflow.store.views import IndicatorRecord
from iocflow.store.vocabulary import Confidence, IndicatorType
from iocflow.times import as_utc

__all__ = [
    "COLLECTIONS", "DEFAULT_LIMIT", "STIX_MEDIA", "TAXII_MEDIA", "Collection", "Entry", "ObjectPage", "ObjectQuery",
    "TaxiiBackend", "manifest_record", "timestamp",
]

TAXII_MEDIA: Final = "application/taxii+json;version=2.1"
STIX_MEDIA: Final = "application/stix+json;version=2.1"
#: Objects per page when the client names no ``limit`` (then capped by the tier's ``max_results``).
DEFAULT_LIMIT: Final = 1000
#: Records read per store transaction, and converted to STIX per ``stix.build``, while a page is filled.
_CHUNK: Final = 1000
#: The versions ``match[version]`` names by word; every object has one version, which is all three.
_VERSION_WORDS: Final = frozenset({"last", "first", "all"})
#: The STIX version of every object ``iocflow.export.stix`` builds.
_SPEC_VERSION: Final = "2.1"
#: The precision of a STIX timestamp as the exporter writes it: ``modified`` is ``last_seen`` (the store
#: keeps it at or after ``first_seen``) cut to the millisecond, so ``match[version]=T`` selects what was
#: last seen in ``[T, T + _TICK)``.
_TICK: Final = timedelta(milliseconds=1)
#: The most articles the Reports pass names in one query; past it, it reads every article's indicators.
_ARTICLES_AT_ONCE: Final = 500


# -- collections ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Collection:
    """One TAXII collection: a fixed selection of the store (``confidence`` None: every level)."""

    key: str
    title: str
    description: str
    confidence: Confidence | None

    @property
    def id(self) -> str:
        """A UUIDv5 of the key: the same id on every deployment, so clients can be configured once."""
        return str(uuid.uuid5(NAMESPACE, f"taxii-collection:{self.key}"))

    def resource(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "description": self.description, "alias": self.key,
                "can_read": True, "can_write": False, "media_types": [STIX_MEDIA]}


COLLECTIONS: Final = (
    Collection("high", "iocflow: high confidence",
               "Indicators iocflow rates high confidence (STIX confidence 85), with their source reports.",
               Confidence.HIGH),
    Collection("medium", "iocflow: medium confidence",
               "Indicators iocflow rates medium confidence (STIX confidence 50), with their source reports.",
               Confidence.MEDIUM),
    Collection("low", "iocflow: low confidence",
               "Indicators iocflow rates low confidence (STIX confidence 15), with their source reports.",
               Confidence.LOW),
    Collection("all", "iocflow: all indicators",
               "Every indicator iocflow serves, whatever its confidence, with their source reports.", None),
)
_BY_ID: Final = {c.id: c for c in COLLECTIONS}


#: Store types by the STIX object type they become (the exporter skips types with no pattern but the CVE).
_ROW_TYPES: Final[dict[str, tuple[IndicatorType, ...]]] = {
    "indicator": tuple(t for t in IndicatorType if t not in stix.NO_PATTERN),
    "vulnerability": (IndicatorType.CVE,),
}


# -- queries and pages ------------------------------------------------------------------------


def _parse_time(text: str) -> datetime:
    """An RFC 3339 time (``Z`` or an offset) as aware UTC; ``ValueError`` if it is none."""
    return as_utc(datetime.fromisoformat(text.strip()))


def _time_parameter(text: str, parameter: str) -> datetime:
    try:
        return _parse_time(text)
    except ValueError:
        raise InvalidParameter(parameter, f"{parameter} must be an RFC 3339 timestamp, e.g. 2025-01-31T12:00:00.000Z",
                               {"value": text}) from None


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _position(text: str) -> Cursor:
    """A ``next`` this server handed out: a position in the rows, or after a Report."""
    problem = InvalidParameter("next", "next must be the next of a previous response")
    try:
        cursor = Cursor.decode(text, Listing.INDICATORS, Listing.REPORTS)
    except InvalidCursor:
        raise problem from None
    if cursor.listing is Listing.REPORTS:
        report_id = str(cursor.position[0])
        if not (report_id.startswith("report--") and _is_uuid(report_id.removeprefix("report--"))):
            raise problem
    return cursor


def _set(raw: str | None) -> frozenset[str] | None:
    """A comma-separated filter's values; None when the parameter is absent (not filtered on)."""
    return frozenset(split(raw)) if raw is not None else None


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

    @classmethod
    def parse(cls, *, added_after: str | None = None, types: str | None = None, ids: str | None = None,
              versions: str | None = None, spec_versions: str | None = None, limit: int | None = None,
              next: str | None = None) -> ObjectQuery:  # noqa: A002 - TAXII's name for it
        """The query a request's TAXII parameters describe (``match[type]`` is ``types`` ...): lists are
        comma-separated; ``InvalidParameter`` names the first parameter that cannot be read."""
        words = split(versions) or ("last",)
        return cls(
            added_after=_time_parameter(added_after, "added_after") if added_after is not None else None,
            types=_set(types),
            ids=_set(ids),
            versions=tuple(v if v in _VERSION_WORDS else _time_parameter(v, "match[version]") for v in sorted(words)),
            spec_versions=_set(spec_versions),
            limit=limit or DEFAULT_LIMIT,
            next=_position(next) if next is not None else None,
        )

    def wants(self, stix_type: str, object_id: str | None) -> bool:
        """Whether objects of ``stix_type`` (this one, when ``object_id`` is given) can match ``types`` and ``ids``."""
        if self.types is not None and stix_type not in self.types:
            return False
        if self.ids is None:
            return True
        return object_id in self.ids if object_id else any(i.startswith(f"{stix_type}--") for i in self.ids)

    def can_match(self) -> bool:
        """False when ``match[spec_version]`` leaves out 2.1, the version of every object: nothing matches."""
        return self.spec_versions is None or _SPEC_VERSION in self.spec_versions

    def modified_spans(self) -> tuple[tuple[datetime, datetime], ...] | None:
        """The ``last_seen`` spans the ``match[version]`` timestamps select (None: any version, a word was
        given); empty when none can equal a ``modified``, which is written to the millisecond."""
        if any(v in _VERSION_WORDS for v in self.versions):
            return None
        return tuple((v, v + _TICK) for v in self.versions if isinstance(v, datetime) and not v.microsecond % 1000)

    def matches(self, entry: Entry) -> bool:
        """Whether an object passes ``added_after``, ``match[version]`` and ``match[spec_version]``: the walk
        reads only what can pass them (see the module docstring), and this judges each object it yields."""
        if self.added_after is not None and entry.date_added <= self.added_after:
            return False
        if self.spec_versions is not None and entry.obj.get("spec_version", _SPEC_VERSION) not in self.spec_versions:
            return False
        if any(v in _VERSION_WORDS for v in self.versions):
            return True  # one version per object: it is the first, the last and all of them
        modified = _parse_time(entry.version)
        return any(v == modified for v in self.versions)


@dataclass(frozen=True, slots=True)
class Entry:
    """One object of a collection with its TAXII bookkeeping."""

    obj: dict[str, Any]
    date_added: datetime
    cursor: str  # the ``next`` that continues after this object

    @property
    def version(self) -> str:
        return str(self.obj["modified"])


@dataclass(frozen=True, slots=True)
class ObjectPage:
    entries: list[Entry]
    more: bool
    next: str | None

    def date_added_range(self) -> tuple[datetime, datetime] | None:
        """The earliest and the latest ``date_added`` here (not the first and last object's: rows come in
        row-key order), for ``X-TAXII-Date-Added-First``/``-Last``; None for an empty page."""
        if not self.entries:
            return None
        added = [e.date_added for e in self.entries]
        return min(added), max(added)

    def envelope(self, key: str, value: Callable[[Entry], Any]) -> dict[str, Any]:
        """The TAXII envelope (``objects``, ``versions`` ...: ``key``) of the entries rendered by ``value``."""
        body: dict[str, Any] = {"more": self.more}
        if self.next:
            body["next"] = self.next
        if self.entries:  # the spec's resources leave the list out rather than send it empty
            body[key] = [value(e) for e in self.entries]
        return body


def timestamp(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds: ``added_after`` sent back from it then excludes exactly what was seen."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def manifest_record(entry: Entry) -> dict[str, Any]:
    """An entry as a manifest record."""
    return {"id": entry.obj["id"], "date_added": timestamp(entry.date_added), "version": entry.version,
            "media_type": STIX_MEDIA}


#: The ``next`` after the Identity: every row (row keys start at 1).
_AFTER_IDENTITY: Final = Cursor(Listing.INDICATORS, (0,)).encode()


# -- the backend: one method per endpoint -----------------------------------------------------


class TaxiiBackend:
    """What the views call: one method per TAXII endpoint, over the store and the STIX exporter.

    ``lookback_days`` and ``max_results`` are the caller's tier's: nothing last seen before the lookback
    is served, whatever ``added_after`` says, and no page is longer than ``max_results``.
    """

    def __init__(self, store: Store, *, now: datetime, lookback_days: int, max_results: int) -> None:
        self.store = store
        self.now = now
        self.earliest = now - timedelta(days=lookback_days)
        self.max_results = max_results

    # endpoints

    def discovery(self, api_root: str) -> dict[str, Any]:
        """The discovery resource; ``api_root`` is the one API root's URL."""
        return {"title": "iocflow TAXII 2.1 server",
                "description": "Indicators extracted by iocflow from articles and feeds, as STIX 2.1.",
                "contact": "the operator of this iocflow instance", "default": api_root, "api_roots": [api_root]}

    def api_root(self, max_content_length: int) -> dict[str, Any]:
        return {"title": "iocflow", "description": "iocflow's indicators by confidence level (read-only).",
                "versions": [TAXII_MEDIA], "max_content_length": max_content_length}

    def collections(self) -> dict[str, Any]:
        return {"collections": [c.resource() for c in COLLECTIONS]}

    def collection(self, collection_id: str) -> Collection:
        found = _BY_ID.get(collection_id)
        if found is None:
            raise NotFound(f"no collection {collection_id!r} in this API root",
                           {"collections": [c.id for c in COLLECTIONS]})
        return found

    def get_objects(self, collection: Collection, query: ObjectQuery) -> ObjectPage:
        """A page of the collection's objects matching ``query``, from ``query.next`` on."""
        limit = self._limit(query)
        entries = list(islice((e for e in self._walk(collection, query) if query.matches(e)), limit + 1))
        more = len(entries) > limit
        entries = entries[:limit]
        return ObjectPage(entries, more, entries[-1].cursor if more else None)

    def get_manifest(self, collection: Collection, query: ObjectQuery) -> ObjectPage:
        """The manifest walks the same objects; the view renders entries as manifest records."""
        return self.get_objects(collection, query)

    def get_object(self, collection: Collection, object_id: str, query: ObjectQuery) -> ObjectPage:
        """The object's versions matching ``query``; ``NotFound`` when the collection does not hold the object."""
        # unfiltered first: filtered out is not the same as absent
        found = list(islice(self._walk(collection, ObjectQuery(ids=frozenset({object_id}))), 1))
        if not found:
            raise NotFound(f"no object {object_id!r} in this collection", {"id": object_id})
        return ObjectPage([e for e in found if query.matches(e)][:self._limit(query)], False, None)

    def get_versions(self, collection: Collection, object_id: str, query: ObjectQuery) -> ObjectPage:
        """Every object has one version, so the versions are those of ``get_object`` with ``match[version]=all``."""
        return self.get_object(collection, object_id, ObjectQuery(
            added_after=query.added_after, versions=("all",), spec_versions=query.spec_versions, limit=query.limit))

    def _limit(self, query: ObjectQuery) -> int:
        return min(query.limit, self.max_results)

    # the walk: Identity, rows in key order, Reports by id

    def _walk(self, collection: Collection, query: ObjectQuery) -> Iterator[Entry]:
        if not query.can_match():
            return
        start = query.next
        if start is None and query.wants("identity", stix.IDENTITY_ID):
            identity = stix.build([], now=self.now).bundle["objects"][0]
            yield Entry(identity, _parse_time(identity["created"]), _AFTER_IDENTITY)
        if start is None or start.listing is Listing.INDICATORS:
            yield from self._rows(collection, query, start.encode() if start is not None else None)
        if query.wants("report", None):
            after = str(start.position[0]) if start is not None and start.listing is Listing.REPORTS else ""
            for report, added in self._reports(collection, query):
                if report["id"] > after and (query.ids is None or report["id"] in query.ids):
                    yield Entry(report, added, Cursor(Listing.REPORTS, (report["id"],)).encode())

    def _collection(self, collection: Collection) -> IndicatorQuery:
        """The collection's indicators of a type STIX has an object for, within the tier's lookback."""
        return IndicatorQuery(types=_ROW_TYPES["indicator"] + _ROW_TYPES["vulnerability"],
                              confidence=collection.confidence, since=self.earliest, now=self.now)

    def _dated(self, selection: IndicatorQuery, query: ObjectQuery) -> IndicatorQuery | None:
        """``selection`` narrowed by ``last_seen`` to what ``query``'s ``added_after`` and ``match[version]``
        timestamps can select; None when they can select nothing."""
        if query.added_after is not None:  # added_after is strict; the query's since is inclusive
            selection = replace(selection, since=max(self.earliest, query.added_after + timedelta(microseconds=1)))
        spans = query.modified_spans()
        if spans is not None:
            if not spans:
                return None
            selection = replace(selection, seen_within=spans)
        return selection

    def _selection(self, collection: Collection, query: ObjectQuery) -> IndicatorQuery | None:
        """The rows ``query`` can match; None when it can match none."""
        selection = self._dated(self._collection(collection), query)
        if selection is None:
            return None
        if query.types is not None:
            selection = replace(selection, types=tuple(t for stix_type in ("indicator", "vulnerability")
                                                       if stix_type in query.types for t in _ROW_TYPES[stix_type]))
        if query.ids is not None:  # match[id]: the indicator ids of the row objects' STIX ids
            ids = tuple(sorted({str(uuid.UUID(raw)) for kind, _, raw in (i.partition("--") for i in query.ids)
                                if kind in _ROW_TYPES and _is_uuid(raw)}))
            if not ids:
                return None
            selection = replace(selection, ids=ids)
        return selection if selection.types else None

    def _rows(self, collection: Collection, query: ObjectQuery, cursor: str | None) -> Iterator[Entry]:
        """Indicators and vulnerabilities after ``cursor``, converted a chunk of records at a time."""
        selection = self._selection(collection, query)
        if selection is None:
            return
        walked = self.store.walk_indicators(selection, cursor=cursor, chunk=_CHUNK)
        while chunk := list(islice(walked, _CHUNK)):
            converted = self._objects(found for _, found in chunk)
            for after, found in chunk:
                obj = converted.get(found.id)
                if obj is not None and (query.ids is None or obj["id"] in query.ids):
                    yield Entry(obj, found.last_seen, after)  # types STIX has no object for are not served

    def _objects(self, records: Iterable[IndicatorRecord]) -> dict[str, dict[str, Any]]:
        """The exporter's Indicator or Vulnerability for each of ``records``, by the record's id."""
        objects = stix.build(records, now=self.now).bundle["objects"]
        return {obj["id"].partition("--")[2]: obj for obj in objects if obj["type"] in _ROW_TYPES}

    def _reports(self, collection: Collection, query: ObjectQuery) -> list[tuple[dict[str, Any], datetime]]:
        """The Reports by id that can match ``query``'s times, each with its ``date_added``.

        A Report lists all the collection's indicators from its article (those whose latest sighting is in
        it), whatever this request's ``match`` filters, so it is built from every one of them: the exporter
        is handed only records with an article. Its ``date_added`` is its latest indicator's ``last_seen``
        (its ``modified``, at the microsecond precision of the indicators' own ``date_added``), so when
        ``added_after`` or a ``match[version]`` timestamp narrows the rows, only an article with one of the
        indicators they select can have a Report that matches: those indicators are read first (nothing
        more is read when there are none), then only their articles' indicators."""
        linked = replace(self._collection(collection), with_article=True)
        dated = self._dated(linked, query)
        if dated is None:
            return []
        articles: frozenset[str] | None = None  # None: every article
        if dated != linked:
            articles = frozenset(a for a in map(_article_of, self.store.iter_indicators(dated)) if a)
            if not articles:
                return []
            if len(articles) <= _ARTICLES_AT_ONCE:
                linked = replace(linked, articles=tuple(sorted(articles)))
        last_seen: dict[str, datetime] = {}

        def members() -> Iterator[IndicatorRecord]:
            for found in self.store.iter_indicators(linked):
                article = _article_of(found)
                if article and (articles is None or article in articles):
                    last_seen[found.id] = as_utc(found.last_seen)
                    yield found

        objects = stix.build(members(), now=self.now).bundle["objects"]
        reports = sorted((obj for obj in objects if obj["type"] == "report"), key=lambda obj: str(obj["id"]))
        return [(r, max(last_seen[ref.partition("--")[2]] for ref in r["object_refs"])) for r in reports]


def _article_of(found: IndicatorRecord) -> str | None:
    """The article of the indicator's latest sighting, whose Report lists it (None: it is in none)."""
    return found.source.article_id if found.source is not None else None
