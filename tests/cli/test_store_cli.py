"""The store commands end to end on a temporary SQLite store: db, ingest, feeds, allowlist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iocflow.cli import app
from iocflow.store.filters import IndicatorQuery
from iocflow.store.store import Store
from iocflow.store.vocabulary import IndicatorType

FIXTURES = Path(__file__).parent.parent / "ingest" / "fixtures"
runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = runner.invoke(app, ["db", "upgrade", "--database", url])
    assert result.exit_code == 0, result.output
    return url


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_db_upgrade_reports_the_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert Store(url).revision() is None  # nothing there yet
    code, _, err = invoke("db", "upgrade", "--database", url)
    revision = Store(url).revision()  # a fresh upgrade is at head (tests/store/test_store.py checks)
    assert code == 0 and revision is not None and f"revision {revision}" in err


def test_ingest_feed_file_with_detected_format_and_json_report(db: str) -> None:
    code, out, _ = invoke("ingest", "feed", str(FIXTURES / "urlhaus_recent.csv"), "--json", "--database", db)
    assert code == 0
    [report] = json.loads(out)
    assert report["source"] == "urlhaus" and report["new"] > 0 and report["rejected"] > 0 and report["failed"] is None
    assert report["rows_read"] == report["new"] + report["rejected"] + report["unchanged"] + report["updated"]
    code, out, _ = invoke("ingest", "feed", str(FIXTURES / "urlhaus_recent.csv"), "--json", "--database", db)
    [again] = json.loads(out)
    assert (again["new"], again["updated"]) == (0, 0)


def test_ingest_feed_summary_table_and_rejections(db: str) -> None:
    code, out, err = invoke("ingest", "feed", str(FIXTURES / "feodo_ipblocklist.json"), "--format", "feodo",
                            "--name", "feodo-test", "--database", db)
    assert code == 0
    assert "ingest summary" in out and "feodo-test" in out
    assert "rejected:" in err


def test_feed_source_options_are_honoured_when_the_format_is_detected(db: str) -> None:
    """--name, --category and --reliability apply whether or not --format is given (they were dropped when the
    format was detected), so a reliability-E source's confidence is capped at low."""
    code, out, _ = invoke("ingest", "feed", str(FIXTURES / "urlhaus_recent.csv"), "--name", "shady-mirror",
                          "--category", "community", "--reliability", "E", "--json", "--database", db)
    assert code == 0 and json.loads(out)[0]["source"] == "shady-mirror"
    records = list(Store(db).iter_indicators(IndicatorQuery(include_expired=True, include_allowlisted=True)))
    assert records
    for record in records:
        detail = Store(db).indicator(record.type, record.value)
        assert detail is not None
        assert {(s.feed_name, s.category, s.reliability) for s in detail.sightings} == {("shady-mirror", "community", "E")}
        assert record.confidence == "low"


def test_rss_source_options_each_apply_alone(db: str) -> None:
    """--category alone keeps the feed's title as the source name; --source alone keeps the default category."""
    code, out, _ = invoke("ingest", "rss", str(FIXTURES / "news_feed.rss"), "--no-fetch", "--category", "government",
                          "--reliability", "B", "--json", "--database", db)
    assert code == 0
    [report] = json.loads(out)
    assert report["new"] >= 3 and report["source"] not in ("articles", "news_feed.rss")
    store = Store(db)
    sources = {(s.feed_name, s.category, s.reliability)
               for record in store.iter_indicators(IndicatorQuery(include_expired=True, include_allowlisted=True))
               for s in store.indicator(record.type, record.value).sightings}  # type: ignore[union-attr]
    assert sources == {(report["source"], "government", "B")}


def test_a_broken_feed_fails_with_exit_1_and_stores_nothing(db: str) -> None:
    code, _, err = invoke("ingest", "feed", str(FIXTURES / "threatfox_recent_truncated.json"), "--format", "threatfox",
                          "--database", db)
    assert code == 1 and "not valid JSON" in err
    assert Store(db).count() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "feed", "x.csv", "--format", "nosuch"], "unknown feed format"),
        (["feeds", "add", "f", "--format", "nosuch"], "unknown feed format"),
        (["ingest", "xdr", "/nonexistent/body.json"], "No such file"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(db: str, args: list[str], message: str) -> None:
    code, _, err = invoke(*args, "--database", db)
    assert code == 2 and message in err


def test_unmigrated_or_bad_database_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = invoke("allowlist", "list", "--database", f"sqlite:///{tmp_path / 'new.db'}")
    assert code == 2 and "iocflow db upgrade" in err
    code, _, err = invoke("allowlist", "list", "--database", "mysql://x@y/z")
    assert code == 2 and "unsupported database" in err


def test_ingest_article_and_rss_files(db: str) -> None:
    code, out, _ = invoke("ingest", "article", str(FIXTURES / "article_blog.html"), "--category", "vendor", "--json",
                          "--database", db)
    assert code == 0 and json.loads(out)[0]["new"] >= 8
    code, out, _ = invoke("ingest", "rss", str(FIXTURES / "news_feed.rss"), "--no-fetch", "--json", "--database", db)
    assert code == 0 and json.loads(out)[0]["new"] >= 3
    store = Store(db)
    detail = store.indicator(IndicatorType.IPV4, "185.220.101.47")
    assert detail is not None
    [sighting] = detail.sightings
    assert (sighting.feed_name, sighting.category) == ("articles", "vendor")


def test_ingest_xdr_body(db: str, tmp_path: Path) -> None:
    body = tmp_path / "push.json"
    body.write_text(json.dumps({"request_data": [{"indicator": "evil-cdn.top", "type": "DOMAIN_NAME"},
                                                 {"indicator": "nope", "type": "IP"}], "validate": True}))
    code, out, _ = invoke("ingest", "xdr", str(body), "--database", db)
    assert code == 1 and json.loads(out)["reply"]["success"] is False
    body.write_text(json.dumps({"request_data": [{"indicator": "evil-cdn.top", "type": "DOMAIN_NAME"}]}))
    code, out, _ = invoke("ingest", "xdr", str(body), "--database", db)
    assert code == 0 and json.loads(out) == {"reply": {"success": True, "validation_errors": []}}
    body.write_text("{not json")
    code, _, err = invoke("ingest", "xdr", str(body), "--database", db)
    assert code == 2 and "not JSON" in err


def test_feeds_add_list_run_remove(db: str) -> None:
    feed = f"file://{FIXTURES / 'threatfox_recent.json'}"
    code, _, err = invoke("feeds", "add", "tf", "--format", "threatfox", "--url", feed, "--every", "30", "--database", db)
    assert code == 0 and "added feed 'tf'" in err
    code, _, err = invoke("feeds", "add", "tf", "--format", "threatfox", "--url", feed, "--database", db)
    assert code == 2 and "already exists" in err
    code, out, _ = invoke("feeds", "run", "--json", "--database", db)
    assert code == 0 and json.loads(out)[0]["source"] == "tf" and json.loads(out)[0]["new"] > 0
    code, out, err = invoke("feeds", "run", "--database", db)
    assert code == 0 and "no feed is due" in err
    code, out, _ = invoke("feeds", "list", "--json", "--database", db)
    [listed] = json.loads(out)
    assert (listed["name"], listed["format"], listed["interval_minutes"]) == ("tf", "threatfox", 30)
    assert listed["last_status"].startswith("ok:") and listed["last_run_at"] is not None
    code, out, _ = invoke("feeds", "run", "--all", "--json", "--database", db)
    assert code == 0 and json.loads(out)[0]["new"] == 0
    code, _, _ = invoke("feeds", "remove", "tf", "--database", db)
    assert code == 0
    code, _, err = invoke("feeds", "remove", "tf", "--database", db)
    assert code == 2 and "no feed named" in err


def test_allowlist_commands(db: str) -> None:
    invoke("ingest", "feed", str(FIXTURES / "feodo_ipblocklist.json"), "--format", "feodo", "--database", db)
    store = Store(db)
    target = next(r for r in _ips(store) if not r[1])[0]
    code, _, err = invoke("allowlist", "add", target, "--reason", "our scanner", "--database", db)
    assert code == 0 and "allowlisted" in err
    detail = store.indicator(IndicatorType.IPV4, target)
    assert detail is not None
    row = detail.record
    assert row.allowlisted and row.allowlist_reason == "operator allowlist: our scanner"
    code, out, _ = invoke("allowlist", "list", "--json", "--database", db)
    assert [(e["value"], e["reason"]) for e in json.loads(out)] == [(target, "our scanner")]
    code, _, err = invoke("allowlist", "add", "two words", "--database", db)
    assert code == 2 and "no spaces" in err
    code, _, _ = invoke("allowlist", "remove", target, "--database", db)
    assert code == 0
    detail = store.indicator(IndicatorType.IPV4, target)
    assert detail is not None and not detail.record.allowlisted


def _ips(store: Store) -> list[tuple[str, bool]]:
    """Every stored IPv4 value with its allowlisted flag."""
    query = IndicatorQuery(types=(IndicatorType.IPV4,), include_allowlisted=True, include_expired=True)
    return [(r.value, r.allowlisted) for r in store.iter_indicators(query)]


def test_downloads_use_the_http_settings(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import http.server
    import threading

    from iocflow.settings import get_settings

    requests: list[dict[str, str]] = []
    page = b"<html><body><article><p>The loader beacons to update-cdn-sync.top every hour.</p></article></body></html>"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            requests.append(dict(self.headers))
            if len(requests) == 1:  # the first attempt fails: the retry setting is what saves the run
                self.send_response(503)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("IOCFLOW_USER_AGENT", "soc-pipeline/2")
    monkeypatch.setenv("IOCFLOW_HTTP_HEADERS", '{"127.0.0.1": {"Auth-Key": "k-123"}}')
    monkeypatch.setenv("IOCFLOW_HTTP_RETRIES", "1")
    get_settings.cache_clear()
    try:
        code, _, err = invoke("ingest", "article", f"http://127.0.0.1:{server.server_port}/report.html", "--database", db)
    finally:
        server.shutdown()
        get_settings.cache_clear()
    assert code == 0, err
    assert len(requests) == 2
    assert {(r["User-Agent"], r["Auth-Key"]) for r in requests} == {("soc-pipeline/2", "k-123")}
    assert Store(db).indicator(IndicatorType.DOMAIN, "update-cdn-sync.top") is not None
