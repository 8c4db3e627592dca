"""Articles: main text without boilerplate, indicators with their sentence, ATT&CK and industry tags; RSS/Atom."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from iocflow.exceptions import FeedError
from iocflow.ingest.articles import (
    article_observations,
    industries_in,
    read_article,
    read_news_feed,
    sentence_around,
)
from iocflow.ingest.fetch import make_client
from iocflow.ingest.service import ingest_article, ingest_rss
from iocflow.store.store import Store
from iocflow.store.vocabulary import IndicatorType
from tests.documents import pdf_with_text

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 3, 10, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    st = Store(f"sqlite:///{tmp_path / 'a.db'}")
    st.upgrade()
    return st


def test_html_article_keeps_the_article_and_drops_the_chrome() -> None:
    article = read_article((FIXTURES / "article_blog.html").read_bytes(), url="https://research.example-vendor.io/a")
    assert article.title == "Operation Paper Lantern: a loader aimed at regional banks"
    assert "beacons to hxxps://paper-lantern[.]top/gate.php" in article.text
    assert "vendor-blog-chrome" not in article.text and "analytics.vendor-chrome" not in article.text


def test_article_indicators_carry_sentence_techniques_and_industries() -> None:
    article = read_article((FIXTURES / "article_blog.html").read_bytes(), url="https://research.example-vendor.io/a")
    parsed = article_observations(article, now=NOW)
    found = {(o.type, o.value) for o in parsed.observations}
    assert {
        (IndicatorType.URL, "https://paper-lantern.top/gate.php"),
        (IndicatorType.IPV4, "185.220.101.47"),
        (IndicatorType.DOMAIN, "files-sync-cdn.xyz"),
        (IndicatorType.SHA256, "5f2b7e3c9d1a4e6b8c0d2f4a6b8c0e2d4f6a8b0c2e4d6f8a0b2c4e6d8f0a2b4c"),
        (IndicatorType.MD5, "9b1c3e5a7d9f1b3c5e7a9d1f3b5c7e9a"),
        (IndicatorType.CVE, "CVE-2025-24813"),
        (IndicatorType.EMAIL, "abuse-reports@paper-lantern.top"),
        (IndicatorType.MITRE_ATTACK, "T1566.001"),
    } <= found
    ip = next(o for o in parsed.observations if o.value == "185.220.101.47")
    assert ip.context == "Its second stage is served from 185.220.101[.]47, and exfiltrated archives go to files-sync-cdn[.]xyz over HTTPS."
    assert ip.techniques == ("T1566.001", "T1574.002")
    assert ip.industries == ("finance", "healthcare")
    assert ip.article is not None and ip.article.url == "https://research.example-vendor.io/a"
    assert ip.first_seen == NOW


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Attacks on banks and a water utility.", ("finance", "water")),
        ("The telecom and defense sectors", ("telecom", "defense")),
        ("bankruptcy is not banking; schooling is not a school", ("finance", "education")),
        ("nothing relevant here", ()),
    ],
)
def test_industry_words(text: str, expected: tuple[str, ...]) -> None:
    assert industries_in(text) == expected


def test_every_industry_of_the_vocabulary_has_its_words() -> None:
    from iocflow.ingest.articles import INDUSTRY_WORDS
    from iocflow.store.vocabulary import INDUSTRIES

    assert tuple(INDUSTRY_WORDS) == INDUSTRIES


def test_sentence_of_an_ioc_list_is_bounded() -> None:
    text = "IOCs: " + " ".join(f"10.0.0.{i}" for i in range(200))
    start = text.index("10.0.0.100")
    sentence = sentence_around(text, start, start + len("10.0.0.100"))
    assert "10.0.0.100" in sentence and len(sentence) <= 300


def test_pdf_articles_are_read() -> None:
    article = read_article(pdf_with_text("Beacon to 45.155.205.233 and hxxp://bad-host[.]org/x"), name="report.pdf")
    assert {o.value for o in article_observations(article).observations} >= {"45.155.205.233", "http://bad-host.org/x"}


@pytest.mark.parametrize("data", [b"", b"   \n ", b"<html><body><nav></nav></body></html>", b"%PDF-1.4 broken"])
def test_documents_without_text_are_a_feed_error(data: bytes) -> None:
    with pytest.raises(FeedError):
        read_article(data, name="empty.html")


def test_article_ingest_from_a_file(store: Store) -> None:
    report = ingest_article(store, str(FIXTURES / "article_blog.html"), now=NOW)
    assert report.ok and report.new >= 8 and report.rejected == 0
    again = ingest_article(store, str(FIXTURES / "article_blog.html"), now=NOW)
    assert (again.new, again.updated) == (0, 0)
    detail = store.indicator(IndicatorType.IPV4, "185.220.101.47")
    assert detail is not None
    row = detail.record
    assert row.industries == ("finance", "healthcare") and row.techniques == ("T1566.001", "T1574.002")


def test_unreadable_article_fails_cleanly(store: Store, tmp_path: Path) -> None:
    report = ingest_article(store, str(tmp_path / "missing.html"))
    assert not report.ok and "cannot read" in (report.failed or "")
    assert store.count() == 0


def test_news_feed_entries() -> None:
    feed = read_news_feed((FIXTURES / "news_feed.rss").read_bytes())
    assert feed.title == "Example Threat Research"
    assert [e.title for e in feed.entries] == ["Phishing kit targets energy utilities", "Teaser only", "Broken link"]
    assert feed.entries[0].published == datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    assert "login-portal-energy" in feed.entries[0].content


def test_not_a_feed_is_a_feed_error() -> None:
    with pytest.raises(FeedError):
        read_news_feed(b"this is not xml at all {")


def test_rss_ingest_fetches_teasers_and_counts_broken_entries(store: Store) -> None:
    pages = {
        "https://research.example-vendor.io/feed": (FIXTURES / "news_feed.rss").read_bytes(),
        "https://research.example-vendor.io/posts/teaser": (
            b"<html><body><article><h1>Teaser</h1><p>The full article: the loader contacts "
            b"update-check-service[.]com and 91.92.109[.]14 over port 443.</p></article></body></html>"),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        body = pages.get(str(request.url))
        return httpx.Response(200, content=body) if body is not None else httpx.Response(404)

    with make_client(transport=httpx.MockTransport(handler)) as client:
        report = ingest_rss(store, "https://research.example-vendor.io/feed", client=client, now=NOW)
    assert report.ok and report.source == "Example Threat Research"
    assert report.rejected == 1 and "Broken link" in report.errors[0] and "404" in report.errors[0]
    assert store.indicator(IndicatorType.URL, "http://login-portal-energy.site/owa/") is not None
    teaser = store.indicator(IndicatorType.IPV4, "91.92.109.14")
    assert teaser is not None
    energy = store.indicator(IndicatorType.IPV4, "45.155.205.233")
    assert energy is not None
    assert energy.record.industries == ("energy",) and energy.record.techniques == ("T1566.002",)
    [sighting] = energy.sightings
    assert sighting.kind == "article" and "posts credentials to 45.155.205[.]233" in (sighting.context or "")


def test_rss_without_fetching_uses_feed_text(store: Store) -> None:
    report = ingest_rss(store, str(FIXTURES / "news_feed.rss"), fetch_pages=False, now=NOW)
    assert report.ok and report.rejected == 0
    assert store.indicator(IndicatorType.DOMAIN, "update-check-service.com") is not None


def test_a_page_costly_to_build_is_read_without_a_tree_on_every_ingest_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fetched pages (ingest article, RSS entries) and uploads share read_article: a page whose tree would cost
    the square of its size (40,000 attributes on one tag) never reaches trafilatura or the tree builder."""
    def no_tree(*args: object, **kwargs: object) -> None:
        raise AssertionError("the HTML tree was built")

    monkeypatch.setattr("trafilatura.extract", no_tree)
    monkeypatch.setattr("selectolax.lexbor.LexborHTMLParser", no_tree)
    attributes = " ".join(f'a{i}="{i}"' for i in range(40_000))
    sentence = "The implant beacons to 203.0.113.77 every five minutes and pulls its second stage over HTTPS."
    page = f"<html><body><div {attributes}><p>{sentence}</p><p>{sentence}</p></div></body></html>"
    text = read_article(page.encode(), url="https://blog.example/attack.html")
    assert sentence in text.text.splitlines()
