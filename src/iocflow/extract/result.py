"""The result of one extraction, and its views for callers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from iocflow.extract.model import Confidence, Indicator, Kind


@dataclass(frozen=True, slots=True)
class Extraction:
    """Indicators in order of their position in the text (derived ones after their parent)."""

    indicators: tuple[Indicator, ...]

    def __iter__(self) -> Iterator[Indicator]:
        return iter(self.indicators)

    def __len__(self) -> int:
        return len(self.indicators)

    def values(self, kind: Kind, *, min_confidence: Confidence = Confidence.MEDIUM) -> list[str]:
        """Distinct values of one kind, in order of first appearance."""
        floor = min_confidence.rank
        return list(
            dict.fromkeys(i.value for i in self.indicators if i.kind is kind and i.confidence.rank >= floor)
        )

    def unique(self, *, min_confidence: Confidence = Confidence.LOW) -> list[Indicator]:
        """First occurrence of each (kind, value), at or above ``min_confidence``."""
        floor = min_confidence.rank
        seen: dict[tuple[Kind, str], Indicator] = {}
        for i in self.indicators:
            if i.confidence.rank >= floor:
                seen.setdefault((i.kind, i.value), i)
        return list(seen.values())

    def to_ioc_finder(self, *, min_confidence: Confidence = Confidence.MEDIUM) -> dict[str, object]:
        """ioc-finder's JSON shape, for SOAR playbooks written against it.

        Low-confidence hits (file names that look like domains, version
        numbers that look like IPs) are left out unless asked for.
        """
        from iocflow.extract.ioc_finder import to_ioc_finder

        return to_ioc_finder(self, min_confidence=min_confidence)

    def to_dicts(self) -> list[dict[str, object]]:
        return [i.as_dict() for i in self.indicators]
