"""`iocflow extract`: inputs, formats, options and errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iocflow.cli import app
from tests.documents import pdf_with_text
from tests.hostile_documents import bomb_pdf

runner = CliRunner()
SAMPLE = Path(__file__).resolve().parents[2] / "src" / "iocflow" / "samples" / "sample-report.txt"


def test_json_is_the_ioc_finder_shape_for_stdin() -> None:
    result = runner.invoke(app, ["extract", "-"], input="drop at hxxp://evil[.]com/a and 8.8.8.8")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["urls"] == ["http://evil.com/a"]
    assert data["ipv4s"] == ["8.8.8.8"]
    assert data["attack_techniques"] == {"pre_attack": [], "enterprise": [], "mobile": []}


def test_jsonl_and_csv_give_one_record_per_indicator(tmp_path: Path) -> None:
    report = tmp_path / "r.txt"
    report.write_text("evil[.]com 9e107d9d372bb6826bd81d3542a419d6")
    lines = runner.invoke(app, ["extract", str(report), "-f", "jsonl"]).stdout.splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["type"], r["value"], r["defanged"]) for r in records] == [("domain", "evil.com", True), ("md5", "9e107d9d372bb6826bd81d3542a419d6", False)]
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, ["extract", str(report), "-f", "csv"]).stdout)))
    assert rows[0]["raw"] == "evil[.]com" and rows[0]["source"] == str(report)


def test_types_and_no_refang_options(tmp_path: Path) -> None:
    report = tmp_path / "r.txt"
    report.write_text("evil[.]com plain.org 1.2.3.4")
    only_ips = json.loads(runner.invoke(app, ["extract", str(report), "--types", "ipv4"]).stdout)
    assert only_ips["ipv4s"] == ["1.2.3.4"] and only_ips["domains"] == []
    literal = json.loads(runner.invoke(app, ["extract", str(report), "--no-refang"]).stdout)
    assert literal["domains"] == ["plain.org"]


def test_folders_are_walked_recursively_with_workers(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one.txt").write_text("one.example.com")
    (tmp_path / "a" / "b" / "two.html").write_text("<html><body><a href='http://two.example.org/x'>x</a></body></html>")
    result = runner.invoke(app, ["extract", str(tmp_path), "--workers", "2", "-f", "jsonl"])
    assert result.exit_code == 0, result.output
    values = {json.loads(line)["value"] for line in result.stdout.splitlines()}
    assert {"one.example.com", "http://two.example.org/x", "two.example.org"} <= values


def test_unknown_type_is_a_clear_error() -> None:
    result = runner.invoke(app, ["extract", "-", "--types", "ipv4,nonsense"], input="1.2.3.4")
    assert result.exit_code == 2
    assert "unknown indicator type 'nonsense'" in result.output


def test_unreadable_path_exits_non_zero_but_still_reports_the_others(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("8.8.4.4")
    result = runner.invoke(app, ["extract", str(good), str(tmp_path / "missing.txt")])
    assert result.exit_code == 2
    assert "missing.txt: no such file or directory" in result.output
    assert "8.8.4.4" in result.stdout


def test_bundled_sample_report_extracts() -> None:
    data = json.loads(runner.invoke(app, ["extract", str(SAMPLE)]).stdout)
    assert "CVE-2023-23397" in data["cves"]
    assert "HKCU\\Volatile Environment" in data["registry_key_paths"]
    assert "setup.exe" not in data["domains"]


def test_min_confidence_low_includes_file_name_like_domains() -> None:
    default = json.loads(runner.invoke(app, ["extract", "-"], input="run main.py now").stdout)
    assert default["domains"] == []
    low = json.loads(runner.invoke(app, ["extract", "-", "--min-confidence", "low"], input="run main.py now").stdout)
    assert low["domains"] == ["main.py"]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_decompression_bomb_is_one_files_error_the_others_still_reported(tmp_path: Path, workers: str) -> None:
    """Issue 12 item 8: pypdf's limit error used to end the run (exit 1) and lose good.pdf's results."""
    good = tmp_path / "good.pdf"
    good.write_bytes(pdf_with_text("C2 at 198.51.100.23"))
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(bomb_pdf())
    result = runner.invoke(app, ["extract", str(good), str(bomb), "--workers", workers, "-f", "jsonl"])
    assert result.exit_code == 2, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert ("ipv4", "198.51.100.23", str(good)) in {(r["type"], r["value"], r["source"]) for r in records}
    assert f"{bomb}: cannot read PDF" in result.stderr
    assert "decompression bomb" in result.stderr


def test_a_decompression_bomb_on_standard_input_is_an_error_not_a_crash() -> None:
    result = runner.invoke(app, ["extract", "-"], input=bomb_pdf())
    assert result.exit_code == 2
    assert "cannot read PDF" in result.stderr
