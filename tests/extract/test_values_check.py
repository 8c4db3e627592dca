"""``check``: one stated value read exactly as ``extract`` reads the same whole text.

The oracle below is the rule ``check`` documents, written against ``extract`` alone:
an indicator spanning the whole (stripped) value, stated before derived, more
confident first, a low-confidence URL refused. Every case table of the extractor's
tests, the peers' cases, and generated hashes, addresses and URLs are held to it, so
the direct hash and IP readings can never drift from the extractor's.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from _pytest.mark.structures import ParameterSet
from hypothesis import given, settings
from hypothesis import strategies as st

import iocflow.extract as pkg
from iocflow.exceptions import ExtractError
from iocflow.extract import (
    Confidence,
    Indicator,
    Kind,
    NotAnIndicator,
    check,
    email_host,
    extract,
    url_host,
    url_path,
)
from tests.extract import test_defang, test_false_positives, test_kinds

HASH_KINDS = frozenset({Kind.MD5, Kind.SHA1, Kind.SHA256, Kind.SHA512})
IP_KINDS = frozenset({Kind.IPV4, Kind.IPV6})
LABELLED = {Kind.IMPHASH: Kind.MD5, Kind.JA3: Kind.MD5, Kind.AUTHENTIHASH: Kind.SHA256}


def oracle(value: str, kinds: frozenset[Kind] | None = None) -> tuple[Kind, str] | None:
    """What ``check`` must answer, from ``extract`` run on the whole value (None: a refusal)."""
    text = value.strip()
    whole = [i for i in extract(text) if i.start == 0 and i.end == len(text)
             and not (i.kind is Kind.URL and i.confidence is Confidence.LOW)]
    whole.sort(key=lambda i: (i.parent is not None, -i.confidence.rank))
    return next(((i.kind, i.value) for i in whole if kinds is None or i.kind in kinds), None)


def checked(value: str, kinds: frozenset[Kind] | None = None) -> tuple[Kind, str] | None:
    try:
        return check(value, kinds)
    except NotAnIndicator:
        return None


def agrees(value: str, kinds: frozenset[Kind] | None = None) -> None:
    assert checked(value, kinds) == oracle(value, kinds), (value, kinds)


# ---------------------------------------------------------------- the corpus


def _table_texts() -> Iterator[str]:
    for module in (test_kinds, test_false_positives, test_defang):
        for table in vars(module).values():
            if isinstance(table, list):
                for case in table:
                    if isinstance(case, ParameterSet) and case.values and isinstance(case.values[0], str):
                        yield case.values[0]


def _peer_texts() -> Iterator[str]:
    for path in sorted((Path(__file__).parent / "peer_cases").glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            yield case["text"]


#: Kinds no case table happens to show.
EXTRA_TEXTS = [
    "ja3: 6734f37431670b3ab4292b8f60f29984 seen",
    "jarm 07d14d16d21d21d07c42d41d00041d24a458a375eef0c576d23a7bab9a9fb1 on the C2",
]
TABLE_TEXTS = list(dict.fromkeys([*_table_texts(), *EXTRA_TEXTS]))
PEER_TEXTS = list(dict.fromkeys(_peer_texts()))
FOUND: list[Indicator] = list({(i.kind, i.value): i for t in TABLE_TEXTS + PEER_TEXTS for i in extract(t)}.values())


def test_the_corpus_is_the_extractors_case_tables() -> None:
    assert len(TABLE_TEXTS) > 300 and len(PEER_TEXTS) > 300
    assert {i.kind for i in FOUND} >= set(Kind) - {Kind.PHONE}  # every kind the extractor finds is exercised


@pytest.mark.parametrize("text", TABLE_TEXTS + PEER_TEXTS)
def test_each_case_text_as_a_whole_value(text: str) -> None:
    agrees(text)
    for kind in (Kind.URL, Kind.DOMAIN, Kind.IPV4, Kind.IPV6, Kind.MD5, Kind.SHA256, Kind.EMAIL):
        agrees(text, frozenset({kind}))


@pytest.mark.parametrize("ind", FOUND, ids=lambda i: f"{i.kind}:{i.value[:40]!r}")
def test_every_found_value_checks_as_itself(ind: Indicator) -> None:
    """A canonical value is a fixed point: stated alone, it is the indicator it was found as.

    Agreement with ``extract`` holds for every value; the few that are read differently alone
    are exactly those whose reading depended on the text around them.
    """
    agrees(ind.value)
    agrees(ind.value, frozenset({ind.kind}))
    got = checked(ind.value, frozenset({ind.kind, LABELLED.get(ind.kind, ind.kind)}))
    if ind.kind in LABELLED:  # an imphash/authentihash/JA3 is one only by its label: alone, an MD5/SHA-256
        assert got == (LABELLED[ind.kind], ind.value)
    elif (ind.confidence is Confidence.LOW and ind.kind is Kind.URL) or ind.value == "::":
        assert got is None  # "[::]" is an address in brackets; "::" alone is prose
    else:
        assert got == (ind.kind, ind.value), ind.as_dict()


# ---------------------------------------------------------------- generated hashes, addresses, URLs

hex_runs = st.sampled_from([31, 32, 33, 40, 62, 64, 128]).flatmap(
    lambda n: st.text("0123456789abcdefABCDEF", min_size=n, max_size=n)
)
digit_runs = st.sampled_from([32, 40, 64]).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n))


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(hex_runs, digit_runs), kinds=st.sampled_from([None, HASH_KINDS, frozenset({Kind.SHA256})]))
def test_hashes_agree_with_the_extractor(value: str, kinds: frozenset[Kind] | None) -> None:
    agrees(value, kinds)


def _spellings(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> st.SearchStrategy[str]:
    if address.version == 4:
        octets = str(address).split(".")
        padded = st.lists(st.booleans(), min_size=4, max_size=4).map(
            lambda pad: ".".join(f"0{o}" if p and len(o) < 3 else o for o, p in zip(octets, pad, strict=True))
        )
        return st.sampled_from([str(address)]) | padded
    forms = [str(address), address.exploded, address.exploded.upper(), str(address).upper()]
    return st.sampled_from(forms)


addresses = st.ip_addresses().flatmap(_spellings)
address_like = st.text("0123456789abcdefABCDEF:.", min_size=1, max_size=45)


@settings(max_examples=400, deadline=None)
@given(value=st.one_of(addresses, address_like), kinds=st.sampled_from([None, IP_KINDS, frozenset({Kind.IPV6})]))
def test_addresses_agree_with_the_extractor(value: str, kinds: frozenset[Kind] | None) -> None:
    agrees(value, kinds)


@settings(max_examples=60, deadline=None)
@given(st.ip_addresses(v=4))
def test_defanged_addresses_are_refanged(address: ipaddress.IPv4Address) -> None:
    assert check(str(address).replace(".", "[.]"), IP_KINDS) == (Kind.IPV4, str(address))


labels = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
hosts = st.one_of(
    st.builds(lambda a, b, tld: f"{a}.{b}.{tld}", labels, labels, st.sampled_from(["com", "ORG", "top", "co.uk", "zz"])),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
)
urls = st.builds(
    lambda scheme, userinfo, host, port, tail: f"{scheme}{userinfo}{host}{port}{tail}",
    st.sampled_from(["http://", "HTTPS://", "ftp://", "hxxp://", "foo+bar://", ""]),
    st.sampled_from(["", "user@", "user:pw@"]),
    hosts,
    st.sampled_from(["", ":8080", ":0"]),
    st.text("abc/?#=&.%*()[],;:~", max_size=20).map(lambda t: "/" + t),
)


@settings(max_examples=300, deadline=None)
@given(value=urls, kinds=st.sampled_from([None, frozenset({Kind.URL}), frozenset({Kind.DOMAIN})]))
def test_urls_agree_with_the_extractor(value: str, kinds: frozenset[Kind] | None) -> None:
    agrees(value, kinds)


# ---------------------------------------------------------------- examples and refusals


@pytest.mark.parametrize(
    ("value", "kinds", "expected"),
    [
        ("hxxps://evil[.]com/a", Kind.URL, (Kind.URL, "https://evil.com/a")),
        ("  Evil-CDN[.]top\n", "domain", (Kind.DOMAIN, "evil-cdn.top")),
        ("D41D8CD98F00B204E9800998ECF8427E", HASH_KINDS, (Kind.MD5, "d41d8cd98f00b204e9800998ecf8427e")),
        ("010.001.002.003", None, (Kind.IPV4, "10.1.2.3")),  # leading zeros: the extractor's canonical form
        ("2001:DB8:0:0::1", [Kind.IPV4, "ipv6"], (Kind.IPV6, "2001:db8::1")),
        ("1.2.3.4:8080", None, (Kind.SOCKET_ADDRESS, "1.2.3.4:8080")),
        ("0x52908400098527886e0f7030069857d2e4169ee7", None, (Kind.ETHEREUM, "0x52908400098527886e0f7030069857d2e4169ee7")),
        ("0x52908400098527886e0f7030069857d2e4169ee7", Kind.SHA1, None),  # the SHA-1 does not span the 0x
        ("t1059.001", None, (Kind.ATTACK_TECHNIQUE, "T1059.001")),
        ("bob[@]evil[.]com", None, (Kind.EMAIL, "bob@evil.com")),
    ],
)
def test_examples(value: str, kinds: object, expected: tuple[Kind, str] | None) -> None:
    if expected is None:
        with pytest.raises(NotAnIndicator):
            check(value, kinds)  # type: ignore[arg-type]
    else:
        assert check(value, kinds) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "kinds", "message", "found"),
    [
        ("", None, "empty indicator value", set()),
        ("   ", HASH_KINDS, "empty indicator value", set()),
        ("evil-cdn.top", IP_KINDS, "not a valid ipv4/ipv6 (it is a domain)", {Kind.DOMAIN}),
        ("256.1.1.1", IP_KINDS, "not a valid ipv4/ipv6", set()),
        ("::", None, "not a valid indicator", set()),  # prose ("a lone :: here"), not an address
        ("fe80::1%eth0", IP_KINDS, "not a valid ipv4/ipv6", set()),  # zone ids are cut off in prose
        ("1" * 32, HASH_KINDS, "not a valid md5/sha1/sha256/sha512", set()),  # a number, to the extractor
        ("evil.com and more", None, "not a valid indicator", set()),
        ("http://300.12.4.1:8080/Mozi.m", Kind.URL, "not a valid url", set()),  # kept by prose at low confidence
        ("https://evil.com/a", Kind.DOMAIN, "not a valid domain (it is a url)", {Kind.URL}),
        ("f34d5f2d4577ed6d9ceec516c1f5a744", Kind.IMPHASH, "not a valid imphash (it is a md5)", {Kind.MD5}),
    ],
)
def test_refusals_say_why_and_what_it_is(value: str, kinds: object, message: str, found: set[Kind]) -> None:
    with pytest.raises(NotAnIndicator) as caught:
        check(value, kinds)  # type: ignore[arg-type]
    assert str(caught.value) == message
    assert caught.value.found == found and caught.value.value == value
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, ExtractError)


def test_an_unknown_kind_name_is_an_extract_error() -> None:
    with pytest.raises(ExtractError, match="unknown indicator type 'ip'"):
        check("1.2.3.4", "ip")


# ---------------------------------------------------------------- hosts


def _derived_host(url: str) -> str | None:
    """The domain or address ``extract`` reports as the host of ``url`` (None: it reports none)."""
    return next((i.value for i in extract(url) if i.parent is Kind.URL and i.kind in (Kind.DOMAIN, Kind.IPV4, Kind.IPV6)),
                None)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["http", "HTTPS", "ftp"]),
    st.sampled_from(["", "user@", "user:pw@"]),
    st.sampled_from(["evil.example", "EVIL.Example", "1.2.3.4", "[2001:db8::1]", "xn--80ak6aa92e.com", "bücher.de"]),
    st.sampled_from(["", ":8080"]),
    st.text("abc/?#=&.@", max_size=20),
)
def test_url_host_agrees_with_urlsplit(scheme: str, userinfo: str, host: str, port: str, tail: str) -> None:
    url = f"{scheme}://{userinfo}{host}{port}/{tail}"
    assert url_host(url) == urlsplit(url).hostname


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://user:pw@Evil.COM:8443/a?b#c", "evil.com"),
        ("http://[2001:db8::1]:80/", "2001:db8::1"),
        ("evil.com/gate.php", "evil.com"),  # the extractor's URL without a scheme starts with its host
        ("http://evil.com?q=a@b.com", "evil.com"),
        ("http://[::1/", ""),  # an unclosed bracket: no host (urlsplit raises)
        ("", ""),
    ],
)
def test_url_host(url: str, host: str) -> None:
    assert url_host(url) == host


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://user:pw@evil.com:8443/a/b?c=d#e", "/a/b?c=d#e"),
        ("http://evil.com?q=a@b.com", "?q=a@b.com"),
        ("http://evil.com", ""),
        ("evil.com/gate.php", "/gate.php"),
    ],
)
def test_url_path_is_what_follows_the_host(url: str, path: str) -> None:
    assert url_path(url) == path


@pytest.mark.parametrize("ind", [i for i in FOUND if i.kind is Kind.URL and "://" in i.value],
                         ids=lambda i: i.value[:60])
def test_url_host_is_the_host_the_extractor_reports(ind: Indicator) -> None:
    derived, host = _derived_host(ind.value), url_host(ind.value)
    if derived is not None and ":" in derived:  # an IPv6 host: the same address, as written
        assert ipaddress.IPv6Address(host) == ipaddress.IPv6Address(derived)
    elif derived is not None:
        assert host == derived


@pytest.mark.parametrize(
    ("address", "host"),
    [
        ("bob@Evil.COM", "evil.com"),
        ("bot@jabber.ccc.de", "jabber.ccc.de"),
        ("root@[10.1.2.3]", "10.1.2.3"),
        ("root@[IPv6:2001:db8::1]", "2001:db8::1"),
        ("not an address", ""),
        ("a@b@c.com", ""),
    ],
)
def test_email_host(address: str, host: str) -> None:
    assert email_host(address) == host


@pytest.mark.parametrize("ind", [i for i in FOUND if i.kind in (Kind.EMAIL, Kind.XMPP)], ids=lambda i: i.value)
def test_email_host_is_the_domain_the_extractor_reports(ind: Indicator) -> None:
    derived = {i.value for i in extract(ind.value) if i.parent is ind.kind}
    host = email_host(ind.value)
    assert host in derived or host.startswith(tuple(d + "." for d in derived)), (host, derived)


# ---------------------------------------------------------------- the package


def test_check_is_public_and_the_extractor_stays_alone() -> None:
    assert {"check", "NotAnIndicator", "url_host", "url_path", "email_host"} <= set(pkg.__all__)
    code = ("import sys, iocflow.extract; iocflow.extract.check('1.2.3.4');"
            "print(sorted(m for m in sys.modules if m.startswith(('iocflow.store', 'iocflow.ingest', 'iocflow.api',"
            " 'iocflow.cli', 'sqlalchemy', 'fastapi', 'typer', 'httpx'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
