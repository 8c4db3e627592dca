"""Hostile documents built in code (no binary fixtures): PDF bombs and HTML pages costly to parse."""

from __future__ import annotations

import zlib

from tests.documents import pdf_with_pages


def repeated_deflate(chunk: bytes, times: int) -> bytes:
    """A valid zlib stream of ``chunk`` repeated ``times`` times, built without compressing it all.

    After a full flush the compressor starts afresh, so every further copy of
    ``chunk`` compresses to the same bytes; the checksum is computed over the whole.
    """
    z = zlib.compressobj(9)
    first = z.compress(chunk) + z.flush(zlib.Z_FULL_FLUSH)
    again = z.compress(chunk) + z.flush(zlib.Z_FULL_FLUSH)
    end = z.flush()
    check = 1
    for _ in range(times):
        check = zlib.adler32(chunk, check)
    return first + again * (times - 1) + end[:-4] + check.to_bytes(4, "big")


def bomb_pdf(inflated: int = 80_000_000) -> bytes:
    """A PDF of about 80 KB whose content stream inflates to ``inflated`` bytes (past pypdf's 75 MB limit)."""
    return pdf_with_pages([repeated_deflate(b" " * 1_000_000, inflated // 1_000_000)], flate=True)


def slow_pdf(pages: int = 10, operators: int = 300_000) -> bytes:
    """A PDF of some 35 KB whose pages hold ``operators`` text-showing operators each: pypdf reads
    them in pure Python, seconds a page, and no page is over pypdf's limits (2,000,000 tokens a
    stream). The default is a minute of work or more."""
    stream = zlib.compress(b"BT /F1 12 Tf " + b"(a) Tj " * operators + b"ET", 9)
    return pdf_with_pages([stream] * pages, flate=True)


# ---------------------------------------------------------------- HTML whose tree is costly to build


def html_with_attributes(count: int) -> str:
    """One tag with ``count`` attributes (the issue's page had 40,000 on one tag)."""
    attributes = " ".join(f'a{i}="{i}"' for i in range(count))
    return f"<html><body><div {attributes}>C2 at evil.com</div></body></html>"


def nested_html(depth: int) -> str:
    """``depth`` nested <div>s around one sentence."""
    return "<html><body>" + "<div>" * depth + "C2 at 203.0.113.9" + "</div>" * depth + "</body></html>"


def reopened_formatting_html(paragraphs: int, left_open: int = 200) -> str:
    """``left_open`` different <b>s left open in a block, then ``paragraphs`` paragraphs: the HTML
    algorithm makes every one of the <b>s again before each paragraph's text."""
    opened = "".join(f'<b id="b{i}">' for i in range(left_open))
    return "<html><body><div>" + opened + "</div>" + "<p>x</p>" * paragraphs + "<p>C2 at evil.com</p></body></html>"
