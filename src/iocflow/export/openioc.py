"""Indicators as one OpenIOC 1.1 document, for tools of the Mandiant/FireEye lineage.

Layout (namespace ``http://openioc.org/schemas/OpenIOC_1.1``, schema ``ioc.xsd``)::

    <OpenIOC id="..." last-modified="..." published-date="...">
      <metadata><short_description/><description/><authored_by/><authored_date/></metadata>
      <criteria>
        <Indicator id="..." operator="OR">
          <IndicatorItem id="<id>" condition="is" preserve-case="false" negate="false">
            <Context document="Network" search="Network/DNS" type="network"/>
            <Content type="string">evil.example</Content>
          </IndicatorItem>
          ...
        </Indicator>
      </criteria>
      <parameters><param id="..." ref-id="<item id>" name="comment"><value type="string">...</value></param>
      </parameters>
    </OpenIOC>

One ``OR`` Indicator holds an ``is`` IndicatorItem per indicator: any one matching is a
hit. Search terms (:data:`TERMS`) come from the OpenIOC 1.1 term list: IPs
``PortItem/remoteIP`` (Content type ``IP``), domains ``Network/DNS``, URLs ``Network/URI``,
user agents ``Network/UserAgent``, e-mail ``Email/From``, hashes ``FileItem/Md5sum``,
``Sha1sum``, ``Sha256sum`` (``md5``/``sha1``/``sha256``), ``FileItem/FileName``,
``FileItem/FullPath`` and ``RegistryItem/KeyPath``. Ids are the indicators' UUIDv5s, and
the document's and Indicator's ids derive from them, so the same export has the same ids.
Confidence, severity and comment travel as ``parameters`` pointing at their item.

Escaping is ElementTree's. Two things it does not cover are handled here:

* a CR in text would be read back as LF (XML end-of-line normalisation), so it is written
  as the character reference ``&#13;``;
* characters XML 1.0 cannot carry at all (C0 controls other than tab/LF/CR, lone
  surrogates, U+FFFE/U+FFFF) cannot be represented: an indicator whose value holds one is
  left out rather than exported altered (an altered indicator matches something else).
  In descriptive text (name, comment) such characters become U+FFFD.

Indicators of types with no term (:data:`NO_TERM`), and unrepresentable ones, are
counted in the document's ``description``. Every indicator type is either in
:data:`TERMS` or in :data:`NO_TERM`; one in neither is a KeyError, not a silent omission.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from iocflow.store.records import uuid5
from iocflow.store.views import IndicatorRecord
from iocflow.store.vocabulary import IndicatorType

__all__ = ["NAMESPACE", "NO_TERM", "TERMS", "Term", "document", "xml_safe"]

NAMESPACE: Final = "http://openioc.org/schemas/OpenIOC_1.1"
AUTHOR: Final = "iocflow"


@dataclass(frozen=True, slots=True)
class Term:
    """Where an indicator type is looked for: Context ``document``/``search``/``type`` and Content ``type``."""

    document: str
    search: str
    content_type: str = "string"

    @property
    def context_type(self) -> str:
        """``mir`` for host-audit items (the term list's ``application/vnd.mandiant.mir``), else the document."""
        return "mir" if self.document.endswith("Item") else self.document.lower()


TERMS: Final[dict[IndicatorType, Term]] = {
    IndicatorType.IPV4: Term("PortItem", "PortItem/remoteIP", "IP"),
    IndicatorType.IPV6: Term("PortItem", "PortItem/remoteIP", "IP"),
    IndicatorType.DOMAIN: Term("Network", "Network/DNS"),
    IndicatorType.URL: Term("Network", "Network/URI"),
    IndicatorType.USER_AGENT: Term("Network", "Network/UserAgent"),
    IndicatorType.EMAIL: Term("Email", "Email/From"),
    IndicatorType.MD5: Term("FileItem", "FileItem/Md5sum", "md5"),
    IndicatorType.SHA1: Term("FileItem", "FileItem/Sha1sum", "sha1"),
    IndicatorType.SHA256: Term("FileItem", "FileItem/Sha256sum", "sha256"),
    IndicatorType.FILENAME: Term("FileItem", "FileItem/FileName"),
    IndicatorType.FILE_PATH: Term("FileItem", "FileItem/FullPath"),
    IndicatorType.REGISTRY_KEY: Term("RegistryItem", "RegistryItem/KeyPath"),
}

#: Types the OpenIOC 1.1 term list has no search term for: left out of the document and counted.
NO_TERM: Final[frozenset[IndicatorType]] = frozenset({
    IndicatorType.IPV4_CIDR, IndicatorType.IPV6_CIDR, IndicatorType.SOCKET_ADDRESS, IndicatorType.XMPP,
    IndicatorType.MAC, IndicatorType.ASN, IndicatorType.SHA512, IndicatorType.SSDEEP, IndicatorType.IMPHASH,
    IndicatorType.AUTHENTIHASH, IndicatorType.JA3, IndicatorType.JARM, IndicatorType.CVE, IndicatorType.TLP,
    IndicatorType.BITCOIN, IndicatorType.MONERO, IndicatorType.ETHEREUM, IndicatorType.GOOGLE_ADSENSE,
    IndicatorType.GOOGLE_ANALYTICS, IndicatorType.PHONE, IndicatorType.MITRE_ATTACK,
})


def _xml_char(ch: str) -> bool:
    """XML 1.0's ``Char`` production."""
    code = ord(ch)
    return (
        code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF
    )


def xml_safe(text: str) -> bool:
    """Whether XML 1.0 can carry ``text`` exactly."""
    return all(_xml_char(ch) for ch in text)


def _clean(text: str) -> str:
    """Descriptive text with every character XML 1.0 cannot carry replaced by U+FFFD."""
    return "".join(ch if _xml_char(ch) else "\ufffd" for ch in text)


def _timestamp(moment: datetime) -> str:
    """An ``xs:dateTime`` in UTC, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrib)
    element.text = text
    return element


def _item(indicator: ET.Element, item: IndicatorRecord, term: Term) -> None:
    node = _sub(indicator, "IndicatorItem", id=item.id, condition="is", **{"preserve-case": "false", "negate": "false"})
    _sub(node, "Context", document=term.document, search=term.search, type=term.context_type)
    _sub(node, "Content", item.value, type=term.content_type)


def _params(parameters: ET.Element, item: IndicatorRecord) -> None:
    """Ratings and comment as ``param``s pointing at the item (OpenIOC 1.1 ``parameters``)."""
    values = {"confidence": item.confidence.value, "severity": item.severity.value, "comment": item.comment}
    for name, value in values.items():
        if value:
            param_id = uuid5(f"openioc-param:{item.id}:{name}")
            param = _sub(parameters, "param", id=param_id, **{"ref-id": item.id, "name": name})
            _sub(param, "value", _clean(value), type="string")


def _description(count: int, no_term: Counter[IndicatorType], unsafe: int) -> str:
    parts = [f"{count} indicators exported by iocflow."]
    if no_term:
        listed = ", ".join(f"{kind.value} ({n})" for kind, n in sorted(no_term.items()))
        parts.append(f"Left out, no OpenIOC 1.1 term: {listed}.")
    if unsafe:
        parts.append(f"Left out, value not representable in XML 1.0: {unsafe}.")
    return " ".join(parts)


def _select(items: Iterable[IndicatorRecord]) -> tuple[list[tuple[IndicatorRecord, Term]], Counter[IndicatorType], int]:
    """The exportable items with their term, the count left out per type, and the unrepresentable count."""
    kept: list[tuple[IndicatorRecord, Term]] = []
    no_term: Counter[IndicatorType] = Counter()
    unsafe = 0
    for item in items:
        if item.type in NO_TERM:
            no_term[item.type] += 1
        elif not xml_safe(item.value):
            unsafe += 1
        else:
            kept.append((item, TERMS[item.type]))
    return kept, no_term, unsafe


def _root(name: str, kept: list[tuple[IndicatorRecord, Term]], now: datetime) -> tuple[ET.Element, str]:
    ids = ",".join(item.id for item, _ in kept)
    stamp = _timestamp(now)
    # The namespace is declared as a plain default ``xmlns`` on the root and the tree is built
    # unqualified: ElementTree's ``default_namespace`` refuses unqualified attributes, which
    # OpenIOC's are.
    attrib = {"xmlns": NAMESPACE, "id": uuid5(f"openioc:{name}:{ids}"), "last-modified": stamp, "published-date": stamp}
    root = ET.Element("OpenIOC", attrib)
    return root, uuid5(f"openioc-indicator:{ids}")


def document(items: Iterable[IndicatorRecord], *, now: datetime, name: str = "iocflow export") -> bytes:
    """One OpenIOC 1.1 document (UTF-8 XML bytes) with an ``is`` IndicatorItem per exportable indicator."""
    kept, no_term, unsafe = _select(items)
    root, indicator_id = _root(name, kept, now)
    metadata = _sub(root, "metadata")
    _sub(metadata, "short_description", _clean(name))
    _sub(metadata, "description", _description(len(kept), no_term, unsafe))
    _sub(metadata, "authored_by", AUTHOR)
    _sub(metadata, "authored_date", _timestamp(now))
    indicator = _sub(_sub(root, "criteria"), "Indicator", id=indicator_id, operator="OR")
    parameters = _sub(root, "parameters")
    for item, term in kept:
        _item(indicator, item, term)
        _params(parameters, item)
    ET.indent(root)
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    # ElementTree writes CR raw in text (attributes already get &#13;); a reader would turn it into LF.
    return xml.replace(b"\r", b"&#13;")
