"""API commands: ``serve``, ``keys``, ``lookup``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import orjson
import typer
from rich.table import Table

from iocflow.cli.common import err, fail, open_store, out

keys_app = typer.Typer(help="API keys: create (the secret is shown once), list, revoke.", no_args_is_help=True)
Database = Annotated[str | None, typer.Option("--database", help="SQLAlchemy URL; default IOCFLOW_DATABASE_URL or ./data/iocflow.db.")]


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("lookup")(lookup)
    app.add_typer(keys_app, name="keys")


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (share limits through IOCFLOW_REDIS_URL).")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Start the REST API (uvicorn). Configuration comes from IOCFLOW_* environment variables.

    Log lines never carry an API key: key query parameters and Authorization values are redacted.
    """
    import uvicorn

    from iocflow.api.logs import log_config
    from iocflow.settings import get_settings

    settings = get_settings()
    if workers > 1 and not settings.redis_url:
        err.print("[yellow]warning:[/yellow] several workers without IOCFLOW_REDIS_URL: each counts rate limits alone")
    uvicorn.run("iocflow.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level=log_level, log_config=log_config(), proxy_headers=True)


def lookup(
    value: Annotated[str, typer.Argument(help="An indicator; defanged is fine.")],
    type_hint: Annotated[str | None, typer.Option("--type", help="A type hint, e.g. domain.")] = None,
    database: Database = None,
) -> None:
    """What the store knows about VALUE: risk score with reasons, sources, ATT&CK, hunting queries."""
    from iocflow.enrich.lookup import lookup as lookup_value

    with open_store(database) as store:
        answer = lookup_value(store, value, type_hint, now=datetime.now(UTC)).to_json()
    sys.stdout.write(orjson.dumps(answer, option=orjson.OPT_INDENT_2 | orjson.OPT_UTC_Z).decode() + "\n")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="Who or what uses the key.")],
    tier: Annotated[str, typer.Option(help="free or pro (see the tier table).")] = "free",
    scope: Annotated[list[str] | None, typer.Option("--scope", help="read:iocs, read:stix, write:indicators, extract, admin (repeatable).")] = None,
    database: Database = None,
) -> None:
    """Create a key and print its secret (shown this once; only its hash is kept)."""
    from iocflow.api.tiers import DEFAULT_SCOPES, Scope, tiers
    from iocflow.settings import get_settings

    table = tiers(get_settings().tiers)
    if tier not in table:
        raise fail(f"unknown tier {tier!r}; known: {', '.join(sorted(table))}")
    scopes = tuple(scope or DEFAULT_SCOPES)
    valid = {s.value for s in Scope}
    if bad := [s for s in scopes if s not in valid]:
        raise fail(f"unknown scope {', '.join(bad)}; known: {', '.join(sorted(valid))}")
    with open_store(database) as store:
        key, secret = store.create_key(name=name, tier=tier, scopes=scopes)
    err.print(f"created key {key.id} ({key.prefix}…, tier {key.tier}, scopes {', '.join(key.scopes)}); "
              "store the secret now, it is not shown again:")
    typer.echo(secret)


@keys_app.command("list")
def keys_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
              database: Database = None) -> None:
    """Show keys (never their secrets)."""
    from dataclasses import asdict

    with open_store(database) as store:
        keys = store.keys()
    if as_json:
        sys.stdout.write(orjson.dumps([asdict(k) for k in keys], option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table("id", "name", "prefix", "tier", "scopes", "created", "revoked")
    for k in keys:
        table.add_row(k.id, k.name, k.prefix + "…", k.tier, ", ".join(k.scopes), k.created_at.isoformat(timespec="seconds"),
                      k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "")
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="The key's id or shown prefix.")], database: Database = None) -> None:
    """Revoke a key; requests with it fail at once."""
    with open_store(database) as store:
        revoked = store.revoke_key(key)
    err.print(f"revoked key {revoked.id} ({revoked.prefix}…)")
