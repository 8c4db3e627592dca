"""Documents to text: plain text with bad bytes, HTML (visible text and hrefs), PDF text layers."""

from __future__ import annotations

from pathlib import Path

import pytest

from iocflow.exceptions import ExtractError
from iocflow.extract import extract
from iocflow.extract.readers import (
    DocumentType,
    decode_text,
    detect_type,
    document_text,
    html_text_without_tree,
    html_to_text,
    html_tree_cost,
    read_path,
)
from tests.documents import pdf_with_text
from tests.hostile_documents import bomb_pdf, html_with_attributes, nested_html, reopened_formatting_html

FIXTURES = Path(__file__).parent.parent / "ingest" / "fixtures"


def test_invalid_utf8_becomes_replacement_characters_not_an_error() -> None:
    text = decode_text(b"beacon to 10.0.0.1 \xff\xfe\xfd then evil.com")
    assert "\ufffd" in text
    assert extract(text).values(__import__("iocflow.extract", fromlist=["Kind"]).Kind.DOMAIN) == ["evil.com"]


def test_utf16_with_bom_is_decoded() -> None:
    data = "C2 at 203.0.113.9".encode("utf-16")
    assert "203.0.113.9" in decode_text(data)


def test_html_gives_visible_text_and_link_targets_but_not_scripts() -> None:
    html = (
        b"<html><head><title>x</title><script>var ip='9.9.9.9'</script><style>a{}</style></head>"
        b"<body><p>Payload from <a href='http://real-target.com/p.exe'>evil[.]com</a></p></body></html>"
    )
    assert detect_type(html) is DocumentType.HTML
    text = document_text(html)
    assert "evil[.]com" in text
    assert "http://real-target.com/p.exe" in text
    assert "9.9.9.9" not in text


def test_pdf_text_layer_is_read() -> None:
    pdf = pdf_with_text("Contact 198.51.100.23 and hxxp://bad-host[.]org/x")
    assert detect_type(pdf) is DocumentType.PDF
    values = [i.value for i in extract(document_text(pdf))]
    assert "198.51.100.23" in values
    assert "http://bad-host.org/x" in values


def test_broken_pdf_is_a_clear_error() -> None:
    with pytest.raises(ExtractError, match="PDF"):
        document_text(b"%PDF-1.4\n this is not really a pdf")


def test_unreadable_path_is_an_extract_error(tmp_path) -> None:
    with pytest.raises(ExtractError, match="missing.txt"):
        read_path(tmp_path / "missing.txt")


def test_public_surface_of_the_extractor_package() -> None:
    """The package exports exactly its documented names, each presented as iocflow.extract's own."""
    import iocflow.extract as pkg

    assert sorted(pkg.__all__) == ["Confidence", "Extraction", "Indicator", "Kind", "Matrix", "NotAnIndicator", "check",
                                   "email_host", "extract", "refang", "url_host", "url_path"]
    for name in pkg.__all__:
        assert getattr(pkg, name).__module__ == "iocflow.extract"


def test_extractor_imports_no_web_or_database_stack() -> None:
    import subprocess
    import sys

    code = "import sys, iocflow.extract; print(sorted(m for m in ('fastapi','sqlalchemy','typer','httpx') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


# -- hostile documents (issue 12, items 1 and 8) ----------------------------------------------------


def test_decompression_bomb_pdf_is_a_clear_error() -> None:
    bomb = bomb_pdf()
    assert len(bomb) < 300_000  # the bomb was 292 KB
    with pytest.raises(ExtractError, match="decompression bomb"):
        document_text(bomb)


def test_a_refused_document_names_its_path(tmp_path: Path) -> None:
    path = tmp_path / "bomb.pdf"
    path.write_bytes(bomb_pdf())
    with pytest.raises(ExtractError, match=r"bomb\.pdf: cannot read PDF"):
        read_path(path)


@pytest.mark.parametrize("page", [
    html_with_attributes(50), nested_html(50), reopened_formatting_html(20, left_open=5),
    "<p>Payload from <a href='http://real-target.com/p.exe'>evil[.]com</a> &amp; <b>more</b></p>"
    "<script>if (a<b) x='</div>'</script><!-- 9.9.9.9 --><textarea>kept</textarea>",
    (FIXTURES / "article_blog.html").read_text(encoding="utf-8"),
    (FIXTURES / "feodo_error_page.html").read_text(encoding="utf-8"),
], ids=["attributes", "nested", "formatting", "mixed", "article", "error-page"])
def test_reading_without_a_tree_gives_the_same_lines(page: str) -> None:
    """On pages cheap enough for a tree, both readers give the same lines (blank ones aside)."""
    assert not html_tree_cost(page).costly
    lines = [line for line in html_to_text(page).splitlines() if line.strip()]
    assert [line for line in html_text_without_tree(page).splitlines() if line.strip()] == lines


def test_real_pages_get_a_tree() -> None:
    for name in ("article_blog.html", "feodo_error_page.html", "threatfox_error_page.html", "urlhaus_error_page.html"):
        assert not html_tree_cost((FIXTURES / name).read_text(encoding="utf-8")).costly, name
