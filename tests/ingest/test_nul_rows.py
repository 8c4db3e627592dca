"""A feed row holding a NUL character is rejected with its line; the other rows are stored, on both databases.

PostgreSQL refuses NUL in text (and ``\\u0000`` in JSONB) where SQLite stores
it, so one such row used to abort the whole batch on PostgreSQL with a
traceback. ``Parsed.add``, where every parser puts its rows, now refuses the row
on every database alike.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from iocflow.ingest import articles
from iocflow.ingest.report import Parsed, nul_field
from iocflow.ingest.service import ingest_feed, ingest_rss
from iocflow.store.filters import EVERYTHING, ArticleQuery
from iocflow.store.records import Article, Observation
from iocflow.store.store import Store
from iocflow.store.vocabulary import IndicatorType
from tests.store.conftest import postgres_schema_url, store  # noqa: F401 - the fixtures: SQLite and PostgreSQL

NUL = "\x00"
VALID = 990
BANNER = ["#" * 20, "# abuse.ch URLhaus Database Dump (CSV - recent URLs only)", "#",
          "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter"]


def _urlhaus_row(number: int, *, reporter: str = "geenensp", tags: str = "elf", url: str | None = None) -> str:
    url = url or f"http://nul-{number}.top/bins/x86"
    return (f'"{number}","2024-05-01 12:00:00","{url}","online","","malware_download","{tags}",'
            f'"https://urlhaus.abuse.ch/url/{number}/","{reporter}"')


def urlhaus_csv(bad: Callable[[int], str], at: int = 500) -> tuple[bytes, int]:
    """A URLhaus CSV dump of 990 valid rows with ``bad(n)`` in the middle, and the bad row's line."""
    rows = [_urlhaus_row(n) for n in range(VALID)]
    rows.insert(at, bad(VALID))
    return ("\r\n".join([*BANNER, *rows]) + "\r\n").encode(), len(BANNER) + at + 1


def threatfox_json(bad: dict[str, object]) -> bytes:
    """A ThreatFox export keyed by id: 990 valid domains and, under id 990, one ``bad`` entry."""
    def entry(number: int, **fields: object) -> list[dict[str, object]]:
        return [{"ioc_value": f"nul-{number}.top", "ioc_type": "domain", "threat_type": "botnet_cc",
                 "malware": "win.sliver", "malware_printable": "Sliver", "first_seen_utc": "2024-05-01 10:00:00",
                 "confidence_level": 100, "tags": "c2", "reporter": "abuse_ch"} | fields]
    doc = {str(n): entry(n) for n in range(VALID)}
    doc[str(VALID)] = entry(VALID, **bad)
    return orjson.dumps(doc)


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        pytest.param(lambda n: _urlhaus_row(n, reporter=f"geen{NUL}ensp"), "reporter", id="reporter"),
        pytest.param(lambda n: _urlhaus_row(n, tags=f"elf,mi{NUL}ps"), "tags", id="tags"),
        pytest.param(lambda n: _urlhaus_row(n, url=f"http://nul-bad.top/{NUL}x"), "url", id="url"),
    ],
)
def test_urlhaus_csv_row_with_a_nul(
    store: Store, tmp_path: Path, bad: Callable[[int], str], field: str  # noqa: F811
) -> None:
    data, line = urlhaus_csv(bad)
    path = tmp_path / "urlhaus.csv"
    path.write_bytes(data)
    report, _ = ingest_feed(store, str(path))
    assert report.failed is None, report.failed
    assert (report.rows_read, report.new, report.rejected) == (VALID + 1, VALID, 1)
    [error] = report.errors
    assert error.startswith(f"line {line}: ") and field in error
    assert "NUL" in error or "not a valid url" in error
    assert store.count(EVERYTHING) == VALID


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        pytest.param({"tags": f"c2,bad{NUL}tag"}, "tags", id="tags"),
        pytest.param({"malware_printable": f"Sli{NUL}ver"}, "malware", id="malware"),
        pytest.param({"reference": f"https://example.com/{NUL}"}, "extra", id="extra"),
    ],
)
def test_threatfox_json_row_with_a_nul(
    store: Store, tmp_path: Path, bad: dict[str, object], field: str  # noqa: F811
) -> None:
    data = threatfox_json(bad)
    assert b"\\u0000" in data  # the JSON escape, as a JSON producer writes it
    path = tmp_path / "threatfox.json"
    path.write_bytes(data)
    report, _ = ingest_feed(store, str(path))
    assert report.failed is None, report.failed
    assert (report.rows_read, report.new, report.rejected) == (VALID + 1, VALID, 1)
    assert report.errors == [f"line {VALID}: {field} holds a NUL character ('nul-{VALID}.top')"]
    assert store.count(EVERYTHING) == VALID


def test_rss_entry_with_a_nul_in_its_link_is_rejected(store: Store, tmp_path: Path) -> None:  # noqa: F811
    """The entry with a NUL in its link is rejected; NULs in the feed's and an entry's title become spaces."""
    feed = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>NUL{NUL} Research</title>
      <link>https://nul-research.example/</link>
      <item><title>Good{NUL}entry</title><link>https://nul-research.example/a</link>
        <description>C2 at nul-rss-a.top today.</description></item>
      <item><title>Bad</title><link>https://nul-research.example/{NUL}b</link>
        <description>C2 at nul-rss-b.top today.</description></item>
    </channel></rss>""".encode()
    assert [NUL in (e.link or "") for e in articles.read_news_feed(feed).entries] == [False, True]
    path = tmp_path / "feed.rss"
    path.write_bytes(feed)
    report = ingest_rss(store, str(path), fetch_pages=False)
    assert report.failed is None and report.new >= 1 and report.rejected == 1
    assert report.source == "NUL  Research"
    assert store.indicator(IndicatorType.DOMAIN, "nul-rss-a.top") is not None
    assert store.indicator(IndicatorType.DOMAIN, "nul-rss-b.top") is None
    assert [a.title for a in store.articles(ArticleQuery(), limit=5).items] == ["Good entry"]


# -- the one check ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({}, None, id="clean"),
        pytest.param({"comment": f"a{NUL}"}, "comment", id="comment"),
        pytest.param({"context": f"{NUL}"}, "context", id="context"),
        pytest.param({"ref": f"1{NUL}"}, "ref", id="ref"),
        pytest.param({"techniques": ("T1059", f"T{NUL}")}, "techniques", id="techniques"),
        pytest.param({"extra": {"as": [1, {"name": f"x{NUL}"}]}}, "extra", id="extra-nested"),
        pytest.param({"extra": {f"k{NUL}": 1}}, "extra", id="extra-key"),
        pytest.param({"article": Article(title=f"t{NUL}", url=None)}, "article title", id="article-title"),
    ],
)
def test_nul_field_names_the_field(fields: dict[str, object], expected: str | None) -> None:
    assert nul_field(Observation(IndicatorType.DOMAIN, "evil.top", **fields)) == expected  # type: ignore[arg-type]


def test_add_rejects_the_whole_row() -> None:
    parsed = Parsed()
    good = Observation(IndicatorType.IPV4, "45.155.205.1")
    assert parsed.add(good, Observation(IndicatorType.IPV4, "45.155.205.2"), line=3)
    assert not parsed.add(good, Observation(IndicatorType.IPV4, "45.155.205.3", malware=f"x{NUL}"), line=4,
                          where="id 7: ")
    assert len(parsed.observations) == 2
    assert [str(e) for e in parsed.errors] == ["line 4: id 7: malware holds a NUL character ('45.155.205.3')"]
