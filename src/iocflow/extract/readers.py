"""Turning documents into text for the extractor: plain text, HTML, PDF.

Reports arrive as files of every encoding and format; an undecodable byte
becomes U+FFFD (a replacement character), never an exception. HTML gives its
visible text plus every link target (a defanged-looking anchor text often
hides the real URL in ``href``). PDFs give their text layer.

Documents may be hostile. An HTML page whose tree would cost more than time
linear in its size (see ``html_tree_cost``) is read without building one. A PDF
that is broken, or over pypdf's limits (a decompression bomb), is an
``ExtractError`` like an unreadable file; within those limits its reading costs
time linear in its inflated content, which the API bounds with a time budget.
"""

from __future__ import annotations

import html as html_lib
import io
import re
from enum import Enum
from pathlib import Path
from typing import NamedTuple

from iocflow.exceptions import ExtractError

_HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml", ".mhtml"})
_PDF_MAGIC = b"%PDF-"
_HIDDEN_TAGS = ("script", "style", "noscript", "template", "head")
_BLOCK_BREAK = "\n"


class DocumentType(str, Enum):
    TEXT = "text"
    HTML = "html"
    PDF = "pdf"


def detect_type(data: bytes, name: str = "") -> DocumentType:
    """Guess a document's type from its first bytes, then its file name."""
    head = data[:1024].lstrip().lower()
    if data.startswith(_PDF_MAGIC):
        return DocumentType.PDF
    if head.startswith((b"<!doctype html", b"<html")) or Path(name).suffix.lower() in _HTML_SUFFIXES:
        return DocumentType.HTML
    if b"<html" in head or (b"<body" in head and b"</" in head):
        return DocumentType.HTML
    return DocumentType.TEXT


def decode_text(data: bytes) -> str:
    """Bytes to str: BOM-aware UTF-8/UTF-16, else UTF-8 with replacement characters."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    return data.decode("utf-8", errors="replace")


# ---------------------------------------------------------------- HTML

# Building an HTML tree is not linear on every page (measured with lexbor, which
# html_to_text uses; lxml does no better):
# * a tag with n attributes costs n² (each attribute is compared with the ones
#   before it, to drop duplicates): 40,000 attributes on one tag take seconds;
# * an element costs the depth it is opened at: 20,000 nested <div>s take seconds;
# * a formatting element (<b>, <font> ...) left open when its block closes is
#   made again before each later piece of text, so f different ones left open
#   before n paragraphs make f*n elements.
# html_tree_cost estimates the three from the tags alone, in one linear pass; a
# page over the allowance is read without a tree (html_text_without_tree).

# A tag's attributes, up to its ">"; a quoted value is read whole (a ">" in it does not end the tag).
_ATTRIBUTES = r"""((?:[^>"']++|"[^"]*+(?:"|\Z)|'[^']*+(?:'|\Z))*+)(?:>|\Z)"""
# Elements whose content is text up to their own end tag, not markup.
_RAW_TEXT = "script|style|textarea|title|xmp|iframe|noembed|noframes|noscript|template"
# One token per match: a raw-text element with its content (groups 1-3), a start or end tag
# (4-6), or a comment or doctype (no group). A tag, quoted value, comment or raw-text element
# left open runs to the end of the page, as the HTML algorithm reads it; so no match fails
# after reading on, and the page is read once.
_TOKEN = re.compile(
    r"<(?:(" + _RAW_TEXT + r")(?=[\s/>])" + _ATTRIBUTES + r"((?:(?!</\1[\s/>]).)*+)"
    r"|(/?)([A-Za-z][^\s/>\x00]*+)" + _ATTRIBUTES +
    r"|!--(?:.*?-->|.*+)|[!?/][^>]*+>?)",
    re.DOTALL | re.IGNORECASE,
)
_ATTRIBUTE = re.compile(r"""[^\s"'>/=]++(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s"'>]++))?+""")
_HREF = re.compile(r"""(?:^|\s)href\s*+=\s*+(?:"([^"]*+)"|'([^']*+)'|([^\s"'>]++))""", re.IGNORECASE)
# Void elements, and those the HTML algorithm closes by itself (at the next <p>, <li>, <td> ...): no depth.
_NO_DEPTH = frozenset(
    "area base basefont bgsound br col embed frame hr image img input keygen link meta param source track wbr "
    "html head body p li dt dd tr td th thead tbody tfoot colgroup caption option optgroup rb rt rp rtc".split()
)
_FOREIGN = frozenset({"svg", "math"})  # inside these, "<x/>" closes itself
_FORMATTING = frozenset("a b big code em font i nobr s small strike strong tt u".split())
_SELF_NESTING = frozenset({"a", "nobr"})  # a new one closes the one open
_IDENTICAL_KEPT = 3  # the HTML algorithm re-creates at most three identical open formatting elements
_SHORT_TAG = 64  # a tag this long has at most 32 attributes: within the per-tag allowance
_SKIPPED_RAW = frozenset({"script", "style", "title", "noscript", "template"})  # html_to_text leaves them out

#: Each cost's allowance: so much per tag plus so much in all, so small pages always get a tree.
TREE_ALLOWANCE: dict[str, tuple[int, int]] = {
    "depth": (256, 1_000_000),  # the depth at which each tag is read
    "formatting": (8, 100_000),  # open formatting elements, at each tag
    "attributes": (1024, 10_000_000),  # the square of each tag's number of attributes
}


class TreeCost(NamedTuple):
    """What building an HTML page's tree would cost beyond reading it (allowances in TREE_ALLOWANCE)."""

    tags: int
    depth: int
    formatting: int
    attributes: int

    @property
    def costly(self) -> bool:
        """Whether any cost is over its allowance for this many tags."""
        return any(getattr(self, name) > per_tag * self.tags + base for name, (per_tag, base) in TREE_ALLOWANCE.items())


def html_tree_cost(html: str) -> TreeCost:
    """Estimate what building ``html``'s tree would cost, from its tags alone, in one linear pass.

    Open elements are kept on a stack of names (an end tag closes what is open
    inside its element, as the HTML algorithm does); a formatting element stays
    open until its own end tag, even when its block closes, and a new <a>
    closes an open one.
    """
    tags = depth = formatting_cost = attribute_cost = 0
    stack: list[str] = []  # open elements, innermost last
    open_count: dict[str, int] = {}
    formatting: dict[str, list[str]] = {}  # open formatting elements by name: their start tags
    identical: dict[str, int] = {}  # open formatting elements by start tag
    active = 0  # open formatting elements, at most three identical ones counted
    foreign = 0  # open <svg> and <math> elements

    def close(name: str) -> None:
        nonlocal active, foreign
        if open_count.get(name):
            while True:  # an end tag closes what is still open inside its element
                top = stack.pop()
                open_count[top] -= 1
                if top == name:
                    break
        if name in _FOREIGN and foreign:
            foreign -= 1
        opened = formatting.get(name)
        if opened:  # a formatting element ends at its own end tag only, not with its block
            tag = opened.pop()
            identical[tag] -= 1
            if identical[tag] < _IDENTICAL_KEPT:
                active -= 1

    for raw, raw_attributes, _, closing, name, attributes in _TOKEN.findall(html):
        if not name:
            if not raw:
                continue  # a comment or doctype
            attributes = raw_attributes  # a script, style ...: one element, its content no markup
        tags += 1
        if len(attributes) > _SHORT_TAG:
            n = len(_ATTRIBUTE.findall(attributes))
            attribute_cost += n * n
        if closing:
            close(name.lower())
        elif name:
            name = name.lower()
            if name not in _NO_DEPTH and not (foreign and attributes.endswith("/")):
                if name in _FORMATTING:
                    if name in _SELF_NESTING and formatting.get(name):
                        close(name)
                    tag = f"{name} {attributes}"
                    formatting.setdefault(name, []).append(tag)
                    seen = identical.get(tag, 0)
                    identical[tag] = seen + 1
                    if seen < _IDENTICAL_KEPT:
                        active += 1
                elif name in _FOREIGN:
                    foreign += 1
                stack.append(name)
                open_count[name] = open_count.get(name, 0) + 1
        depth += len(stack)
        formatting_cost += active
    return TreeCost(tags, depth, formatting_cost, attribute_cost)


def html_text_without_tree(html: str) -> str:
    """The text html_to_text gives, read between the tags in one linear pass, with no tree.

    Each piece of text between tags (entities decoded, stripped) on its own
    line, leaving out scripts, styles and the title, then every link target.
    What the HTML algorithm would move (text inside a table but outside its
    cells, misnested tags) stays where it is written.
    """
    pieces: list[str] = []
    links: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(html):
        pieces.append(html[pos : m.start()])
        pos = m.end()
        raw = m.group(1)
        if raw is not None:
            if raw.lower() not in _SKIPPED_RAW:
                pieces.append(m.group(3))
        elif m.group(5) is not None and not m.group(4) and m.group(5).lower() == "a":
            href = _HREF.search(m.group(6))
            if href is not None:
                links.append(html_lib.unescape(next(g for g in href.groups() if g is not None)))
    pieces.append(html[pos:])
    lines = (html_lib.unescape(piece).strip() for piece in pieces)
    return _BLOCK_BREAK.join(line for line in lines if line) + _link_block(links)


def _link_block(links: list[str]) -> str:
    targets = [href for href in links if href and not href.startswith(("#", "javascript:"))]
    return "\n\n" + "\n".join(targets) if targets else ""


def html_to_text(html: str) -> str:
    """Visible text of an HTML page, one block per line, then its link targets.

    A page whose tree would be costly to build (``html_tree_cost``) is read
    without one (``html_text_without_tree``).
    """
    if html_tree_cost(html).costly:
        return html_text_without_tree(html)
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    links = [node.attributes.get("href") or "" for node in tree.css("a[href]")]
    for tag in _HIDDEN_TAGS:
        for node in tree.css(tag):
            node.decompose()
    body = tree.body or tree.root
    text = body.text(separator=_BLOCK_BREAK, strip=True) if body is not None else ""
    return text + _link_block(links)


def pdf_to_text(data: bytes) -> str:
    """The text layer of a PDF, page by page; a PDF pypdf cannot read is an ExtractError.

    pypdf refuses a stream that inflates past 75 MB (a 100 KB decompression
    bomb does) or holds over 2,000,000 tokens with ``LimitReachedError``. On
    malformed files it fails in many other ways too (its own errors, but also
    IndexError, AttributeError, RecursionError ...), so whatever stops it makes
    the PDF unreadable, as a broken file is. Within those limits reading costs
    time linear in the inflated content, which can still be minutes for a small
    upload: the API reads documents in worker processes it can stop.
    """
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        pages = [page.extract_text() or "" for page in reader.pages]
    except LimitReachedError as exc:
        raise ExtractError(f"cannot read PDF: it is over one of pypdf's limits (a decompression bomb, or a stream "
                           f"of too many operators): {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - see the docstring
        raise ExtractError(f"cannot read PDF: {exc or type(exc).__name__}") from exc
    return "\n\n".join(pages)


def document_text(data: bytes, name: str = "", kind: DocumentType | None = None) -> str:
    """The text the extractor should read from a document's bytes."""
    kind = kind or detect_type(data, name)
    if kind is DocumentType.PDF:
        return pdf_to_text(data)
    text = decode_text(data)
    if kind is DocumentType.HTML:
        return html_to_text(text)
    return text


def read_path(path: Path) -> str:
    """Text of the document at ``path``; an unreadable path is an ExtractError."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ExtractError(f"{path}: {exc.strerror or exc}") from exc
    try:
        return document_text(data, path.name)
    except ExtractError as exc:
        raise ExtractError(f"{path}: {exc}") from exc
