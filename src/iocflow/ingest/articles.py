"""Security articles and reports: main text, indicators, and what the article is about.

An HTML page is reduced to its main text with trafilatura (navigation, footers
and sidebars removed, so a vendor's own links in the page chrome are not taken
for indicators); a PDF gives its text layer; anything else is read as text.
The extractor runs on that text. Each indicator is stored with the sentence
it appears in. ATT&CK technique IDs and industry words found anywhere in the
article tag all of its indicators: the article says what the campaign does
and whom it targets.

Only medium- and high-confidence hits are stored (low ones are mostly file
names that look like domains, e.g. ``invoice.zip``); ATT&CK IDs are stored as
``mitre_attack`` indicators too, so they can be looked up like any other.

NUL characters (which PostgreSQL cannot store): text holding them is still
read, and what is stored from it (the sentence around an indicator, a title
taken from the document or a feed) has each NUL as a space. An ``ArticleText``
refuses a title or URL holding one (``InvalidParameter``: a title or URL sent
to ``/api/v1/extract`` is a 400), and an RSS entry whose link holds one is
rejected.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from time import struct_time

from iocflow.exceptions import ExtractError, FeedError, InvalidParameter
from iocflow.extract import extract
from iocflow.extract.model import Confidence, Kind
from iocflow.extract.readers import (
    DocumentType,
    decode_text,
    detect_type,
    html_text_without_tree,
    html_to_text,
    html_tree_cost,
    pdf_to_text,
)
from iocflow.ingest.report import Parsed
from iocflow.store.nul import NUL
from iocflow.store.records import Article, Observation
from iocflow.store.vocabulary import type_of_kind

#: Industry (one of the store's ``INDUSTRIES``) -> words that name it in an article (lower case, whole words).
INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "finance": ("finance", "financial", "bank", "banks", "banking", "fintech", "insurance", "cryptocurrency exchange"),
    "healthcare": ("healthcare", "health care", "hospital", "hospitals", "medical", "pharmaceutical", "patient data"),
    "government": ("government", "governments", "ministry", "ministries", "municipal", "federal agency", "public sector"),
    "technology": ("technology sector", "tech companies", "software vendor", "software vendors", "it service providers", "saas"),
    "manufacturing": ("manufacturing", "manufacturer", "manufacturers", "industrial", "factory", "factories"),
    "retail": ("retail", "retailer", "retailers", "e-commerce", "ecommerce", "point-of-sale"),
    "energy": ("energy", "oil and gas", "utilities", "power grid", "electric utility", "nuclear"),
    "education": ("education", "university", "universities", "school", "schools", "academic"),
    "telecom": ("telecom", "telecommunications", "telco", "telcos", "mobile operator", "isp"),
    "transportation": ("transportation", "logistics", "shipping", "airline", "airlines", "aviation", "railway", "maritime"),
    "defense": ("defense", "defence", "military", "armed forces", "defense contractor"),
    "water": ("water utility", "water utilities", "water sector", "wastewater", "water treatment"),
}
_INDUSTRY_PATTERN = re.compile(
    r"\b(" + "|".join(sorted((re.escape(w) for ws in INDUSTRY_WORDS.values() for w in ws), key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
_INDUSTRY_OF = {w: industry for industry, words in INDUSTRY_WORDS.items() for w in words}
_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n\s*\n")
_CONTEXT_MAX = 300
_MIN_TEXT = 1


@dataclass(frozen=True, slots=True)
class ArticleText:
    """An article reduced to what the extractor reads; ``InvalidParameter`` for a title or URL holding a NUL.

    The text may hold NULs: it is read as given.
    """

    text: str
    title: str | None = None
    url: str | None = None
    published: datetime | None = None

    def __post_init__(self) -> None:
        for name, value in (("title", self.title), ("url", self.url)):
            if value is not None and NUL in value:
                raise InvalidParameter(name, f"the article's {name} must not contain a NUL character")


def read_article(data: bytes, *, url: str | None = None, name: str = "", title: str | None = None,
                 published: datetime | None = None) -> ArticleText:
    """The main text of an HTML page, PDF or text file; ``FeedError`` when it has none."""
    where = url or name or "article"
    try:
        kind = detect_type(data, name or (url or ""))
        if kind is DocumentType.PDF:
            text = pdf_to_text(data)
        elif kind is DocumentType.HTML:
            text, found_title = _html_main_text(decode_text(data), url)
            title = title or _spaced(found_title)
        else:
            text = decode_text(data)
    except ExtractError as exc:
        raise FeedError(str(exc), source=where) from exc
    if len(text.strip()) < _MIN_TEXT:
        raise FeedError("the document has no text", source=where)
    return ArticleText(text, title or first_line(text), url, published)


def _html_main_text(html: str, url: str | None) -> tuple[str, str | None]:
    """The page's main text and title; a page whose tree would be costly to build (thousands of attributes on
    a tag, nesting thousands deep) is read between its tags instead, in linear time, with no title."""
    if html_tree_cost(html).costly:
        return html_text_without_tree(html), None
    import trafilatura

    text = trafilatura.extract(html, url=url, include_comments=False, include_tables=True, favor_recall=True)
    metadata = trafilatura.extract_metadata(html, default_url=url) if html.strip() else None
    title = metadata.title if metadata is not None else None
    if not text:  # a page trafilatura finds no article in: fall back to all its visible text
        text = html_to_text(html)
    return text, title


def first_line(text: str) -> str | None:
    """A title for a document that has none: its first line of text, at most 200 characters, NULs as spaces."""
    for line in text.splitlines():
        if line.strip():
            return _spaced(line.strip()[:200])
    return None


def _spaced(text: str | None) -> str | None:
    """Text read from a document, each NUL a space (PostgreSQL stores none)."""
    return text.replace(NUL, " ") if text and NUL in text else text


def article_observations(article: ArticleText, *, now: datetime | None = None) -> Parsed:
    """Every medium/high-confidence indicator of the article, with its sentence and the article's tags."""
    found = extract(article.text)
    techniques = tuple(dict.fromkeys(
        ind.value for ind in found.unique(min_confidence=Confidence.MEDIUM) if ind.kind is Kind.ATTACK_TECHNIQUE
    ))
    industries = industries_in(article.text)
    record = Article(
        title=article.title, url=article.url, published=article.published,
        text_sha256=hashlib.sha256(article.text.encode("utf-8")).hexdigest(),
        techniques=techniques, industries=industries,
    )
    parsed = Parsed()
    for ind in found.unique(min_confidence=Confidence.MEDIUM):
        parsed.rows_read += 1
        parsed.add(Observation(
            type_of_kind(ind.kind), ind.value,
            first_seen=now, confidence=ind.confidence, techniques=techniques, industries=industries,
            context=sentence_around(article.text, ind.start, ind.end), article=record,
        ))
    return parsed


def industries_in(text: str) -> tuple[str, ...]:
    """The industries an article names, in order of first mention."""
    return tuple(dict.fromkeys(_INDUSTRY_OF[m.group(1).lower()] for m in _INDUSTRY_PATTERN.finditer(text)))


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence holding ``text[start:end]``, whitespace (and NUL) collapsed, at most ~300 characters."""
    window_start = max(0, start - _CONTEXT_MAX)
    before = text[window_start:start]
    cut = 0
    for match in _SENTENCE_END.finditer(before):
        cut = match.end()
    left = window_start + cut
    after = _SENTENCE_END.search(text, end, min(len(text), end + _CONTEXT_MAX))
    right = after.end() if after else min(len(text), end + _CONTEXT_MAX)
    sentence = " ".join(text[left:right].replace(NUL, " ").split())
    if len(sentence) > _CONTEXT_MAX:  # one endless "sentence" (an IOC list): centre on the match
        middle = " ".join(text[max(left, start - 100):min(right, end + 100)].replace(NUL, " ").split())
        sentence = middle[:_CONTEXT_MAX]
    return sentence


# -- RSS/Atom -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FeedEntry:
    title: str | None
    link: str | None
    published: datetime | None
    content: str
    content_is_html: bool
    #: The feed carries the article's body (content:encoded, Atom content), not only a summary.
    full: bool


@dataclass(frozen=True, slots=True)
class NewsFeed:
    title: str | None
    link: str | None
    entries: list[FeedEntry]


def read_news_feed(data: bytes, *, location: str = "feed") -> NewsFeed:
    """An RSS or Atom document's entries; ``FeedError`` when it is neither."""
    import feedparser

    parsed = feedparser.parse(data)
    if parsed.get("bozo") and not parsed.entries:
        raise FeedError(f"not an RSS/Atom feed: {parsed.get('bozo_exception')}", source=location)
    if not parsed.get("version") and not parsed.entries:
        raise FeedError("not an RSS/Atom feed", source=location)
    entries = []
    for entry in parsed.entries:
        content, is_html = _entry_content(entry)
        entries.append(FeedEntry(
            title=entry.get("title"), link=entry.get("link"),
            published=_struct_time(entry.get("published_parsed") or entry.get("updated_parsed")),
            content=content, content_is_html=is_html, full=bool(entry.get("content")),
        ))
    feed = parsed.get("feed", {})
    link = feed.get("link")
    return NewsFeed(_spaced(feed.get("title")), None if link and NUL in link else link, entries)


def _entry_content(entry: dict) -> tuple[str, bool]:
    """The fullest body the entry carries (content:encoded beats the summary)."""
    best, is_html = "", False
    for part in list(entry.get("content") or []) + [{"value": entry.get("summary") or "", "type": "text/html"}]:
        value = part.get("value") or ""
        if len(value) > len(best):
            best, is_html = value, "html" in (part.get("type") or "")
    return best, is_html


def _struct_time(value: struct_time | None) -> datetime | None:
    if value is None:
        return None
    return datetime(*value[:6], tzinfo=UTC)


def entry_article(entry: FeedEntry, fetch_page: Callable[[str], bytes] | None) -> ArticleText:
    """The article behind a feed entry: the linked page when the feed carries only a summary.

    ``FeedError`` (the entry is rejected) when its link holds a NUL character."""
    if entry.link and NUL in entry.link:
        raise FeedError("the entry's link holds a NUL character", source=_spaced(entry.title) or "entry")
    entry = replace(entry, title=_spaced(entry.title))
    if fetch_page is not None and entry.link and not entry.full:
        return read_article(fetch_page(entry.link), url=entry.link, title=entry.title, published=entry.published)
    if entry.content_is_html or "<" in entry.content:
        text = html_to_text(entry.content)
    else:
        text = entry.content
    if not text.strip():
        raise FeedError("the entry has no text", source=entry.link or entry.title or "entry")
    return ArticleText(text, entry.title, entry.link, entry.published)


def merge(parts: Iterable[Parsed]) -> Parsed:
    out = Parsed()
    for part in parts:
        out.observations += part.observations
        out.errors += part.errors
        out.rows_read += part.rows_read
    return out
