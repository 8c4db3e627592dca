"""One stated value: checked and canonicalised exactly as the extractor would (``iocflow.extract.check``),
with what only a stated value has on top: file names, bare AS numbers, user agents as written."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iocflow.extract import Kind, check
from iocflow.ingest.values import identify
from iocflow.store.vocabulary import IndicatorType as T

HASHES = frozenset({T.MD5, T.SHA1, T.SHA256, T.SHA512})
IPS = frozenset({T.IPV4, T.IPV6})


@pytest.mark.parametrize(
    ("value", "allowed", "expected"),
    [
        ("hxxp://evil[.]com/a", None, (T.URL, "http://evil.com/a")),
        ("8[.]8[.]8[.]8", IPS, (T.IPV4, "8.8.8.8")),
        ("2001:DB8:0:0::1", IPS, (T.IPV6, "2001:db8::1")),
        ("D41D8CD98F00B204E9800998ECF8427E", HASHES, (T.MD5, "d41d8cd98f00b204e9800998ecf8427e")),
        ("1.2.3.4:8080", None, (T.SOCKET_ADDRESS, "1.2.3.4:8080")),
        ("t1055", None, (T.MITRE_ATTACK, "T1055")),
        ("TA0011", {T.MITRE_ATTACK}, (T.MITRE_ATTACK, "TA0011")),
        ("  evil-cdn.top  ", {T.DOMAIN}, (T.DOMAIN, "evil-cdn.top")),
        ("010.001.002.003", IPS, (T.IPV4, "10.1.2.3")),
        ("15169", {T.ASN}, (T.ASN, "ASN15169")),
        ("invoice.pdf.exe", {T.FILENAME}, (T.FILENAME, "invoice.pdf.exe")),
        ("C:\\Users\\a.exe", {T.FILENAME, T.FILE_PATH}, (T.FILE_PATH, "C:\\Users\\a.exe")),
        ("curl/8.4.0", {T.USER_AGENT}, (T.USER_AGENT, "curl/8.4.0")),
    ],
)
def test_identify(value: str, allowed: frozenset[T] | None, expected: tuple[T, str]) -> None:
    assert identify(value, allowed) == expected


@pytest.mark.parametrize(
    ("value", "allowed", "message"),
    [
        ("", None, "empty"),
        ("evil-cdn.top", IPS, "not a valid ipv4/ipv6 (it is a domain)"),
        ("256.1.1.1", IPS, "not a valid ipv4/ipv6"),
        ("abc", HASHES, "not a valid md5/sha1/sha256/sha512"),
        ("evil.com and more", None, "not a valid indicator"),
        ("x" * 9000, None, "longer than"),
        ("http://300.12.4.1:8080/Mozi.m", {T.URL}, "not a valid url"),  # prose keeps it at low confidence
        ("evil.com", {T.MITRE_ATTACK}, "not a valid mitre_attack (it is a domain)"),  # in the store's words
        ("T1059", {T.DOMAIN}, "not a valid domain (it is a mitre_attack)"),
        ("1" * 32, HASHES, "not a valid md5/sha1/sha256/sha512"),  # a number, to the extractor
        ("::", IPS, "not a valid ipv4/ipv6"),
        ("fe80::1%eth0", IPS, "not a valid ipv4/ipv6"),
        ("a/b.exe", {T.FILENAME}, "a file name is a bare name"),
    ],
)
def test_refusals_say_why(value: str, allowed: frozenset[T] | None, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        identify(value, allowed)


def outcome(value: str, allowed: frozenset[T] | None = None) -> tuple[T, str] | str:
    try:
        return identify(value, allowed)
    except ValueError as exc:
        return str(exc)


@given(st.ip_addresses())
def test_an_ip_column_agrees_with_the_extractor(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    text = str(address) if address.version == 4 else address.exploded.upper()
    kind, canonical = check(text)
    assert identify(text, IPS) == identify(text) == (T(kind.value), canonical) == (T(kind.value), str(address))


@given(st.sampled_from([32, 40, 64, 128]).flatmap(lambda n: st.text("0123456789abcdefABCDEF", min_size=n, max_size=n)))
def test_a_hash_column_agrees_with_the_extractor(value: str) -> None:
    if value.isdigit():  # a run of digits is a number to the extractor, stated or not
        assert outcome(value, HASHES) == "not a valid md5/sha1/sha256/sha512"
        assert outcome(value) == "not a valid indicator"
    else:
        kind, canonical = check(value)
        assert identify(value, HASHES) == identify(value) == (T(kind.value), canonical) == (T(kind.value), value.lower())
