"""What a feed format is: how to read it, and what its publisher is by default.

Each format lives in its own module (``urlhaus``, ``feodo``, ``threatfox``,
``stix``, ``misp``) and exports one ``FORMAT``. A parser takes the bytes of the
document the feed's URL (or file) gave, plus ``fetch`` for formats spread over
several documents (a MISP feed's manifest names its event files), and returns
a ``Parsed``: every valid row as an ``Observation``, every bad row as a
``RowError`` with its line or index. A parser raises ``FeedError`` only when
the document as a whole is not the format (not JSON, no CSV header, a
truncated file): then nothing of it is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from iocflow.ingest.report import Parsed
from iocflow.store.vocabulary import Reliability, Reputation, Severity, SourceCategory

Fetch = Callable[[str], bytes]
"""Bytes of a document named relative to the feed's own location (a URL or a local path)."""
Parser = Callable[[bytes, Fetch | None], Parsed]


@dataclass(frozen=True, slots=True)
class FeedFormat:
    name: str
    title: str
    parse: Parser
    #: Where the publisher serves it (``iocflow ingest feed NAME`` fetches this).
    default_url: str
    category: SourceCategory = SourceCategory.THREAT_INTEL
    reliability: Reliability = Reliability.B
    #: What a listed indicator is when a row does not say: these feeds list malicious infrastructure.
    reputation: Reputation = Reputation.BAD
    severity: Severity | None = None
    documentation: str = ""


def parse_time(text: str | None) -> datetime | None:
    """A feed's timestamp as aware UTC; feeds write ``2024-05-01 12:00:00`` (UTC), ISO 8601 or nothing.

    ``ValueError`` for text that is not a time, so the row is rejected with the reason.
    """
    if text is None:
        return None
    text = str(text).strip()
    if not text or text.lower() in {"none", "null", "n/a"}:
        return None
    if text.endswith(" UTC"):
        text = text[:-4]
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def clean_tags(raw: object) -> tuple[str, ...]:
    """Tags from a list or a comma-separated string; feeds write "None", null or "" for none."""
    if raw is None:
        return ()
    items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    tags = []
    for item in items:
        tag = str(item).strip()
        if tag and tag.lower() not in {"none", "null"}:
            tags.append(tag)
    return tuple(dict.fromkeys(tags))
