"""`iocflow export FORMAT`: the API's exports from the command line."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from iocflow.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('export') / 'x.db'}"
    assert runner.invoke(app, ["db", "load-samples", "--database", url]).exit_code == 0
    return url


def test_stix_to_a_file(db: str, tmp_path: Path) -> None:
    out = tmp_path / "bundle.json"
    result = runner.invoke(app, ["export", "stix", "-o", str(out), "--type", "domain,url", "--database", db])
    assert result.exit_code == 0, result.output
    bundle = orjson.loads(out.read_bytes())
    kinds = {o["type"] for o in bundle["objects"]}
    assert bundle["type"] == "bundle" and "indicator" in kinds and "identity" in kinds
    patterns = [o["pattern"] for o in bundle["objects"] if o["type"] == "indicator"]
    assert patterns and all(p.startswith(("[domain-name:value", "[url:value")) for p in patterns)


@pytest.mark.parametrize("name", ["misp", "cef", "openioc", "sigma", "xdr"])
def test_every_format_to_stdout(db: str, name: str) -> None:
    result = runner.invoke(app, ["export", name, "--confidence", "low", "--database", db])
    assert result.exit_code == 0 and result.stdout.strip()


def test_filters_narrow_the_export(db: str) -> None:
    everything = runner.invoke(app, ["export", "cef", "--database", db]).stdout.splitlines()
    ips = runner.invoke(app, ["export", "cef", "--type", "ipv4", "--database", db]).stdout.splitlines()
    assert 0 < len(ips) < len(everything) and all("|ioc:ipv4|" in line for line in ips)
    assert len(runner.invoke(app, ["export", "cef", "--limit", "2", "--database", db]).stdout.splitlines()) == 2


@pytest.mark.parametrize(("args", "message"), [
    (["export", "docx"], "unknown format"),
    (["export", "cef", "--type", "bogus"], "unknown type"),
    (["export", "cef", "--confidence", "sure"], "unknown confidence"),
])
def test_bad_arguments_exit_2(db: str, args: list[str], message: str) -> None:
    result = runner.invoke(app, [*args, "--database", db])
    assert result.exit_code == 2 and message in result.stderr
