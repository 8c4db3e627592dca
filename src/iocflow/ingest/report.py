"""What a source yielded and what storing it did: the counts every ingest run reports."""

from __future__ import annotations

from dataclasses import dataclass, field

from iocflow.store.records import Observation, RowError


#: How much of a rejected value a report repeats (a malformed row may be a whole line of junk).
MAX_SHOWN = 300


@dataclass
class Parsed:
    """A source's rows read into observations, collect-errors style: a bad row is recorded, not raised."""

    observations: list[Observation] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows_read: int = 0

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

    @property
    def ok(self) -> bool:
        return self.failed is None

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source, "rows_read": self.rows_read, "new": self.new, "updated": self.updated,
            "unchanged": self.unchanged, "rejected": self.rejected, "errors": self.errors[:100],
            "failed": self.failed, "not_modified": self.not_modified,
        }
