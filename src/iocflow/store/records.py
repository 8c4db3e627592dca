"""What the ingestion paths hand to the store: sources, articles and observations.

An ``Observation`` is one source reporting one indicator once; the store turns
it into a sighting and folds it into the indicator. Every id here is a UUIDv5
(as its 36-character string) of the thing's natural key, so the same indicator, source or article gets the
same id on every machine and every run: re-ingesting updates, never duplicates,
and the export layer reuses the indicator id as its STIX id.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

from iocflow.store.vocabulary import (
    Confidence,
    IndicatorType,
    Reliability,
    Reputation,
    Severity,
    SourceCategory,
    SourceKind,
)

#: Namespace of every iocflow UUIDv5 (indicators, sources, articles, sightings).
NAMESPACE: Final = uuid.UUID("6f1c3a52-9d1e-5b7a-8c39-1d0c4e2b7f10")

NEVER: Final = "never"
Expiry = datetime | Literal["never"] | None
"""An explicit expiry: a time, ``NEVER``, or ``None`` for the type's default."""


_NAMESPACE_SHA1: Final = hashlib.sha1(NAMESPACE.bytes)
#: The variant nibble (RFC 4122: binary 10xx) for each hex digit the hash put there.
_VARIANT: Final = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def uuid5(name: str) -> str:
    """``str(uuid.uuid5(NAMESPACE, name))``, without building UUID objects (ingest makes millions)."""
    digest = _NAMESPACE_SHA1.copy()
    digest.update(name.encode("utf-8"))
    x = digest.hexdigest()
    return f"{x[:8]}-{x[8:12]}-5{x[13:16]}-{_VARIANT[x[16]]}{x[17:20]}-{x[20:32]}"


def indicator_id(kind: IndicatorType | str, value: str) -> str:
    """The indicator's id: the dedup key in the store, its STIX id when exported."""
    return uuid5(f"{kind.value if isinstance(kind, IndicatorType) else kind}:{value}")


def source_id(name: str) -> str:
    return uuid5(f"source:{name}")


@dataclass(frozen=True, slots=True)
class Source:
    """A publisher of indicators: a feed, an article source, a pushing tool."""

    name: str
    kind: SourceKind
    category: SourceCategory
    reliability: Reliability = Reliability.C
    url: str | None = None
    #: What the source's indicators are when a row does not say (URLhaus lists malware URLs: bad).
    reputation: Reputation = Reputation.UNKNOWN
    severity: Severity | None = None

    @property
    def id(self) -> str:
        return source_id(self.name)


@dataclass(frozen=True, slots=True)
class Article:
    """A report indicators were extracted from; identified by its URL, else its text."""

    title: str | None
    url: str | None
    published: datetime | None = None
    text_sha256: str | None = None
    techniques: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        key = self.url or self.text_sha256 or hashlib.sha256((self.title or "").encode()).hexdigest()
        return uuid5(f"article:{key}")


@dataclass(frozen=True, slots=True)
class Observation:
    """One source reporting one indicator once, with whatever the source said about it."""

    type: IndicatorType
    value: str
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    #: How sure the extraction is that this is an indicator (feed rows and pushes: high).
    confidence: Confidence = Confidence.HIGH
    severity: Severity | None = None
    reputation: Reputation | None = None
    #: Overrides the source's reliability for this row (a pushing tool rates each indicator).
    reliability: Reliability | None = None
    expiry: Expiry = None
    tags: tuple[str, ...] = ()
    techniques: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    indicator_class: str | None = None
    comment: str | None = None
    malware: str | None = None
    threat_type: str | None = None
    reporter: str | None = None
    context: str | None = None
    article: Article | None = None
    #: The source's own id for the row (URLhaus id, ThreatFox id, MISP attribute uuid).
    ref: str | None = None
    #: Anything else the source said (a page link, an ASN); kept on the sighting as ``details``.
    extra: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    @property
    def indicator_id(self) -> str:
        return indicator_id(self.type.value, self.value)



@dataclass(frozen=True, slots=True)
class RowError:
    """A row a source sent that could not be stored, and why."""

    message: str
    line: int | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        what = f" ({self.value!r})" if self.value else ""
        return f"{where}{self.message}{what}"
