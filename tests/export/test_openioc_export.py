"""OpenIOC 1.1 export: well-formed, shaped as ioc.xsd says, every value read back exactly."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from iocflow.export import openioc
from iocflow.store.records import indicator_id
from iocflow.store.views import IndicatorRecord
from iocflow.store.vocabulary import Confidence, IndicatorType, Reputation, Severity

T = IndicatorType

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
NS = "http://openioc.org/schemas/OpenIOC_1.1"


def make(kind: IndicatorType, value: str, **changes: object) -> IndicatorRecord:
    # The store cannot even hash a lone surrogate; such a value gets a stand-in id here.
    safe = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    base = IndicatorRecord(
        id=indicator_id(kind, safe), type=kind, value=value, confidence=Confidence.HIGH, severity=Severity.HIGH,
        reputation=Reputation.BAD, first_seen=NOW - timedelta(days=3), last_seen=NOW, expires_at=None, tags=(),
        techniques=(), industries=(), indicator_class=None, comment=None, source=None,
    )
    return replace(base, **changes)


def q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


# ---------------------------------------------------------------- the schema's structure (ioc.xsd, OpenIOC 1.1)

# element -> (required attributes, optional attributes, allowed children in schema order, required children)
SCHEMA: dict[str, tuple[set[str], set[str], list[str], set[str]]] = {
    "OpenIOC": ({"id", "last-modified", "published-date"}, {"version"}, ["metadata", "criteria", "parameters"],
                {"metadata", "criteria"}),
    "metadata": (set(), set(), ["short_description", "description", "keywords", "authored_by", "authored_date",
                                "links"], {"authored_date"}),
    "criteria": (set(), set(), ["Indicator"], {"Indicator"}),
    "Indicator": ({"operator", "id"}, {"node-context"}, ["IndicatorItem", "Indicator"], set()),
    "IndicatorItem": ({"id", "condition", "preserve-case", "negate"}, set(), ["Context", "Content"],
                      {"Context", "Content"}),
    "Context": (set(), {"document", "search", "type"}, [], set()),
    "Content": (set(), {"type"}, [], set()),
    "parameters": (set(), set(), ["param"], set()),
    "param": ({"id", "ref-id", "name"}, set(), ["value"], set()),
    "value": (set(), {"type"}, [], set()),
    **{leaf: (set(), set(), [], set()) for leaf in ("short_description", "description", "keywords", "authored_by",
                                                     "authored_date")},
}
ENUMS = {
    ("IndicatorItem", "condition"): {"is", "contains", "matches", "starts-with", "ends-with", "greater-than",
                                     "less-than"},
    ("IndicatorItem", "preserve-case"): {"true", "false"},
    ("IndicatorItem", "negate"): {"true", "false"},
    ("Indicator", "operator"): {"OR", "AND"},
}
DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")


def check_structure(element: ET.Element) -> None:
    """Recursively: namespace, attributes, child order and required children as ioc.xsd defines them."""
    assert element.tag.startswith(f"{{{NS}}}"), element.tag
    name = element.tag.removeprefix(f"{{{NS}}}")
    assert name in SCHEMA, f"unexpected element {name}"
    required, optional, children, required_children = SCHEMA[name]
    attributes = set(element.attrib)
    assert required <= attributes, f"{name} lacks {required - attributes}"
    assert attributes <= required | optional, f"{name} has unknown {attributes - required - optional}"
    for (owner, attr), allowed in ENUMS.items():
        if owner == name:
            assert element.attrib[attr] in allowed
    for attr in ("last-modified", "published-date"):
        if attr in element.attrib:
            assert DATETIME.fullmatch(element.attrib[attr])
    names = [child.tag.removeprefix(f"{{{NS}}}") for child in element]
    assert all(n in children for n in names), f"{name} has children {names}"
    assert [children.index(n) for n in names] == sorted(children.index(n) for n in names), f"{name} order {names}"
    assert required_children <= set(names), f"{name} lacks {required_children - set(names)}"
    if name == "IndicatorItem":
        assert names == ["Context", "Content"]
    if name == "authored_date":
        assert DATETIME.fullmatch(element.text or "")
    for child in element:
        check_structure(child)


def items_of(root: ET.Element) -> list[ET.Element]:
    return root.findall(f"{q('criteria')}/{q('Indicator')}/{q('IndicatorItem')}")


# ---------------------------------------------------------------- tests

TYPED = [
    make(T.IPV4, "203.0.113.7"),
    make(T.IPV6, "2001:db8::7"),
    make(T.DOMAIN, "evil.example"),
    make(T.URL, "https://evil.example/a?b=c&d=<e>"),
    make(T.MD5, "d41d8cd98f00b204e9800998ecf8427e"),
    make(T.SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    make(T.SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    make(T.EMAIL, "phish@evil.example"),
    make(T.REGISTRY_KEY, "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\evil"),
    make(T.FILENAME, "invoice.pdf.exe"),
    make(T.FILE_PATH, "C:\\Users\\Public\\evil.exe"),
    make(T.USER_AGENT, "Mozilla/5.0 (evil)"),
]
EXPECTED_TERMS = {
    T.IPV4: ("PortItem", "PortItem/remoteIP", "mir", "IP"),
    T.IPV6: ("PortItem", "PortItem/remoteIP", "mir", "IP"),
    T.DOMAIN: ("Network", "Network/DNS", "network", "string"),
    T.URL: ("Network", "Network/URI", "network", "string"),
    T.MD5: ("FileItem", "FileItem/Md5sum", "mir", "md5"),
    T.SHA1: ("FileItem", "FileItem/Sha1sum", "mir", "sha1"),
    T.SHA256: ("FileItem", "FileItem/Sha256sum", "mir", "sha256"),
    T.EMAIL: ("Email", "Email/From", "email", "string"),
    T.REGISTRY_KEY: ("RegistryItem", "RegistryItem/KeyPath", "mir", "string"),
    T.FILENAME: ("FileItem", "FileItem/FileName", "mir", "string"),
    T.FILE_PATH: ("FileItem", "FileItem/FullPath", "mir", "string"),
    T.USER_AGENT: ("Network", "Network/UserAgent", "network", "string"),
}


def test_document_is_well_formed_and_shaped_as_the_schema_says() -> None:
    data = openioc.document(TYPED, now=NOW, name="weekly <export> & more")
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ET.fromstring(data)
    assert root.tag == q("OpenIOC")
    check_structure(root)
    assert root.findtext(f"{q('metadata')}/{q('short_description')}") == "weekly <export> & more"
    assert root.findtext(f"{q('metadata')}/{q('authored_by')}") == "iocflow"
    assert root.findtext(f"{q('metadata')}/{q('authored_date')}") == "2025-03-04T05:06:07Z"
    assert root.get("last-modified") == root.get("published-date") == "2025-03-04T05:06:07Z"
    (indicator,) = root.findall(f"{q('criteria')}/{q('Indicator')}")
    assert indicator.get("operator") == "OR"


def test_each_type_uses_its_term() -> None:
    root = ET.fromstring(openioc.document(TYPED, now=NOW))
    nodes = items_of(root)
    assert len(nodes) == len(TYPED)
    for item, node in zip(TYPED, nodes, strict=True):
        context, content = node.find(q("Context")), node.find(q("Content"))
        assert context is not None and content is not None
        got = (context.get("document"), context.get("search"), context.get("type"), content.get("type"))
        assert got == EXPECTED_TERMS[item.type]
        assert node.get("id") == item.id
        assert node.get("condition") == "is"
        assert content.text == item.value


NASTY = [
    "<script>alert('x')</script>",
    "a & b &amp; c",
    "double \"quotes\" and 'single'",
    "]]> cdata end",
    "line\nbreak",
    "carriage\rreturn\r\nand crlf",
    "tab\tinside",
    "  leading and trailing  ",
    "ünïcødé 漢字 🙂 \u2028\u0085",
    "back\\slash",
]


@pytest.mark.parametrize("value", NASTY, ids=[repr(v) for v in NASTY])
def test_nasty_values_round_trip_exactly(value: str) -> None:
    items = [make(T.URL, value, comment=value), make(T.FILENAME, value)]
    data = openioc.document(items, now=NOW, name=value)
    root = ET.fromstring(data)
    check_structure(root)
    assert [n.findtext(q("Content")) for n in items_of(root)] == [value, value]
    assert root.findtext(f"{q('metadata')}/{q('short_description')}") == value
    comments = [p.findtext(q("value")) for p in root.iter(q("param")) if p.get("name") == "comment"]
    assert comments == [value]


UNREPRESENTABLE = ["nul\x00byte", "escape\x1b[31m", "bell\x07", "lone \ud800 surrogate", "non-char \uffff", "\x0b"]


@pytest.mark.parametrize("value", UNREPRESENTABLE, ids=[repr(v) for v in UNREPRESENTABLE])
def test_values_xml_cannot_carry_are_left_out_and_counted(value: str) -> None:
    assert not openioc.xml_safe(value)
    items = [make(T.DOMAIN, "evil.example"), make(T.URL, value), make(T.CVE, "CVE-2024-3400")]
    root = ET.fromstring(openioc.document(items, now=NOW))
    check_structure(root)
    assert [n.findtext(q("Content")) for n in items_of(root)] == ["evil.example"]
    description = root.findtext(f"{q('metadata')}/{q('description')}") or ""
    assert "not representable in XML 1.0: 1" in description
    assert "no OpenIOC 1.1 term: cve (1)" in description


def test_unrepresentable_characters_in_descriptive_text_become_replacement_characters() -> None:
    item = make(T.DOMAIN, "evil.example", comment="bad\x00comment")
    root = ET.fromstring(openioc.document([item], now=NOW, name="name\x01"))
    assert root.findtext(f"{q('metadata')}/{q('short_description')}") == "name\ufffd"
    comments = [p.findtext(q("value")) for p in root.iter(q("param")) if p.get("name") == "comment"]
    assert comments == ["bad\ufffdcomment"]


def test_parameters_point_at_their_items() -> None:
    item = make(T.DOMAIN, "evil.example", comment="phishing kit", confidence=Confidence.MEDIUM,
                severity=Severity.CRITICAL)
    root = ET.fromstring(openioc.document([item], now=NOW))
    params = {p.get("name"): p for p in root.iter(q("param"))}
    assert set(params) == {"confidence", "severity", "comment"}
    assert all(p.get("ref-id") == item.id for p in params.values())
    assert params["severity"].findtext(q("value")) == "critical"
    assert params["confidence"].findtext(q("value")) == "medium"
    assert len({p.get("id") for p in params.values()}) == 3


def test_every_type_has_a_term_or_is_listed_as_having_none() -> None:
    assert set(openioc.TERMS) | openioc.NO_TERM == set(IndicatorType)
    assert not set(openioc.TERMS) & openioc.NO_TERM
    assert set(EXPECTED_TERMS) == set(openioc.TERMS)


def test_types_without_a_term_are_counted_by_their_plain_names() -> None:
    left_out = sorted(openioc.NO_TERM, key=lambda t: t.value)
    root = ET.fromstring(openioc.document([make(t, f"x{n}") for n, t in enumerate(left_out)], now=NOW))
    assert items_of(root) == []
    listed = ", ".join(f"{t.value} (1)" for t in left_out)
    assert root.findtext(f"{q('metadata')}/{q('description')}") == (
        f"0 indicators exported by iocflow. Left out, no OpenIOC 1.1 term: {listed}.")


def test_every_rating_is_written_as_its_value() -> None:
    items = [make(T.DOMAIN, f"d{n}.example", severity=severity, confidence=confidence)
             for n, (severity, confidence) in enumerate((s, c) for s in Severity for c in Confidence)]
    root = ET.fromstring(openioc.document(items, now=NOW))
    written = [(p.get("ref-id"), p.get("name"), p.findtext(q("value"))) for p in root.iter(q("param"))]
    assert written == [(item.id, name, value) for item in items
                       for name, value in (("confidence", item.confidence.value), ("severity", item.severity.value))]


def test_empty_export_still_meets_the_schema() -> None:
    root = ET.fromstring(openioc.document([], now=NOW))
    check_structure(root)
    assert items_of(root) == []


def test_same_input_same_document() -> None:
    assert openioc.document(TYPED, now=NOW) == openioc.document(list(TYPED), now=NOW)
    assert openioc.document(TYPED, now=NOW) != openioc.document(TYPED[:-1], now=NOW)
