"""`iocflow keys`, `iocflow lookup` and `iocflow db load-samples` on a temporary store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iocflow.cli import app
from iocflow.store.store import Store

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'api-cli.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--database", url]).exit_code == 0
    return url


def test_keys_create_list_revoke(db: str) -> None:
    created = runner.invoke(app, ["keys", "create", "siem", "--tier", "pro", "--scope", "read:iocs",
                                  "--scope", "read:stix", "--database", db])
    assert created.exit_code == 0
    secret = created.stdout.strip()
    assert secret.startswith("sk_live_") and len(secret) > 40
    store = Store(db)
    key = store.authenticate(secret)
    assert key is not None and key.tier == "pro" and key.scopes == ("read:iocs", "read:stix")
    listed = runner.invoke(app, ["keys", "list", "--json", "--database", db])
    assert listed.exit_code == 0 and secret not in listed.stdout
    assert [(k["prefix"], k["tier"]) for k in json.loads(listed.stdout)] == [(key.prefix, "pro")]
    assert runner.invoke(app, ["keys", "revoke", key.prefix, "--database", db]).exit_code == 0
    assert store.authenticate(secret) is None
    assert store.keys()[0].revoked_at is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["keys", "create", "x", "--tier", "gold"], "unknown tier"),
        (["keys", "create", "x", "--scope", "write:everything"], "unknown scope"),
        (["keys", "revoke", "sk_live_nope"], "no API key"),
        (["lookup", "not an indicator at all"], "not a valid indicator"),
    ],
)
def test_errors_exit_2(db: str, args: list[str], message: str) -> None:
    result = runner.invoke(app, [*args, "--database", db])
    assert result.exit_code == 2 and message in result.stderr


def test_load_samples_then_lookup(db: str) -> None:
    loaded = runner.invoke(app, ["db", "load-samples", "--json", "--database", db])
    assert loaded.exit_code == 0
    reports = json.loads(loaded.stdout)
    assert {r["source"] for r in reports} >= {"sample-urlhaus", "sample-feodo", "sample-threatfox", "sample-stix"}
    assert all(r["failed"] is None for r in reports) and sum(r["new"] for r in reports) > 40
    again = json.loads(runner.invoke(app, ["db", "load-samples", "--json", "--database", db]).stdout)
    assert sum(r["new"] for r in again) == 0
    found = runner.invoke(app, ["lookup", "hxxps://paper-lantern[.]top/gate.php", "--database", db])
    assert found.exit_code == 0
    answer = json.loads(found.stdout)
    assert answer["known"] is True and answer["type"] == "url" and answer["value"] == "https://paper-lantern.top/gate.php"
    assert answer["risk_score"] in {"low", "medium", "high", "critical"} and answer["risk_reasons"]
    unknown = json.loads(runner.invoke(app, ["lookup", "never-seen-before.top", "--database", db]).stdout)
    assert unknown["known"] is False and unknown["risk_score"] == "unknown" and unknown["sources"] == []
