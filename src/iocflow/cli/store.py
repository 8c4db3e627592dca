"""Store commands: ``db``, ``ingest``, ``feeds`` and ``allowlist``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from iocflow.cli.common import err, fail, open_http, open_store, out
from iocflow.exceptions import FeedError
from iocflow.ingest.report import IngestReport
from iocflow.store.vocabulary import Reliability, SourceCategory

db_app = typer.Typer(help="Create and migrate the indicator store.", no_args_is_help=True)
ingest_app = typer.Typer(help="Put indicators into the store: feeds, articles, RSS/Atom, pushed JSON.", no_args_is_help=True)
feeds_app = typer.Typer(help="Configured feeds that `iocflow feeds run` ingests on schedule.", no_args_is_help=True)
allowlist_app = typer.Typer(help="Values never to serve as malicious (beside the bundled warninglists).", no_args_is_help=True)

Database = Annotated[str | None, typer.Option("--database", help="SQLAlchemy URL; default IOCFLOW_DATABASE_URL or ./data/iocflow.db.")]
Category = Annotated[SourceCategory | None, typer.Option("--category", help="What kind of publisher the source is.")]
Rating = Annotated[Reliability | None, typer.Option("--reliability", help="Admiralty reliability A-F of the source.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the run's report as JSON.")]


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(ingest_app, name="ingest")
    app.add_typer(feeds_app, name="feeds")
    app.add_typer(allowlist_app, name="allowlist")


# -- db -------------------------------------------------------------------------------------------

@db_app.command("upgrade")
def db_upgrade(database: Database = None) -> None:
    """Create the schema, or migrate it to the current version."""
    with open_store(database) as store:
        store.upgrade()
        err.print(f"store at {store.location} is at revision {store.revision()}")


#: The bundled sample data: (file in iocflow/samples, feed format or None for an article).
SAMPLES = (
    ("urlhaus_recent.csv", "urlhaus"), ("feodo_ipblocklist.json", "feodo"), ("threatfox_recent.json", "threatfox"),
    ("stix_bundle.json", "stix"), ("article_blog.html", None), ("sample-report.txt", None),
)


@db_app.command("load-samples")
def db_load_samples(as_json: AsJson = False, database: Database = None) -> None:
    """Ingest the bundled sample feeds and reports (what `make run` serves); safe to run again."""
    from importlib.resources import as_file, files

    from iocflow.ingest import service
    from iocflow.ingest.feeds.registry import get_format

    reports = []
    with open_store(database) as store:
        store.upgrade()
        for name, fmt_name in SAMPLES:
            with as_file(files("iocflow") / "samples" / name) as path:
                if fmt_name is None:
                    source = service.article_source(None, name="iocflow-samples", category=SourceCategory.RESEARCH)
                    reports.append(service.ingest_article(store, str(path), source=source))
                else:
                    fmt = get_format(fmt_name)
                    source = service.feed_source(fmt, f"sample-{fmt_name}", url=f"file://{path}")
                    reports.append(service.ingest_feed(store, str(path), fmt=fmt, source=source)[0])
    for report in reports:
        report.errors = []  # the samples carry deliberately broken rows; the table counts them
    _summary(reports, as_json)


# -- reports --------------------------------------------------------------------------------------

def _summary(reports: list[IngestReport], as_json: bool) -> None:
    """The closing table (or JSON); a failed source, or one whose every row was rejected, makes the command exit 1."""
    if as_json:
        sys.stdout.write(orjson.dumps([r.as_dict() for r in reports], option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        table = Table("source", "read", "new", "updated", "unchanged", "rejected", "status", title="ingest summary")
        for r in reports:
            status = ("[red]failed[/red]" if r.failed else "[red]all rejected[/red]" if r.all_rejected
                      else "not modified" if r.not_modified else "ok")
            table.add_row(r.source, str(r.rows_read), str(r.new), str(r.updated), str(r.unchanged), str(r.rejected), status)
        out.print(table)
        for r in reports:
            if r.failed:
                err.print(f"[red]error:[/red] {r.source}: {r.failed}")
            for warning in r.warnings:
                err.print(f"[yellow]warning:[/yellow] {r.source}: {warning}")
            for line in r.errors[:20]:
                err.print(f"[yellow]rejected:[/yellow] {r.source}: {line}")
            if len(r.errors) > 20:
                err.print(f"[yellow]rejected:[/yellow] {r.source}: ... {len(r.errors) - 20} more (use --json for all)")
    for r in reports:
        if r.all_rejected:  # on stderr with --json too: the exit status alone does not say why
            err.print(f"[red]error:[/red] {r.source}: every row was rejected ({r.rejected}) and nothing was stored; "
                      "is it the format and encoding it claims?")
    if any(r.failed or r.all_rejected for r in reports):
        raise typer.Exit(1)


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int], None]]:
    """A live bar on the terminal that advances as batches are stored."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task(label, total=None)
        yield lambda n: progress.advance(task, n)


# -- ingest ---------------------------------------------------------------------------------------

@ingest_app.command("feed")
def ingest_feed_command(
    target: Annotated[str, typer.Argument(help="A format name (urlhaus, feodo, threatfox, stix, misp) for its published URL, a URL, or a file.")],
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="The feed's format; guessed from the content when omitted.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Source name to record (default: the format's name).")] = None,
    category: Category = None,
    reliability: Rating = None,
    as_json: AsJson = False,
    database: Database = None,
) -> None:
    """Ingest one threat feed (URLhaus, Feodo Tracker, ThreatFox, STIX 2.1 bundle, MISP feed)."""
    from iocflow.ingest import service
    from iocflow.ingest.feeds.registry import get_format

    try:
        chosen, location = service.resolve_feed(target)
        if fmt is not None:
            chosen = get_format(fmt)
    except FeedError as exc:
        raise fail(str(exc)) from None
    with open_store(database) as store, open_http() as http, _progress(f"ingesting {target}") as advance:
        report, _ = service.ingest_feed(store, location, fmt=chosen, name=name, category=category,
                                        reliability=reliability, on_batch=advance, client=http.client,
                                        retries=http.retries)
    _summary([report], as_json)


@ingest_app.command("article")
def ingest_article_command(
    targets: Annotated[list[str], typer.Argument(help="Article URLs or files (HTML, PDF, text).")],
    source_name: Annotated[str | None, typer.Option("--source", help="Source name (default: the site's host name).")] = None,
    category: Category = None,
    reliability: Rating = None,
    as_json: AsJson = False,
    database: Database = None,
) -> None:
    """Extract and store the indicators of single articles."""
    from iocflow.ingest import service

    reports = []
    with open_store(database) as store, open_http() as http:
        for target in targets:
            source = service.article_source(
                target if "://" in target else None, name=source_name or (None if "://" in target else "articles"),
                category=category or SourceCategory.RESEARCH, reliability=reliability or Reliability.C,
            )
            reports.append(service.ingest_article(store, target, source=source, client=http.client,
                                                  retries=http.retries))
    _summary(reports, as_json)


@ingest_app.command("rss")
def ingest_rss_command(
    target: Annotated[str, typer.Argument(help="An RSS/Atom feed URL or file.")],
    no_fetch: Annotated[bool, typer.Option("--no-fetch", help="Use only the text in the feed; do not fetch linked pages.")] = False,
    source_name: Annotated[str | None, typer.Option("--source", help="Source name (default: the feed's title).")] = None,
    category: Category = None,
    reliability: Rating = None,
    as_json: AsJson = False,
    database: Database = None,
) -> None:
    """Ingest every entry of an RSS/Atom feed of security articles."""
    from iocflow.ingest import service

    with open_store(database) as store, open_http() as http, Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err, transient=True,
        disable=not err.is_terminal,
    ) as progress:
        task = progress.add_task(f"reading {target}", total=None)
        report = service.ingest_rss(store, target, name=source_name, category=category or SourceCategory.RESEARCH,
                                    reliability=reliability or Reliability.C, fetch_pages=not no_fetch,
                                    client=http.client, retries=http.retries,
                                    on_entry=lambda done, total: progress.update(task, completed=done, total=total))
    _summary([report], as_json)


@ingest_app.command("xdr")
def ingest_xdr_command(
    path: Annotated[str, typer.Argument(help="A JSON file holding a Cortex XDR insert_jsons request body, or - for stdin.")],
    database: Database = None,
) -> None:
    """Store indicators given in Cortex XDR's insert_jsons request shape; prints XDR's reply."""
    from iocflow.ingest.xdr import XdrRequestError, insert_jsons

    try:
        data = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()  # noqa: SIM115
        body = orjson.loads(data)
    except OSError as exc:
        raise fail(f"{path}: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise fail(f"{path}: not JSON: {exc}") from None
    with open_store(database) as store:
        try:
            reply = insert_jsons(store, body)
        except XdrRequestError as exc:
            raise fail(str(exc)) from None
    sys.stdout.write(orjson.dumps(reply.as_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
    if not reply.success:
        raise typer.Exit(1)


# -- feeds ----------------------------------------------------------------------------------------

@feeds_app.command("list")
def feeds_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
               database: Database = None) -> None:
    """Show configured feeds and how their last run went."""
    from dataclasses import asdict

    with open_store(database) as store:
        configs = store.feeds()
    if as_json:
        sys.stdout.write(orjson.dumps([asdict(c) for c in configs], option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table("name", "format", "every (min)", "category", "reliability", "enabled", "last run", "last status", "url")
    for c in configs:
        table.add_row(c.name, c.format, str(c.interval_minutes), c.category.value, c.reliability.value,
                      "yes" if c.enabled else "no", c.last_run_at.isoformat(timespec="seconds") if c.last_run_at else "never",
                      c.last_status or "", c.url)
    out.print(table)


@feeds_app.command("add")
def feeds_add(
    name: Annotated[str, typer.Argument(help="A name for the feed (also its source name).")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="urlhaus, feodo, threatfox, stix or misp.")],
    url: Annotated[str | None, typer.Option("--url", help="Where to fetch it (default: the format's published URL).")] = None,
    every: Annotated[int, typer.Option("--every", min=1, help="Minutes between runs.")] = 60,
    category: Category = None,
    reliability: Rating = None,
    database: Database = None,
) -> None:
    """Configure a feed to be ingested on a schedule."""
    from iocflow.ingest.feeds.registry import get_format
    from iocflow.store.feeds import FeedConfig

    try:
        chosen = get_format(fmt)
    except FeedError as exc:
        raise fail(str(exc)) from None
    config = FeedConfig(name, url or chosen.default_url, chosen.name, every, category or chosen.category,
                        reliability or chosen.reliability)
    with open_store(database) as store:
        store.add_feed(config)
    err.print(f"added feed {name!r} ({chosen.name}, every {every} min): {config.url}")


@feeds_app.command("remove")
def feeds_remove(name: str, database: Database = None) -> None:
    """Stop ingesting a feed (what it already brought in stays)."""
    with open_store(database) as store:
        store.remove_feed(name)
    err.print(f"removed feed {name!r}")


@feeds_app.command("run")
def feeds_run(
    all_feeds: Annotated[bool, typer.Option("--all", help="Run every enabled feed, due or not.")] = False,
    as_json: AsJson = False,
    database: Database = None,
) -> None:
    """Ingest every configured feed that is due (conditional GET: unchanged feeds cost one request)."""
    from iocflow.ingest import service
    from iocflow.ingest.feeds.registry import get_format

    reports = []
    with open_store(database) as store, open_http() as http:
        now = datetime.now(UTC)
        due = [c for c in store.feeds() if c.enabled and (all_feeds or c.due(now))]
        if not due:
            err.print("no feed is due")
        for config in due:
            fmt = get_format(config.format)
            source = service.feed_source(fmt, config.name, category=config.category,
                                         reliability=config.reliability, url=config.url)
            with _progress(f"ingesting {config.name}") as advance:
                report, fetched = service.ingest_feed(store, config.url, fmt=fmt, source=source,
                                                      etag=config.etag, last_modified=config.last_modified,
                                                      on_batch=advance, client=http.client, retries=http.retries)
            status = report.failed or ("not modified" if report.not_modified else f"ok: {report.new} new, {report.updated} updated")
            store.record_feed_run(config.name, at=now, status=status,
                       etag=fetched.etag if fetched else None,
                       last_modified=fetched.last_modified if fetched else None,
                       keep_validators=fetched is None)
            reports.append(report)
    if reports:
        _summary(reports, as_json)


# -- allowlist ------------------------------------------------------------------------------------

@allowlist_app.command("add")
def allowlist_add(
    value: Annotated[str, typer.Argument(help="An IP, CIDR, domain (covers its subdomains), hash, URL or e-mail.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why it is allowlisted.")] = None,
    database: Database = None,
) -> None:
    """Never serve VALUE as malicious; stored indicators it covers are flagged at once."""
    with open_store(database) as store:
        try:
            covered = store.add_allowlist_entry(value, reason)
        except ValueError as exc:
            raise fail(str(exc)) from None
    err.print(f"allowlisted {value!r}; {covered} stored indicators are now allowlisted in all")


@allowlist_app.command("remove")
def allowlist_remove(value: str, database: Database = None) -> None:
    """Take VALUE off the operator allowlist."""
    with open_store(database) as store:
        covered = store.remove_allowlist_entry(value)
    err.print(f"removed {value!r}; {covered} stored indicators remain allowlisted")


@allowlist_app.command("list")
def allowlist_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
                   database: Database = None) -> None:
    """Show the operator's allowlist entries (the bundled warninglists are listed in the README)."""
    from dataclasses import asdict

    with open_store(database) as store:
        entries = store.allowlist_entries()
    if as_json:
        sys.stdout.write(orjson.dumps([asdict(e) for e in entries], option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table("value", "reason", "added")
    for e in entries:
        table.add_row(e.value, e.reason or "", e.created_at.isoformat(timespec="seconds"))
    out.print(table)



