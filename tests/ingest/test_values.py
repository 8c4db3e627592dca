"""One stated value: checked and canonicalised exactly as the extractor would, fast path or not."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

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
        ("  evil-cdn.top  ", {T.DOMAIN}, (T.DOMAIN, "evil-cdn.top")),
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
    ],
)
def test_refusals_say_why(value: str, allowed: frozenset[T] | None, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        identify(value, allowed)


@given(st.ip_addresses())
def test_ip_fast_path_agrees_with_the_extractor(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    text = str(address) if address.version == 4 else address.exploded.upper()
    assert identify(text, IPS) == identify(text)


@given(st.sampled_from([32, 40, 64, 128]).flatmap(lambda n: st.text("0123456789abcdefABCDEF", min_size=n, max_size=n)))
def test_hash_fast_path_agrees_with_the_extractor(value: str) -> None:
    assume(not value.isdigit())  # prose calls a run of digits a number; a hash column states a digest
    assert identify(value, HASHES) == identify(value)
