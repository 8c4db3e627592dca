"""What a feed format is: how to read it, and what its publisher is by default.

Each format lives in its own module (``urlhaus``, ``feodo``, ``threatfox``,
``stix``, ``misp``) and exports one ``FORMAT``. A parser takes the bytes of the
document the feed's URL (or file) gave, plus ``fetch`` for formats spread over
several documents (a MISP feed's manifest names its event files), and returns
a ``Parsed``: every valid row as an ``Observation`` (put there by
``Parsed.add``, which rejects a row holding a NUL character), every bad row as
a ``RowError`` with its line or index. A parser raises ``FeedError`` only when
the document as a whole is not the format (not JSON, no CSV header, a
truncated file): then nothing of it is stored. How a document's encoding is
told is under "encodings" below.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from iocflow.exceptions import FeedError
from iocflow.ingest.report import Parsed
from iocflow.store.vocabulary import Reliability, Reputation, Severity, SourceCategory
from iocflow.times import as_utc

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
    return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


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


# -- encodings --------------------------------------------------------------------------------
#
# A feed document is read as follows:
#
# 1. A byte order mark names the encoding: UTF-8, UTF-16 LE/BE or UTF-32 LE/BE.
# 2. Without one, the zero bytes around the first two characters, which are ASCII in every format
#    ("#", '"', "{", "["), tell UTF-16 and UTF-32 from UTF-8 (the rule RFC 4627 gave JSON).
# 3. Anything else is UTF-8. A JSON document that is not fails as a whole (RFC 8259: JSON is UTF-8).
#    A CSV document is read line by line instead: each line that is not UTF-8 is read as
#    Windows-1252 (a superset of Latin-1's printable characters, as WHATWG defines it), and the
#    report warns which lines were.

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose BOM it starts with
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def sniff_encoding(data: bytes) -> tuple[str, int]:
    """The document's encoding and the length of its byte order mark (rules 1 and 2 above)."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, len(bom)
    if len(data) >= 4 and b"\x00" in data[:4]:
        if data[0] == 0:
            return ("utf-16-be" if data[1] else "utf-32-be"), 0
        if data[1] == 0:
            return ("utf-16-le" if data[2] or data[3] else "utf-32-le"), 0
    return "utf-8", 0


def as_utf8(data: bytes, *, source: str | None = None) -> bytes:
    """The document as UTF-8 without a BOM: UTF-16 and UTF-32 are converted, anything else is left as is."""
    codec, bom = sniff_encoding(data)
    if codec == "utf-8":
        return data[bom:] if bom else data
    try:
        return data[bom:].decode(codec).encode("utf-8")
    except UnicodeError as exc:
        raise FeedError(f"not valid {codec.upper()}, truncated or corrupt: {exc}", source=source) from None


def first_characters(data: bytes, size: int) -> str:
    """The document's first characters (at most ``size`` bytes' worth), whatever its encoding."""
    codec, bom = sniff_encoding(data)
    return data[bom : bom + size].decode(codec, errors="ignore")


def text_lines(data: bytes, *, source: str | None = None) -> tuple[str, str | None]:
    """A text (CSV) document's text, and a warning when some of its lines were read as Windows-1252."""
    data = as_utf8(data, source=source)
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    lines: list[str] = []
    legacy: list[int] = []
    for number, line in enumerate(data.split(b"\n"), 1):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            legacy.append(number)
            lines.append(_windows_1252(line))
    shown = ", ".join(map(str, legacy[:5])) + (" ..." if len(legacy) > 5 else "")
    what = "1 line is" if len(legacy) == 1 else f"{len(legacy)} lines are"
    where = "line" if len(legacy) == 1 else "lines"
    return "\n".join(lines), f"{what} not UTF-8 and read as Windows-1252 (Latin-1): {where} {shown}"


def _windows_1252_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for byte in range(0x80, 0xA0):
        try:
            table[byte] = bytes([byte]).decode("cp1252")
        except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D: left undefined, read as Latin-1's
            pass
    return table


#: Latin-1 characters -> Windows-1252's for the bytes 0x80-0x9F where the two differ.
_WINDOWS_1252 = _windows_1252_table()


def _windows_1252(line: bytes) -> str:
    """Windows-1252 as WHATWG (and so browsers) decode it: the five bytes it leaves undefined are Latin-1's."""
    return line.decode("latin-1").translate(_WINDOWS_1252)


def is_json(data: bytes, *, source: str, what: str) -> bool:
    """Whether a document is JSON (else text); an empty document or an HTML page is not ``what``."""
    head = first_characters(data, 256).lstrip()[:1]
    if not head:
        raise FeedError("empty document", source=source)
    if head == "<":
        raise FeedError(f"an HTML page (an error or login page?), not {what}", source=source)
    return head in ("{", "[")


def load_json(data: bytes, *, source: str | None) -> object:
    """The parsed document; a truncated or corrupt one fails as a whole (nothing of it is stored)."""
    try:
        return orjson.loads(as_utf8(data, source=source))
    except orjson.JSONDecodeError as exc:
        if "utf-8" in exc.msg.lower():
            raise FeedError("not valid JSON: not UTF-8 (JSON is UTF-8 by RFC 8259; UTF-16 and UTF-32 are read "
                            f"with a byte order mark): {exc.msg}", source=source) from None
        raise FeedError(f"not valid JSON, truncated or corrupt: {exc.msg} at line {exc.lineno} column {exc.colno}",
                        source=source) from None


def field_time(row: Mapping[str, Any], *names: str) -> datetime | None:
    """The first of ``names`` the row has, as aware UTC; ``ValueError`` names the field."""
    for name in names:
        if name in row:
            try:
                return parse_time(row[name])
            except ValueError:
                raise ValueError(f"{name} is not a time: {row[name]!r}") from None
    return None


def text_of(raw: object) -> str | None:
    """A field as stripped text; empty and null are ``None``."""
    text = str(raw).strip() if raw is not None else ""
    return text or None


def csv_lines(text: str) -> Iterator[tuple[int, str]]:
    """(1-based number, line) with LF or CRLF removed; ``splitlines`` would also split on U+2028 inside a URL."""
    for number, line in enumerate(text.split("\n"), 1):
        yield number, line.removesuffix("\r")


def csv_fields(line: str) -> list[str]:
    """One CSV line's fields; ``ValueError`` for what the csv module refuses (a NUL byte)."""
    try:
        return next(csv.reader([line]), [])
    except csv.Error as exc:
        raise ValueError(f"not a CSV row: {exc}") from None


def csv_row(parsed: Parsed, line: str, number: int, columns: Sequence[str]) -> dict[str, str] | None:
    """A data line as ``{column: field}``, counted as read; a line that is not one whole, valid row is
    rejected with the reason (``None``)."""
    parsed.rows_read += 1
    try:
        fields = csv_fields(line)
    except ValueError as exc:
        parsed.reject(str(exc), line=number, value=line)
        return None
    if len(fields) != len(columns):
        parsed.reject(f"expected {len(columns)} fields, got {len(fields)} (truncated or malformed row)",
                      line=number, value=line)
        return None
    if "\ufffd" in line:
        parsed.reject("row holds U+FFFD, the mark of text lost to an earlier bad conversion", line=number, value=line)
        return None
    return dict(zip(columns, fields, strict=True))


def is_id(key: str) -> bool:
    """Whether a JSON dump's key is an abuse.ch numeric id."""
    return key.isascii() and key.isdigit()


def id_keyed_entries(parsed: Parsed, doc: Mapping[str, Any], *, expected: str) -> Iterator[tuple[str, int | None, dict[str, Any]]]:
    """(key, line, entry) of each entry of an abuse.ch JSON dump keyed by id (``{"<id>": [entry, ...]}``),
    each counted as read; the line is the id when it is numeric. A key without a list of entries
    (``expected`` says what it should hold) and an entry that is not an object are rejected."""
    for key, entries in doc.items():
        line = int(key) if is_id(key) else None
        if not isinstance(entries, list) or not entries:
            parsed.rows_read += 1
            parsed.reject(f"{id_prefix(key, line)}expected {expected}", line=line)
            continue
        for item in entries:
            parsed.rows_read += 1
            if not isinstance(item, dict):
                parsed.reject(f"{id_prefix(key, line)}entry is not a JSON object", line=line)
                continue
            yield key, line, item


_NO_RESULTS = frozenset({"no_result", "no_results"})


def abusech_rows(parsed: Parsed, doc: Mapping[str, Any], *, rows: str, source: str,
                 title: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(index, row) of each row of an abuse.ch API answer (``{"query_status": "ok", rows: [...]}``), each
    counted as read; "no results" is no rows, and a row that is not an object is rejected."""
    status = doc.get("query_status")
    if status in _NO_RESULTS:
        return
    if status != "ok":
        raise FeedError(f"the {title} API answered query_status {status!r}", source=source)
    found = doc.get(rows)
    if not isinstance(found, list):
        raise FeedError(f"the API answer has no {rows!r} list", source=source)
    for index, item in enumerate(found):
        parsed.rows_read += 1
        if not isinstance(item, dict):
            parsed.reject("row is not a JSON object", line=index)
            continue
        yield index, item


def id_prefix(key: object, line: int | None) -> str:
    """``id <key>: `` for a rejection message when the row's position is an id, not a line (a JSON dump keyed by id)."""
    return "" if line is not None else f"id {key!r}: "
