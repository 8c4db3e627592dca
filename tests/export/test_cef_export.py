"""CEF export: every line reads back, through an independent parser, to exactly what was exported."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from iocflow import __version__
from iocflow.export import cef
from iocflow.store.records import indicator_id
from iocflow.store.views import IndicatorRecord, SourceRef
from iocflow.store.vocabulary import Confidence, IndicatorType, Reputation, Severity, SourceCategory

T = IndicatorType

NOW = datetime(2025, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
FIRST = datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)


def make(kind: IndicatorType, value: str, **changes: object) -> IndicatorRecord:
    base = IndicatorRecord(
        id=indicator_id(kind, value), type=kind, value=value, confidence=Confidence.HIGH, severity=Severity.HIGH,
        reputation=Reputation.BAD, first_seen=FIRST, last_seen=FIRST + timedelta(days=3),
        expires_at=FIRST + timedelta(days=90), tags=("apt", "c2"), techniques=("T1071.001",), industries=(),
        indicator_class="Malware", comment="seen in a phishing wave",
        source=SourceRef("urlhaus", SourceCategory.THREAT_INTEL, None, None, None, None),
    )
    return replace(base, **changes)


# ---------------------------------------------------------------- an independent CEF reader

_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_EXT_UNESCAPE = {"\\": "\\", "=": "=", "n": "\n", "r": "\r"}


def parse(line: str) -> tuple[list[str], dict[str, str]]:
    """A CEF line as its 7 header fields and its extension, unescaped; strict about escapes."""
    assert "\n" not in line and "\r" not in line, "a CEF event is one line"
    header: list[str] = []
    buf: list[str] = []
    i = 0
    while len(header) < 7:
        ch = line[i]
        if ch == "\\":
            assert line[i + 1] in "\\|", f"invalid header escape at {i}"
            buf.append(line[i + 1])
            i += 2
        elif ch == "|":
            header.append("".join(buf))
            buf = []
            i += 1
        else:
            buf.append(ch)
            i += 1
    return header, parse_extension(line[i:])


def _segments(text: str) -> list[str]:
    """The extension cut at every unescaped '=' (escapes kept raw)."""
    segments: list[str] = []
    buf: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\\":
            buf.append(text[i : i + 2])
            i += 2
        elif text[i] == "=":
            segments.append("".join(buf))
            buf = []
            i += 1
        else:
            buf.append(text[i])
            i += 1
    segments.append("".join(buf))
    return segments


def _unescape(raw: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(raw):
        if raw[i] == "\\":
            assert raw[i + 1] in _EXT_UNESCAPE, f"invalid extension escape {raw[i:i + 2]!r}"
            out.append(_EXT_UNESCAPE[raw[i + 1]])
            i += 2
        else:
            out.append(raw[i])
            i += 1
    return "".join(out)


def parse_extension(text: str) -> dict[str, str]:
    segments = _segments(text)
    pairs: dict[str, str] = {}
    key = segments[0]
    for segment in segments[1:-1]:
        value, _, next_key = segment.rpartition(" ")
        assert _KEY.fullmatch(key), key
        assert key not in pairs, f"duplicate key {key}"
        pairs[key] = _unescape(value)
        key = next_key
    assert _KEY.fullmatch(key), key
    pairs[key] = _unescape(segments[-1])
    return pairs


def ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


# ---------------------------------------------------------------- tests

NASTY = [
    "evil|pipe|value",
    "a=b c=d",
    " cs1=injected msg=also",
    "back\\slash\\",
    "\\|\\=\\n",
    "line\nbreak\r\nand\rcarriage",
    "trailing space ",
    "  leading",
    "ünïcødé 漢字 🙂 \u2028 sep",
    "tab\there",
    "=",
    "\\",
]


@pytest.mark.parametrize("value", NASTY, ids=[repr(v) for v in NASTY])
@pytest.mark.parametrize("field", ["value", "comment", "tag", "class", "feed"])
def test_nasty_text_round_trips_exactly(value: str, field: str) -> None:
    item = make(T.URL, "http://evil.example/x")
    if field == "value":
        item = make(T.URL, value)
    elif field == "comment":
        item = replace(item, comment=value)
    elif field == "tag":
        item = replace(item, tags=(value,))
    elif field == "class":
        item = replace(item, indicator_class=value)
    else:
        item = replace(item, source=SourceRef(value, SourceCategory.NEWS, None, None, None, None))

    (text,) = cef.lines([item], now=NOW)
    header, ext = parse(text)

    assert header == ["CEF:0", "iocflow", "iocflow", __version__, "ioc:url", "Bad url indicator", "8"]
    read_back = {"value": ext["request"], "comment": ext["msg"], "tag": ext["cs3"], "class": ext["cat"],
                 "feed": ext["cs6"]}[field]
    assert read_back == value


def test_every_field_round_trips() -> None:
    item = make(T.DOMAIN, "evil.example")
    header, ext = parse(cef.line(item, now=NOW))
    assert header[4:] == ["ioc:domain", "Bad domain indicator", "8"]
    assert ext == {
        "dhost": "evil.example",
        "cs1Label": "Indicator Type", "cs1": "domain",
        "cn1Label": "Confidence", "cn1": "85",
        "externalId": item.id,
        "rt": ms(NOW),
        "start": ms(item.first_seen), "end": ms(item.last_seen),
        "deviceCustomDate1Label": "Expires", "deviceCustomDate1": ms(item.expires_at),  # type: ignore[arg-type]
        "cat": "Malware",
        "cs3Label": "Tags", "cs3": "apt,c2",
        "cs4Label": "ATT&CK Techniques", "cs4": "T1071.001",
        "cs5Label": "Reputation", "cs5": "bad",
        "cs6Label": "Source", "cs6": "urlhaus",
        "msg": "seen in a phishing wave",
    }


@pytest.mark.parametrize(
    ("kind", "value", "key"),
    [
        (T.IPV4, "203.0.113.7", "dst"),
        (T.IPV6, "2001:db8::7", "c6a3"),
        (T.DOMAIN, "evil.example", "dhost"),
        (T.URL, "https://evil.example/a?b=c", "request"),
        (T.MD5, "d41d8cd98f00b204e9800998ecf8427e", "fileHash"),
        (T.SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709", "fileHash"),
        (T.SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "fileHash"),
        (T.FILENAME, "invoice.pdf.exe", "fname"),
        (T.FILE_PATH, "C:\\Users\\Public\\x.exe", "filePath"),
        (T.USER_AGENT, "Mozilla/5.0 (evil)", "requestClientApplication"),
        (T.CVE, "CVE-2024-3400", "cs2"),
        (T.EMAIL, "phish@evil.example", "cs2"),
    ],
)
def test_value_goes_to_its_dictionary_key(kind: IndicatorType, value: str, key: str) -> None:
    header, ext = parse(cef.line(make(kind, value), now=NOW))
    assert header[4] == f"ioc:{kind.value}"
    assert ext[key] == value
    assert ext["cs1"] == kind.value
    if key in ("cs2", "c6a3"):
        assert ext[f"{key}Label"] in ("Indicator Value", "Destination IPv6 Address")


@pytest.mark.parametrize(("severity", "number"), list(cef.SEVERITY.items()))
def test_severity_is_0_to_10(severity: Severity, number: int) -> None:
    header, _ = parse(cef.line(make(T.IPV4, "203.0.113.7", severity=severity), now=NOW))
    assert header[6] == str(number)
    assert 0 <= number <= 10


def test_rating_tables_cover_every_member() -> None:
    assert set(cef.SEVERITY) == set(Severity)
    assert set(cef.CONFIDENCE) == set(Confidence)


@pytest.mark.parametrize("kind", list(IndicatorType), ids=str)
def test_every_type_is_written_with_its_plain_name(kind: IndicatorType) -> None:
    """Types without a dictionary key go to cs2; the type is written by value, never as ``IndicatorType.X``."""
    header, ext = parse(cef.line(make(kind, "some value"), now=NOW))
    assert header[4:6] == [f"ioc:{kind.value}", f"Bad {kind.value} indicator"]
    assert ext[cef.VALUE_KEYS.get(kind, cef.OTHER_VALUE_KEY)] == "some value"
    assert ext["cs1"] == kind.value


@pytest.mark.parametrize("reputation", list(Reputation), ids=str)
@pytest.mark.parametrize("confidence", list(Confidence), ids=str)
def test_ratings_are_written_as_their_values(reputation: Reputation, confidence: Confidence) -> None:
    text = cef.line(make(T.DOMAIN, "evil.example", reputation=reputation, confidence=confidence), now=NOW)
    header, ext = parse(text)
    assert header[5] == f"{reputation.value.capitalize()} domain indicator"
    assert ext["cs5"] == reputation.value
    assert ext["cn1"] == {"high": "85", "medium": "50", "low": "15"}[confidence.value]
    assert "Reputation." not in text and "Confidence." not in text


def test_empty_fields_and_their_labels_are_left_out() -> None:
    item = make(T.IPV4, "203.0.113.7", expires_at=None, comment=None, tags=(), techniques=(), indicator_class=None,
                source=None)
    _, ext = parse(cef.line(item, now=NOW))
    for key in ("msg", "cat", "cs3", "cs3Label", "cs4", "cs4Label", "cs6", "cs6Label", "deviceCustomDate1",
                "deviceCustomDate1Label"):
        assert key not in ext


def test_header_escaping() -> None:
    assert cef.escape_header("a|b\\c") == "a\\|b\\\\c"
    assert cef.escape_header("one\ntwo\rthree") == "one two three"
    assert cef.escape_header("x=y") == "x=y"  # '=' needs no escape in the header


def test_extension_escaping() -> None:
    assert cef.escape_extension("a=b\\c\nd\re|f") == "a\\=b\\\\c\\nd\\re|f"  # '|' needs no escape there


def test_lines_are_one_per_item_in_order_and_lazy() -> None:
    items = [make(T.IPV4, f"203.0.113.{n}") for n in range(5)]
    produced = cef.lines(iter(items), now=NOW)
    assert not isinstance(produced, list)
    parsed = [parse(text)[1]["dst"] for text in produced]
    assert parsed == [item.value for item in items]
