"""What a source yielded and what storing it did: the counts every ingest run reports."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field

from iocflow.store.nul import NUL, nul_at
from iocflow.store.records import Observation, RowError


#: How much of a rejected value a report repeats (a malformed row may be a whole line of junk).
MAX_SHOWN = 300
_TEXT_FIELDS = ("value", "indicator_class", "comment", "malware", "threat_type", "reporter", "context", "ref")
_texts = operator.attrgetter(*_TEXT_FIELDS)
_LIST_FIELDS = ("tags", "techniques", "industries")


def nul_field(observation: Observation) -> str | None:
    """The name of the first field of ``observation`` holding a NUL character, else None.

    PostgreSQL stores no NUL in text (nor ``\\u0000`` in JSONB) and SQLite does, so such a row is
    refused before either sees it: the same rows are stored on both.
    """
    for index, text in enumerate(_texts(observation)):
        if text and NUL in text:
            return _TEXT_FIELDS[index]
    for name in _LIST_FIELDS:
        items = getattr(observation, name)
        if items and any(NUL in item for item in items):
            return name
    if observation.extra and nul_at(observation.extra) is not None:
        return "extra"
    article = observation.article
    if article is not None:
        for name in ("title", "url"):
            text = getattr(article, name)
            if text and NUL in text:
                return f"article {name}"
    return None


@dataclass
class Parsed:
    """A source's rows read into observations, collect-errors style: a bad row is recorded, not raised."""

    observations: list[Observation] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows_read: int = 0
    #: What the report should say about the source as a whole (lines read as Windows-1252).
    warnings: list[str] = field(default_factory=list)

    def add(self, *observations: Observation, line: int | None = None, where: str = "") -> bool:
        """Keep one row's observations, or reject the row whole when one of them holds a NUL character
        (``where`` prefixes the message, as a rejection's own would be). Every parser adds rows here."""
        for observation in observations:
            name = nul_field(observation)
            if name is not None:
                self.reject(f"{where}{name} holds a NUL character", line=line, value=observation.value)
                return False
        self.observations.extend(observations)
        return True

    def reject(self, message: str, *, line: int | None = None, value: object = None) -> None:
        """Record a bad row; the offending value is kept for the report, cut to ``MAX_SHOWN`` characters."""
        shown = str(value)[:MAX_SHOWN] if value is not None and value != "" else None
        self.errors.append(RowError(message, line=line, value=shown))


@dataclass
class IngestReport:
    """One source's run: rows read and what became of them."""

    source: str
    rows_read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)
    #: Set when the whole source failed (unreachable, not the format it claims): nothing was stored.
    failed: str | None = None
    not_modified: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed is None

    @property
    def all_rejected(self) -> bool:
        """Rows were read and every one was rejected: nothing was stored (a wrong format or encoding?)."""
        return self.rejected > 0 and self.new + self.updated + self.unchanged == 0

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source, "rows_read": self.rows_read, "new": self.new, "updated": self.updated,
            "unchanged": self.unchanged, "rejected": self.rejected, "errors": self.errors[:100],
            "failed": self.failed, "not_modified": self.not_modified, "all_rejected": self.all_rejected,
            "warnings": self.warnings,
        }
