"""The result of one extraction, and its views for callers.

Indicators (with offsets mapped back to the original text) are built on
first use: the ioc-finder view needs only kinds and values, and building
tens of thousands of objects nobody reads is most of the cost on IOC-dense
text.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from iocflow.extract.kinds.base import Candidate
from iocflow.extract.model import Confidence, Indicator, Kind
from iocflow.extract.refang import RefangedText

DEFANGED_REASON = "defanged in the source, so the author marked it as an indicator"


class Extraction:
    """Indicators in order of their position in the text (derived ones after their parent)."""

    __slots__ = ("_view", "_candidates", "_indicators")

    def __init__(self, view: RefangedText, candidates: Sequence[Candidate]) -> None:
        self._view = view
        self._candidates = tuple(candidates)
        self._indicators: tuple[Indicator, ...] | None = None

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        if self._indicators is None:
            self._indicators = tuple(self._indicator(c) for c in self._candidates)
        return self._indicators

    def _indicator(self, c: Candidate) -> Indicator:
        view = self._view
        start, end = view.to_original(c.start, c.end)
        raw = view.original[start:end]
        defanged = view.changed and raw != view.text[c.start : c.end]
        confidence, reason = c.confidence, c.reason
        if defanged and confidence is not Confidence.HIGH:
            confidence, reason = Confidence.HIGH, DEFANGED_REASON
        return Indicator(c.kind, c.value, raw, start, end, defanged, confidence, reason, c.matrices, c.parent)

    def _passing(self, floor: Confidence) -> list[Candidate]:
        """Candidates at or above ``floor``, with the defanged upgrade applied lazily."""
        rank = floor.rank
        enough = frozenset(c for c in Confidence if c.rank >= rank)
        return [c for c in self._candidates if c.confidence in enough or self._indicator(c).confidence in enough]

    def __iter__(self) -> Iterator[Indicator]:
        return iter(self.indicators)

    def __len__(self) -> int:
        return len(self._candidates)

    def __repr__(self) -> str:
        return f"Extraction({len(self)} indicators)"

    def values(self, kind: Kind, *, min_confidence: Confidence = Confidence.MEDIUM) -> list[str]:
        """Distinct values of one kind, in order of first appearance."""
        return list(dict.fromkeys(c.value for c in self._passing(min_confidence) if c.kind is kind))

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

        return to_ioc_finder(self._passing(min_confidence), self._view.text)

    def to_dicts(self) -> list[dict[str, object]]:
        return [i.as_dict() for i in self.indicators]
