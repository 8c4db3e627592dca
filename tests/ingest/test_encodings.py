"""Feed documents in other encodings than UTF-8, and runs where every row is rejected.

The rules (``iocflow.ingest.feeds.base``): a byte order mark names the
encoding (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE); without one, the zero bytes
around the first ASCII characters tell UTF-16 and UTF-32 apart from UTF-8;
otherwise a document is UTF-8. A CSV line that is not UTF-8 is read as
Windows-1252, with a warning in the report; a JSON document that is not UTF-8
fails. A run that read rows and rejected every one exits 1 and says so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iocflow.cli import app
from iocflow.exceptions import FeedError
from iocflow.ingest.feeds import feodo, threatfox, urlhaus
from iocflow.ingest.feeds.base import sniff_encoding, text_lines
from iocflow.ingest.feeds.registry import detect_format
from iocflow.ingest.report import Parsed

FIXTURES = Path(__file__).parent / "fixtures"
LATIN1 = FIXTURES / "urlhaus_recent_latin1.csv"
URLHAUS = FIXTURES / "urlhaus_recent.csv"
FEODO = FIXTURES / "feodo_ipblocklist.csv"
THREATFOX = FIXTURES / "threatfox_recent.json"
WARNING = "5 lines are not UTF-8 and read as Windows-1252 (Latin-1): lines 10, 11, 12, 13, 14"
runner = CliRunner()

#: (codec, BOM): every encoding a document may come in, with and without its mark.
ENCODINGS = [
    pytest.param("utf-16-le", b"\xff\xfe", id="utf-16-le-bom"),
    pytest.param("utf-16-be", b"\xfe\xff", id="utf-16-be-bom"),
    pytest.param("utf-32-le", b"\xff\xfe\x00\x00", id="utf-32-le-bom"),
    pytest.param("utf-32-be", b"\x00\x00\xfe\xff", id="utf-32-be-bom"),
    pytest.param("utf-8", b"\xef\xbb\xbf", id="utf-8-bom"),
    pytest.param("utf-16-le", b"", id="utf-16-le"),
    pytest.param("utf-16-be", b"", id="utf-16-be"),
    pytest.param("utf-32-le", b"", id="utf-32-le"),
    pytest.param("utf-32-be", b"", id="utf-32-be"),
]


def recoded(path: Path, codec: str, bom: bytes) -> bytes:
    return bom + path.read_bytes().decode("utf-8-sig").encode(codec)


def summary(parsed: Parsed) -> tuple[list[tuple[str, str, str | None, tuple[str, ...]]], list[str]]:
    return ([(o.type.value, o.value, o.reporter, o.tags) for o in parsed.observations],
            [str(e) for e in parsed.errors])


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'enc.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--database", url]).exit_code == 0
    return url


def ingest(db: str, path: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["ingest", "feed", str(path), "--database", db, *args])
    return result.exit_code, result.stdout, result.stderr


# -- Latin-1 / Windows-1252 CSV ---------------------------------------------------------------


def test_a_latin1_csv_is_read_with_a_warning() -> None:
    parsed = urlhaus.parse(LATIN1.read_bytes())
    assert parsed.rows_read == 5
    assert [(o.reporter, o.tags) for o in parsed.observations] == [
        ("José_Álvarez", ("elf", "Mirai", "malware_download")),
        ("Sécurité_Québec", ("Qakbot", "zip", "malware_download")),
        ("anonymous", ("elf", "Gafgyt", "Müller-Botnetz", "malware_download")),
        ("Jürgen_Weiß", ("exe", "AgentTesla", "malware_download")),
    ]
    assert [e.line for e in parsed.errors] == [14]  # the invalid URL the fixture carries, not the encoding
    assert parsed.warnings == [WARNING]


def test_a_latin1_csv_through_the_cli(db: str) -> None:
    code, out, err = ingest(db, LATIN1, "--json")
    assert code == 0, err
    [report] = json.loads(out)
    assert (report["new"], report["rejected"], report["all_rejected"]) == (4, 1, False)
    assert report["warnings"] == [WARNING]
    code, _, err = ingest(db, LATIN1)
    assert code == 0 and "warning:" in err and "Windows-1252" in err


def test_only_the_lines_that_are_not_utf8_are_read_as_windows_1252() -> None:
    data = "é\n".encode() + "é\n".encode("cp1252") + b"\x80 \x93q\x94 \x81\n" + "ok".encode()
    text, warning = text_lines(data)
    assert text.split("\n") == ["é", "é", "€ “q” \x81", "ok"]  # 0x81 is not Windows-1252: read as Latin-1
    assert warning == "2 lines are not UTF-8 and read as Windows-1252 (Latin-1): lines 2, 3"
    assert text_lines(b"ok\n\xe9") == ("ok\né", "1 line is not UTF-8 and read as Windows-1252 (Latin-1): line 2")
    assert text_lines("é\n".encode()) == ("é\n", None)


# -- UTF-16 and UTF-32 ------------------------------------------------------------------------


@pytest.mark.parametrize(("codec", "bom"), ENCODINGS)
@pytest.mark.parametrize("path", [URLHAUS, FEODO, THREATFOX], ids=["urlhaus-csv", "feodo-csv", "threatfox-json"])
def test_the_same_rows_in_every_encoding(path: Path, codec: str, bom: bytes) -> None:
    data = recoded(path, codec, bom)
    fmt = detect_format(data)
    assert fmt.name == path.name.split("_")[0]
    original, parsed = fmt.parse(path.read_bytes(), None), fmt.parse(data, None)
    assert summary(parsed) == summary(original) and parsed.rows_read == original.rows_read
    assert parsed.observations and parsed.warnings == []


@pytest.mark.parametrize(("codec", "bom"), ENCODINGS)
def test_sniff(codec: str, bom: bytes) -> None:
    assert sniff_encoding(bom + '# id,url'.encode(codec)) == (codec, len(bom))


def test_sniff_defaults_to_utf8() -> None:
    assert sniff_encoding(b"# id") == ("utf-8", 0)
    assert sniff_encoding("é,".encode("cp1252")) == ("utf-8", 0)
    assert sniff_encoding(b"") == ("utf-8", 0)


@pytest.mark.parametrize("given_format", [[], ["--format", "urlhaus"]], ids=["detected", "given"])
def test_a_utf16_file_through_the_cli(db: str, tmp_path: Path, given_format: list[str]) -> None:
    path = tmp_path / "urlhaus-utf16.csv"
    path.write_bytes(recoded(URLHAUS, "utf-16-le", b"\xff\xfe"))
    code, out, err = ingest(db, path, "--json", *given_format)
    assert code == 0, err
    [report] = json.loads(out)
    assert report["failed"] is None and report["new"] == 5 and report["rejected"] == 3


def test_a_truncated_utf16_document_fails_as_a_whole() -> None:
    data = recoded(URLHAUS, "utf-16-le", b"\xff\xfe")[:-1]
    with pytest.raises(FeedError, match="not valid UTF-16-LE"):
        urlhaus.parse(data)


def test_json_that_is_not_utf8_fails_with_the_reason() -> None:
    data = THREATFOX.read_bytes().replace(b"Cobalt Strike", "Cobalt Strïke".encode("latin-1"))
    with pytest.raises(FeedError, match=r"not valid JSON: not UTF-8 \(JSON is UTF-8 by RFC 8259"):
        threatfox.parse(data)


# -- every row rejected -----------------------------------------------------------------------


def test_a_run_where_every_row_is_rejected_exits_1(db: str, tmp_path: Path) -> None:
    path = tmp_path / "feodo-bad.csv"
    path.write_text('"first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"\n'
                    '"2024-05-01 10:00:00","999.1.1.1","443","online","2024-05-01","QakBot"\n'
                    '"2024-05-01 10:00:00","998.1.1.1","443","online","2024-05-01","QakBot"\n')
    code, out, err = ingest(db, path, "--format", "feodo", "--json")
    assert code == 1
    [report] = json.loads(out)
    assert (report["rows_read"], report["rejected"], report["new"], report["all_rejected"]) == (2, 2, 0, True)
    assert "every row was rejected" in err
    code, out, err = ingest(db, path, "--format", "feodo")
    assert code == 1 and "all rejected" in out and "every row was rejected (2)" in err


def test_an_empty_run_and_a_partly_rejected_run_exit_0(db: str, tmp_path: Path) -> None:
    path = tmp_path / "feodo-empty.csv"
    path.write_text('"first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"\n')
    code, out, _ = ingest(db, path, "--format", "feodo", "--json")
    assert code == 0 and json.loads(out)[0]["all_rejected"] is False
    code, out, _ = ingest(db, FEODO, "--json")
    [report] = json.loads(out)
    assert code == 0 and report["rejected"] > 0 and report["new"] > 0 and report["all_rejected"] is False


def test_feodo_module_reads_latin1_too() -> None:
    data = FEODO.read_bytes().decode("utf-8-sig").replace("QakBot", "QakBöt").encode("cp1252")
    parsed = feodo.parse(data)
    assert {o.malware for o in parsed.observations} >= {"QakBöt"}
    assert parsed.warnings and "Windows-1252" in parsed.warnings[0]
