"""The export formats by name: how to render records, and what media type and file suffix they have.

The one table the API's ``/api/v1/export/{format}`` and ``iocflow export`` share.
MISP renders one event per source article or feed, wrapped as
``{"response": [events]}`` (the shape MISP's own ``/events/restSearch`` answers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import orjson

from iocflow.export import cef, misp, openioc, sigma, stix, xdr
from iocflow.store.views import IndicatorRecord
from iocflow.store.vocabulary import Scope

Render = Callable[[Iterable[IndicatorRecord], datetime], Iterator[bytes]]


@dataclass(frozen=True, slots=True)
class ExportFormat:
    name: str
    media_type: str
    suffix: str
    render: Render
    #: The API scope it needs beyond read:iocs (STIX is the TAXII/STIX scope).
    scope: Scope = Scope.READ_IOCS


def _once(data: bytes | str) -> Iterator[bytes]:
    yield data.encode("utf-8") if isinstance(data, str) else data


def _cef(items: Iterable[IndicatorRecord], now: datetime) -> Iterator[bytes]:
    for line in cef.lines(items, now=now):  # one line at a time: the format that streams naturally
        yield (line + "\n").encode("utf-8")


FORMATS: dict[str, ExportFormat] = {f.name: f for f in (
    ExportFormat("stix", "application/stix+json;version=2.1", ".json",
                 lambda items, now: _once(stix.dumps(items, now=now)), scope=Scope.READ_STIX),
    ExportFormat("misp", "application/json", ".json",
                 lambda items, now: _once(orjson.dumps({"response": misp.events_by_source(items, now)}))),
    ExportFormat("cef", "text/plain; charset=utf-8", ".cef", _cef),
    ExportFormat("openioc", "application/xml", ".ioc", lambda items, now: _once(openioc.document(items, now=now))),
    ExportFormat("sigma", "application/yaml", ".yml", lambda items, now: _once(sigma.rules(items, now=now))),
    ExportFormat("xdr", "application/json", ".json", lambda items, now: _once(orjson.dumps(xdr.request(items, now=now)))),
)}
