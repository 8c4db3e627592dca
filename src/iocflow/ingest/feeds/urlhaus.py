"""URLhaus (abuse.ch): URLs that serve malware, from its CSV dump or its JSON.

Three documents are read, told apart by their content:

* the CSV dump (``/downloads/csv_recent/``, ``csv_online``): a ``#`` banner
  whose last line is the column header ``# id,dateadded,url,url_status,
  last_online,threat,tags,urlhaus_link,reporter``, then one row per URL, every
  field double-quoted, ``tags`` comma-separated inside its quotes;
* the API's answer to ``POST /v1/urls/recent/``: ``{"query_status": "ok",
  "urls": [{"id", "url", "url_status", "date_added", "threat", "tags", ...}]}``;
* the JSON dump (``/downloads/json_recent/``): an object keyed by URLhaus id,
  each value a list holding that URL's entry.

Mapping. Each row is one ``url`` observation: ``first_seen`` is ``dateadded``
(``date_added`` in the API), ``last_seen`` is ``last_online`` when the row has
one, ``ref`` is the URLhaus id, ``reporter`` is kept. ``threat`` (today always
``malware_download``) is ``threat_type`` and also a tag, because the store keeps
tags on the indicator itself and ``threat_type`` only on the sighting. The
feed's own tags are kept. ``malware`` stays empty: URLhaus tags mix families
with file types, architectures and campaign labels (``elf``, ``mips``,
``32-bit``, ``Mozi``), so no tag can be trusted to be the family.

``url_status`` (online/offline/unknown) is not a tag: the store unions tags
over time, so a URL that went offline would carry ``online`` and ``offline``
for ever. It goes to ``extra["url_status"]`` with the URLhaus page
(``extra["link"]``); whether the URL is still live is what ``last_seen`` and the
store's expiry say. An offline URL is still reported: it served malware.

The URL's host is not stored as an indicator of its own: many URLhaus URLs sit
on compromised legitimate sites (a WordPress upload folder, a shared host, a
cloud bucket), and listing the host would block the victim with the attacker.
The host is still searchable inside the URL.

A bad row is reported at its 1-based line in the CSV, its index (from 0) in
the API's ``urls`` list, or its URLhaus id in the JSON dump.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from iocflow.exceptions import FeedError
from iocflow.ingest.feeds.base import (
    FeedFormat,
    Fetch,
    abusech_rows,
    clean_tags,
    csv_fields,
    csv_lines,
    csv_row,
    field_time,
    id_keyed_entries,
    id_prefix,
    is_id,
    is_json,
    load_json,
    text_lines,
    text_of,
)
from iocflow.ingest.report import Parsed
from iocflow.ingest.values import identify
from iocflow.store.records import Observation
from iocflow.store.vocabulary import IndicatorType, Reliability, Reputation, Severity, SourceCategory

_NAME = "urlhaus"
_URL = frozenset({IndicatorType.URL})
#: Columns a CSV header must name; the others are read when present (older dumps had no ``last_online``).
_REQUIRED_COLUMNS = frozenset({"id", "dateadded", "url"})


def parse(data: bytes, fetch: Fetch | None = None) -> Parsed:
    """Every URL in a URLhaus CSV dump, JSON dump or recent-URLs API answer."""
    if is_json(data, source=_NAME, what="a URLhaus feed"):
        return _parse_json(data)
    text, warning = text_lines(data, source=_NAME)
    parsed = _parse_csv(text)
    if warning:
        parsed.warnings.append(warning)
    return parsed


# -- CSV dump ---------------------------------------------------------------------------------


def _parse_csv(text: str) -> Parsed:
    parsed = Parsed()
    columns: list[str] | None = None
    for number, line in csv_lines(text):
        if not line.strip():
            continue
        if line.startswith("#"):
            # The header is the banner's last comment line; any other comment is prose.
            names = _header(line[1:])
            columns = names or columns
            continue
        if columns is None:
            raise FeedError(f"line {number}: a data row before the '# id,dateadded,url,...' header", source=_NAME)
        row = csv_row(parsed, line, number, columns)
        if row is not None:
            _add(parsed, row, row.get("id"), number)
    if columns is None:
        raise FeedError("no '# id,dateadded,url,...' header: not a URLhaus CSV dump", source=_NAME)
    return parsed


def _header(text: str) -> list[str] | None:
    """The column names, if this comment line is the dump's header."""
    try:
        names = [name.strip().lower() for name in csv_fields(text.strip())]
    except ValueError:
        return None
    return names if _REQUIRED_COLUMNS <= set(names) else None


# -- JSON: API answer and dump ----------------------------------------------------------------


def _parse_json(data: bytes) -> Parsed:
    doc = load_json(data, source=_NAME)
    if not isinstance(doc, dict):
        raise FeedError("JSON that is neither the URLhaus API answer nor its JSON dump", source=_NAME)
    if "query_status" in doc:
        return _parse_api(doc)
    return _parse_dump(doc)


def _parse_api(doc: Mapping[str, Any]) -> Parsed:
    parsed = Parsed()
    for index, item in abusech_rows(parsed, doc, rows="urls", source=_NAME, title="URLhaus"):
        _add(parsed, item, item.get("id"), index)
    return parsed


def _parse_dump(doc: Mapping[str, Any]) -> Parsed:
    if doc and not any(is_id(key) for key in doc):
        raise FeedError("a JSON object not keyed by URLhaus id: not a URLhaus JSON dump", source=_NAME)
    parsed = Parsed()
    for key, line, item in id_keyed_entries(parsed, doc, expected="a list of URL entries"):
        _add(parsed, item, key, line)
    return parsed


# -- one row ----------------------------------------------------------------------------------


def _add(parsed: Parsed, row: Mapping[str, Any], ref: object, line: int | None) -> None:
    """The row's observation, or its rejection with the reason."""
    try:
        observation = _observation(row, ref)
    except ValueError as exc:
        raw = row.get("url")
        parsed.reject(f"{id_prefix(ref, line)}{exc}", line=line, value=raw or None)
        return
    parsed.add(observation, line=line, where=id_prefix(ref, line))


def _observation(row: Mapping[str, Any], ref: object) -> Observation:
    raw = row.get("url")
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("missing url")
    try:
        _, url = identify(raw, _URL)
    except ValueError as exc:
        raise ValueError(f"url: {exc}") from None
    threat = text_of(row.get("threat"))
    tags = clean_tags(row.get("tags"))
    if threat:
        tags = clean_tags([*tags, threat])
    extra: dict[str, object] = {}
    if status := text_of(row.get("url_status")):
        extra["url_status"] = status
    if link := text_of(row.get("urlhaus_link") or row.get("urlhaus_reference")):
        extra["link"] = link
    return Observation(
        IndicatorType.URL,
        url,
        first_seen=field_time(row, "dateadded", "date_added"),
        last_seen=field_time(row, "last_online"),
        tags=tags,
        indicator_class="Malware",
        threat_type=threat,
        reporter=text_of(row.get("reporter")),
        ref=text_of(ref),
        extra=extra,
    )


FORMAT = FeedFormat(
    name=_NAME,
    title="URLhaus malware URLs (abuse.ch)",
    parse=parse,
    default_url="https://urlhaus.abuse.ch/downloads/csv_recent/",
    category=SourceCategory.THREAT_INTEL,
    reliability=Reliability.B,
    reputation=Reputation.BAD,
    severity=Severity.HIGH,
    documentation="https://urlhaus.abuse.ch/api/",
)
