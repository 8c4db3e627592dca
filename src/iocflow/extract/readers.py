"""Turning documents into text for the extractor: plain text, HTML, PDF.

Reports arrive as files of every encoding and format; an undecodable byte
becomes U+FFFD (a replacement character), never an exception. HTML gives its
visible text plus every link target (a defanged-looking anchor text often
hides the real URL in ``href``). PDFs give their text layer.
"""

from __future__ import annotations

import io
from enum import Enum
from pathlib import Path

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


def html_to_text(html: str) -> str:
    """Visible text of an HTML page, one block per line, then its link targets."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    links = [node.attributes.get("href") or "" for node in tree.css("a[href]")]
    for tag in _HIDDEN_TAGS:
        for node in tree.css(tag):
            node.decompose()
    body = tree.body or tree.root
    text = body.text(separator=_BLOCK_BREAK, strip=True) if body is not None else ""
    targets = [href for href in links if href and not href.startswith(("#", "javascript:"))]
    return text + ("\n\n" + "\n".join(targets) if targets else "")


def pdf_to_text(data: bytes) -> str:
    """The text layer of a PDF, page by page."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ExtractError(f"cannot read PDF: {exc}") from exc
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
    return document_text(data, path.name)
