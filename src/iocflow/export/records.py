"""What every exporter reads: one flat, immutable record per indicator, built from a feed page.

Exporters never query the store themselves: the API and the CLI select
indicators with the feed's filters (``iocflow.store.queries``) and hand the
records over, so every format serves exactly what ``/api/v1/iocs`` would.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from iocflow.store.models import IndicatorRow
from iocflow.store.queries import IndicatorFilter, Page, SourceRef, list_indicators
from iocflow.store.store import Store


@dataclass(frozen=True, slots=True)
class ExportItem:
    id: str  # UUIDv5 of "type:value": stable across exports, so re-exports update rather than duplicate
    type: str
    value: str
    confidence: str  # high / medium / low
    severity: str  # info / low / medium / high / critical
    reputation: str  # good / bad / suspicious / unknown
    first_seen: datetime
    last_seen: datetime
    expires_at: datetime | None
    tags: tuple[str, ...]
    techniques: tuple[str, ...]  # ATT&CK IDs
    industries: tuple[str, ...]
    indicator_class: str | None
    comment: str | None
    source: SourceRef | None  # the most recent sighting's source and article
    reliability: str = "F"  # Admiralty A-F of the most reliable source; F, "cannot be judged", when unknown


def item(row: IndicatorRow, source: SourceRef | None) -> ExportItem:
    return ExportItem(
        row.id, row.type, row.value, row.confidence, row.severity, row.reputation, row.first_seen, row.last_seen,
        row.expires_at, tuple(row.tags), tuple(row.techniques), tuple(row.industries), row.indicator_class,
        row.comment, source, reliability=row.reliability,
    )


def items(pages: Iterable[Page]) -> Iterator[ExportItem]:
    """Every record of a sequence of pages, in order."""
    for page in pages:
        for row in page.rows:
            yield item(row, page.sources.get(row.pk))


_PAGE = 1000


def pages(store: Store, filters: IndicatorFilter, *, limit: int, after: int | None = None) -> Iterator[Page]:
    """The filtered indicators, ``limit`` in all, a page at a time, each page read in its own short transaction.

    An export streams: rows are read while the response (or file) is being written.
    """
    left = limit
    while left > 0:
        with store.transaction() as session:
            page = list_indicators(session, filters, limit=min(_PAGE, left), after=after, with_total=False)
        if not page.rows:
            return
        yield page
        left -= len(page.rows)
        after = page.last_key
        if len(page.rows) < _PAGE:
            return
