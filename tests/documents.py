"""Test documents built in code (no binary fixtures): minimal PDFs with a text layer."""

from __future__ import annotations

import io


def pdf_with_text(text: str) -> bytes:
    """A minimal one-page PDF whose text layer is ``text`` (built by hand, no PDF writer needed)."""
    return pdf_with_pages([f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")])


def pdf_with_pages(streams: list[bytes], *, flate: bool = False) -> bytes:
    """A minimal PDF with one page per content stream in ``streams`` (compressed as given when ``flate``)."""
    extra = b" /Filter /FlateDecode" if flate else b""
    pages = len(streams)
    kids = b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, stream in enumerate(streams):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 3 0 R >> >> >>" % (5 + 2 * i))
        objects.append(b"<< /Length %d%s >>\nstream\n" % (len(stream), extra) + stream + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()
