"""The one cursor format of every keyset listing: opaque to clients, checked when it comes back.

A cursor is the position after the last item a client was given: which listing
it belongs to and the sort key of that item (a row key for indicators, the
ingest time and id for articles, a Report id for TAXII's Reports). It travels
as URL-safe base64 of a small JSON array, so clients treat it as a token and
the store can change what it holds without breaking a documented shape.
"""

from __future__ import annotations

import base64
import binascii
import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import orjson

from iocflow.exceptions import InvalidCursor

#: Longest cursor accepted: every real one is far shorter (an ISO time and a UUID at most).
_MAX_LENGTH: Final = 200

Position = tuple[int | str, ...]


class Listing(enum.Enum):
    """What a cursor pages through; a cursor of one listing is refused by another."""

    INDICATORS = "i"
    ARTICLES = "a"
    REPORTS = "r"  # TAXII's Reports, which follow the indicators in a collection's order


#: The shape of each listing's position (a row key; an ISO time and an article id; a Report id).
_SHAPES: Final = {Listing.INDICATORS: (int,), Listing.ARTICLES: (str, str), Listing.REPORTS: (str,)}


@dataclass(frozen=True, slots=True)
class Cursor:
    listing: Listing
    position: Position

    def encode(self) -> str:
        raw = orjson.dumps([self.listing.value, *self.position])
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, text: str, *listings: Listing) -> Cursor:
        """The cursor ``text`` encodes, which must belong to one of ``listings``; else ``InvalidCursor``."""
        problem = InvalidCursor("not a cursor this listing handed out")
        if not text or len(text) > _MAX_LENGTH:
            raise problem
        try:
            parts = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except (binascii.Error, ValueError, orjson.JSONDecodeError):
            raise problem from None
        if not isinstance(parts, list) or not parts:
            raise problem
        try:
            listing = Listing(parts[0])
        except ValueError:
            raise problem from None
        position = tuple(parts[1:])
        shape = _SHAPES[listing]
        if listing not in listings or len(position) != len(shape) or not all(
                type(value) is kind for value, kind in zip(position, shape, strict=True)):
            raise problem
        if listing is Listing.INDICATORS and not 0 <= int(position[0]) < 2**63:
            raise problem
        return cls(listing, position)


def indicators_after(key: int) -> str:
    """The cursor after the indicator whose row key is ``key``."""
    return Cursor(Listing.INDICATORS, (key,)).encode()


def articles_after(ingested_at: datetime, article_id: str) -> str:
    """The cursor after the article ingested at ``ingested_at`` with id ``article_id`` (articles go newest first)."""
    return Cursor(Listing.ARTICLES, (ingested_at.isoformat(), article_id)).encode()


def article_position(cursor: str | None) -> tuple[datetime, str] | None:
    """The (ingest time, id) an articles cursor resumes after (None: from the start); ``InvalidCursor`` if it is
    not one, its time included."""
    if cursor is None:
        return None
    stamp, article = Cursor.decode(cursor, Listing.ARTICLES).position
    try:
        return datetime.fromisoformat(str(stamp)), str(article)
    except ValueError:
        raise InvalidCursor("not a cursor this listing handed out") from None


def indicator_key(cursor: str | None) -> int | None:
    """The row key an indicators cursor resumes after (None: from the start); ``InvalidCursor`` if it is not one."""
    return None if cursor is None else int(Cursor.decode(cursor, Listing.INDICATORS).position[0])
