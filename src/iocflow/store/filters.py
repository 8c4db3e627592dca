"""Which indicators or articles a reader wants: the one query object every listing is built from.

``/api/v1/iocs``, ``/api/v1/export/*``, ``/api/v1/rules/sigma``, TAXII and
``iocflow export`` all select indicators with an ``IndicatorQuery``, and
``IndicatorQuery.parse`` is the one place request text (comma-separated
lists, level names) becomes one, so every entry point accepts the same
values and refuses the others with the same message.

No text parameter may hold a NUL character: no stored name or text has one,
and PostgreSQL cannot even compare against one, so ``parse`` refuses it
(``InvalidParameter``) the same on every database.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, TypeVar

from iocflow.exceptions import InvalidParameter
from iocflow.store.nul import NUL
from iocflow.store.vocabulary import INDUSTRIES, Confidence, IndicatorType, SourceCategory
from iocflow.times import as_utc

E = TypeVar("E", bound=enum.Enum)

#: How a refusal names the valid values of a list parameter (``valid_types``, ``valid_categories`` ...).
_PLURAL: Final = {"type": "types", "category": "categories", "industry": "industries", "confidence": "confidences"}



def free_text(raw: str | None, name: str) -> str | None:
    """A free-text parameter as given; ``InvalidParameter`` when it holds a NUL character."""
    if raw is not None and NUL in raw:
        raise InvalidParameter(name, f"{name} must not contain a NUL character")
    return raw


def split(raw: str | None, name: str | None = None) -> tuple[str, ...]:
    """The items of a comma-separated parameter, stripped, empty ones dropped, duplicates once.

    Given the parameter's ``name``, a NUL character anywhere in it is refused (``InvalidParameter``).
    """
    if name is not None:
        free_text(raw, name)
    return tuple(dict.fromkeys(part.strip() for part in (raw or "").split(",") if part.strip()))


def _checked(raw: str | None, valid: Iterable[str], name: str) -> tuple[str, ...]:
    """A comma-separated parameter (case-insensitive), each item one of ``valid``."""
    valid = list(valid)
    items = tuple(dict.fromkeys(item.lower() for item in split(raw, name)))
    bad = [item for item in items if item not in valid]
    if bad:
        raise InvalidParameter(name, f"unknown {name} {', '.join(map(repr, bad))}", {f"valid_{_PLURAL[name]}": valid})
    return items


def parse_members(raw: str | None, members: type[E], name: str) -> tuple[E, ...]:
    """A comma-separated list of an enum's values, as members."""
    return tuple(members(item) for item in _checked(raw, (m.value for m in members), name))


def parse_confidence(raw: str | Confidence | None) -> Confidence | None:
    if raw is None or isinstance(raw, Confidence):
        return raw
    levels = _checked(raw, (c.value for c in Confidence), "confidence")
    if len(levels) > 1:
        raise InvalidParameter("confidence", "confidence is one level: low, medium or high",
                               {"valid_confidences": [c.value for c in Confidence]})
    return Confidence(levels[0]) if levels else None


@dataclass(frozen=True, slots=True)
class IndicatorQuery:
    """Which indicators a reader wants; every field is optional (empty: not filtered on)."""

    types: tuple[IndicatorType, ...] = ()
    #: This level or better (the feed's ``confidence``).
    min_confidence: Confidence | None = None
    #: Exactly this level (a TAXII collection per level).
    confidence: Confidence | None = None
    categories: tuple[SourceCategory, ...] = ()
    feeds: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    #: Exactly these indicator ids (TAXII's ``match[id]``).
    ids: tuple[str, ...] = ()
    since: datetime | None = None  # last seen at or after
    until: datetime | None = None  # last seen before
    #: Last seen within one of these ``[start, end)`` spans (TAXII's ``match[version]`` timestamps).
    seen_within: tuple[tuple[datetime, datetime], ...] = ()
    #: Only indicators some article reported (a sighting with an article).
    with_article: bool = False
    #: Only indicators one of these articles reported (a sighting in one of them; ``ArticleRecord.id``).
    articles: tuple[str, ...] = ()
    include_expired: bool = False
    include_allowlisted: bool = False
    #: The moment "expired" is judged at; None: expiry is not judged.
    now: datetime | None = None

    @classmethod
    def parse(cls, *, types: str | None = None, categories: str | None = None,
              min_confidence: str | Confidence | None = None, industries: str | None = None,
              feeds: str | None = None, since: datetime | None = None, until: datetime | None = None,
              include_expired: bool = False, include_allowlisted: bool = False,
              now: datetime | None = None) -> IndicatorQuery:
        """The query a request's text parameters describe; ``InvalidParameter`` names the first bad one."""
        return cls(
            types=parse_members(types, IndicatorType, "type"),
            min_confidence=parse_confidence(min_confidence),
            categories=parse_members(categories, SourceCategory, "category"),
            feeds=split(feeds, "feed"),
            industries=_checked(industries, sorted(INDUSTRIES), "industry"),
            since=as_utc(since) if since is not None else None,
            until=as_utc(until) if until is not None else None,
            include_expired=include_expired,
            include_allowlisted=include_allowlisted,
            now=now,
        )


#: Every stored indicator, expired and allowlisted ones included.
EVERYTHING: Final = IndicatorQuery(include_expired=True, include_allowlisted=True)


@dataclass(frozen=True, slots=True)
class ArticleQuery:
    """Which articles a reader wants (by ingest time, source, and text in the title or URL)."""

    since: datetime | None = None
    until: datetime | None = None
    feeds: tuple[str, ...] = ()
    categories: tuple[SourceCategory, ...] = ()
    text: str | None = None

    @classmethod
    def parse(cls, *, since: datetime | None = None, until: datetime | None = None, feeds: str | None = None,
              categories: str | None = None, text: str | None = None) -> ArticleQuery:
        return cls(since=as_utc(since) if since is not None else None,
                   until=as_utc(until) if until is not None else None,
                   feeds=split(feeds, "feed"), categories=parse_members(categories, SourceCategory, "category"),
                   text=free_text(text, "q"))
