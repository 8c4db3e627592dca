"""Per-kind behaviour of the extractor: one table per kind, positive and negative cases.

Positive cases give the exact distinct values (medium confidence and up) that
the text must yield for that kind; negative cases (``expected == []``) must
yield nothing of that kind at any confidence.
"""

from __future__ import annotations

import pytest

from iocflow.extract import Confidence, Kind, Matrix, extract

P = pytest.param


def check_kind(kind: Kind, text: str, expected: list[str], check_offsets, *, fold_case: bool = False) -> None:
    ex = extract(text)
    check_offsets(text, ex)
    if expected:
        got = ex.values(kind)
    else:
        got = ex.values(kind, min_confidence=Confidence.LOW)
    if fold_case:
        got = [v.lower() for v in got]
        expected = [v.lower() for v in expected]
    assert got == expected, [i.as_dict() for i in ex]


# ---------------------------------------------------------------- IPv4

IPV4 = [
    P("connect to 8.8.8.8 now", ["8.8.8.8"], id="pos-plain"),
    P("8.8.8.8", ["8.8.8.8"], id="pos-whole-text"),
    P("(1.2.3.4)", ["1.2.3.4"], id="pos-in-parens"),
    P("255.255.255.255 and 0.0.0.0", ["255.255.255.255", "0.0.0.0"], id="pos-extremes"),
    P("ip=203.0.113.5:8080", ["203.0.113.5"], id="pos-with-port"),
    P("fetch http://198.51.100.7/x", ["198.51.100.7"], id="pos-url-host"),
    P("1.2.3.4 then 1.2.3.4 again, 5.6.7.8", ["1.2.3.4", "5.6.7.8"], id="pos-deduplicated-in-order"),
    P("server at 1.1.1.1.", ["1.1.1.1"], id="pos-sentence-end"),
    P("256.1.1.1", [], id="neg-octet-out-of-range"),
    P("999.999.999.999", [], id="neg-all-out-of-range"),
    P("1.2.3", [], id="neg-three-octets"),
    P("1.1.1.1.1", [], id="neg-five-octets"),
    P("12345.1.1.1", [], id="neg-long-first-number"),
]


@pytest.mark.parametrize(("text", "expected"), IPV4)
def test_ipv4(text, expected, check_offsets):
    check_kind(Kind.IPV4, text, expected, check_offsets)


# ---------------------------------------------------------------- IPv6

IPV6 = [
    P("dns 2001:4860:4860::8888 here", ["2001:4860:4860::8888"], id="pos-compressed"),
    P("2001:0db8:0000:0000:0000:ff00:0042:8329", ["2001:db8::ff00:42:8329"], id="pos-full-form-normalised"),
    P("link fe80::1 up", ["fe80::1"], id="pos-link-local"),
    P("loopback ::1 only", ["::1"], id="pos-loopback"),
    P("2001:DB8::1", ["2001:db8::1"], id="pos-upper-case"),
    P("http://[2001:db8::5]:8080/x", ["2001:db8::5"], id="pos-url-host"),
    P("std::string", [], id="neg-cpp-scope"),
    P("at 12:30:45 UTC", [], id="neg-time"),
    P("prefix 2001:db8 alone", [], id="neg-two-groups"),
    P("1:2:3:4:5:6:7:8:9", [], id="neg-nine-groups"),
    P("gggg::1", [], id="neg-non-hex"),
    P("a lone :: here", [], id="neg-unspecified-only"),
]


@pytest.mark.parametrize(("text", "expected"), IPV6)
def test_ipv6(text, expected, check_offsets):
    check_kind(Kind.IPV6, text, expected, check_offsets)


# ---------------------------------------------------------------- CIDRs

IPV4_CIDR = [
    P("block 10.0.0.0/8 now", ["10.0.0.0/8"], id="pos-slash-8"),
    P("192.168.1.0/24", ["192.168.1.0/24"], id="pos-slash-24"),
    P("203.0.113.7/32", ["203.0.113.7/32"], id="pos-host-route"),
    P("10.0.0.0/33", [], id="neg-prefix-too-long"),
    P("300.0.0.0/8", [], id="neg-bad-address"),
    P("on 1/2/2020", [], id="neg-date"),
    P("10.0.0.1", [], id="neg-no-prefix"),
]


@pytest.mark.parametrize(("text", "expected"), IPV4_CIDR)
def test_ipv4_cidr(text, expected, check_offsets):
    check_kind(Kind.IPV4_CIDR, text, expected, check_offsets)


IPV6_CIDR = [
    P("route 2001:db8::/32 now", ["2001:db8::/32"], id="pos-slash-32"),
    P("fe80::/10", ["fe80::/10"], id="pos-link-local-net"),
    P("2001:db8::1/128", ["2001:db8::1/128"], id="pos-host-route"),
    P("2001:db8::/129", [], id="neg-prefix-too-long"),
    P("2001:db8::1", [], id="neg-no-prefix"),
]


@pytest.mark.parametrize(("text", "expected"), IPV6_CIDR)
def test_ipv6_cidr(text, expected, check_offsets):
    check_kind(Kind.IPV6_CIDR, text, expected, check_offsets)


# ---------------------------------------------------------------- domains

DOMAIN = [
    P("beacon to evil.com today", ["evil.com"], id="pos-plain"),
    P("sub.evil.co.uk", ["sub.evil.co.uk"], id="pos-multi-label-suffix"),
    P("EVIL.COM", ["evil.com"], id="pos-lower-cased"),
    P("my-site.org", ["my-site.org"], id="pos-hyphen"),
    P("visit evil.com.", ["evil.com"], id="pos-trailing-period"),
    P("xn--80ak6aa92e.com", ["xn--80ak6aa92e.com"], id="pos-punycode"),
    P("visit bücher.de now", ["bücher.de"], id="pos-idn-latin-letter-inside"),
    P("straße.de and grüße-evil.ru", ["straße.de", "grüße-evil.ru"], id="pos-idn-latin-letters"),
    P("пример.рф", ["пример.рф"], id="pos-idn-cyrillic"),
    P("見てevil.com中", ["evil.com"], id="pos-cjk-prose-glued-on"),
    P("Россияevil.com", ["evil.com"], id="pos-cyrillic-prose-glued-on"),
    P("Россияbücher.de", ["bücher.de"], id="pos-cyrillic-prose-glued-to-latin-idn"),
    P("https://www.google.com/x", ["www.google.com"], id="pos-url-host"),
    P("mail bob@corp.example.net", ["corp.example.net"], id="pos-email-domain"),
    P("this is example.notatld", [], id="neg-unknown-tld"),
    P("localhost", [], id="neg-single-label"),
    P("pi is 3.14", [], id="neg-decimal"),
    P("e.g. this", [], id="neg-abbreviation"),
    P("invoice.pdf", [], id="neg-file-name"),
]


@pytest.mark.parametrize(("text", "expected"), DOMAIN)
def test_domain(text, expected, check_offsets):
    check_kind(Kind.DOMAIN, text, expected, check_offsets)


# ---------------------------------------------------------------- URLs

URL = [
    P("see https://evil.com/path?q=1#frag now", ["https://evil.com/path?q=1#frag"], id="pos-query-fragment"),
    P("https://www.google.com", ["https://www.google.com"], id="pos-no-path"),
    P("http://1.2.3.4:8080/x", ["http://1.2.3.4:8080/x"], id="pos-ip-host-port"),
    P("ftp://files.example.org/a.zip", ["ftp://files.example.org/a.zip"], id="pos-ftp"),
    P("HTTPS://EVIL.COM/Path", ["https://evil.com/Path"], id="pos-scheme-host-lower-cased-path-kept"),
    P("http://[2001:db8::1]:8080/x", ["http://[2001:db8::1]:8080/x"], id="pos-ipv6-host"),
    P("https://user:pass@evil.com/x", ["https://user:pass@evil.com/x"], id="pos-userinfo"),
    P("download evil.com/malware.exe now", ["evil.com/malware.exe"], id="pos-schemeless-with-path"),
    P("get evil.com/" + "a" * 1000 + " now", ["evil.com/" + "a" * 1000], id="pos-schemeless-long-path"),
    # A bare domain's path is read up to 1 KB (network._MAX_SCHEMELESS_PATH): longer, it is a domain alone.
    P("get evil.com/" + "a" * 2000 + " now", [], id="neg-schemeless-path-over-1kb"),
    P("get https://evil.com/" + "a" * 2000 + " now", ["https://evil.com/" + "a" * 2000], id="pos-scheme-url-no-limit"),
    P("a http://a.com/1 b http://a.com/1 c http://b.com/2", ["http://a.com/1", "http://b.com/2"], id="pos-dedup"),
    P("http://", [], id="neg-scheme-only"),
    P("plain words and nothing else", [], id="neg-prose"),
    P("the http protocol at evil", [], id="neg-scheme-word"),
    P("https://", [], id="neg-https-scheme-only"),
]


@pytest.mark.parametrize(("text", "expected"), URL)
def test_url(text, expected, check_offsets):
    check_kind(Kind.URL, text, expected, check_offsets)


# ---------------------------------------------------------------- e-mail and XMPP

EMAIL = [
    P("contact john.doe@example.com now", ["john.doe@example.com"], id="pos-plain"),
    P("a+tag@sub.example.co.uk", ["a+tag@sub.example.co.uk"], id="pos-plus-and-suffix"),
    P("user@Example.COM", ["user@example.com"], id="pos-domain-lower-cased"),
    P("<bob@example.org>", ["bob@example.org"], id="pos-angle-brackets"),
    P("root@[192.0.2.1]", ["root@[192.0.2.1]"], id="pos-ip-literal"),
    P("user@localhost", [], id="neg-no-tld"),
    P("@example.com", [], id="neg-no-local-part"),
    P("user@example.notatld", [], id="neg-unknown-tld"),
    P("a..b@example.com", [], id="neg-double-dot-local"),
    P("user@jabber.org", [], id="neg-xmpp-server"),
]


@pytest.mark.parametrize(("text", "expected"), EMAIL)
def test_email(text, expected, check_offsets):
    check_kind(Kind.EMAIL, text, expected, check_offsets)


XMPP = [
    P("chat with user@jabber.org", ["user@jabber.org"], id="pos-jabber"),
    P("bob@xmpp.example.com", ["bob@xmpp.example.com"], id="pos-xmpp-subdomain"),
    P("user@example.com", [], id="neg-plain-email"),
    P("user@jabber", [], id="neg-no-tld"),
]


@pytest.mark.parametrize(("text", "expected"), XMPP)
def test_xmpp(text, expected, check_offsets):
    check_kind(Kind.XMPP, text, expected, check_offsets)


# ---------------------------------------------------------------- hashes

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
SHA512 = (
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
)


def _hash_table(value: str, name: str) -> list:
    return [
        P(f"hash {value} seen", [value], id=f"pos-{name}"),
        P(value, [value], id=f"pos-{name}-whole-text"),
        P(f"x {value.upper()} y", [value], id=f"pos-{name}-upper-case-lowered"),
        P(f"{name}: {value}.", [value], id=f"pos-{name}-labelled-sentence-end"),
        P(f"x {value[:-1]} y", [], id=f"neg-{name}-one-short"),
        P(f"x {value}a y", [], id=f"neg-{name}-one-long"),
        P(f"x {value[:-1]}g y", [], id=f"neg-{name}-non-hex"),
        P(f"x zz{value} y", [], id=f"neg-{name}-glued-to-word"),
    ]


@pytest.mark.parametrize(("text", "expected"), _hash_table(MD5, "md5"))
def test_md5(text, expected, check_offsets):
    check_kind(Kind.MD5, text, expected, check_offsets)


@pytest.mark.parametrize(("text", "expected"), _hash_table(SHA1, "sha1"))
def test_sha1(text, expected, check_offsets):
    check_kind(Kind.SHA1, text, expected, check_offsets)


@pytest.mark.parametrize(("text", "expected"), _hash_table(SHA256, "sha256"))
def test_sha256(text, expected, check_offsets):
    check_kind(Kind.SHA256, text, expected, check_offsets)


@pytest.mark.parametrize(("text", "expected"), _hash_table(SHA512, "sha512"))
def test_sha512(text, expected, check_offsets):
    check_kind(Kind.SHA512, text, expected, check_offsets)


SSDEEP_LONG = (
    "96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx:"
    "sF1LjEtHHlZDrJzrhu5b0G4HYuL8N3TzS8QsO/wqWXLcMSx"
)
SSDEEP = [
    P("3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C", ["3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C"], id="pos-short"),
    P(f"ssdeep {SSDEEP_LONG} seen", [SSDEEP_LONG], id="pos-block-96"),
    P("5:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C", [], id="neg-block-size-not-3-times-power-of-2"),
    P("at 12:30:45", [], id="neg-time"),
    P("abc:def:ghi", [], id="neg-no-block-size"),
]


@pytest.mark.parametrize(("text", "expected"), SSDEEP)
def test_ssdeep(text, expected, check_offsets):
    check_kind(Kind.SSDEEP, text, expected, check_offsets)


IMPHASH = [
    P(f"imphash: {MD5}", [MD5], id="pos-colon"),
    P(f"Imphash = {MD5}", [MD5], id="pos-equals-capitalised"),
    P(f"import hash {MD5}", [MD5], id="pos-import-hash"),
    P(f"imphash {MD5.upper()}", [MD5], id="pos-upper-case"),
    P(f"md5: {MD5}", [], id="neg-md5-label"),
    P(MD5, [], id="neg-unlabelled"),
    P(f"imphash: {SHA256}", [], id="neg-imphash-label-on-sha256"),
]


@pytest.mark.parametrize(("text", "expected"), IMPHASH)
def test_imphash(text, expected, check_offsets):
    check_kind(Kind.IMPHASH, text, expected, check_offsets)


AUTHENTIHASH = [
    P(f"authentihash: {SHA256}", [SHA256], id="pos-colon"),
    P(f"Authentihash {SHA256}", [SHA256], id="pos-capitalised"),
    P(f"sha256: {SHA256}", [], id="neg-sha256-label"),
    P(SHA256, [], id="neg-unlabelled"),
    P(f"authentihash: {MD5}", [], id="neg-label-on-md5"),
]


@pytest.mark.parametrize(("text", "expected"), AUTHENTIHASH)
def test_authentihash(text, expected, check_offsets):
    check_kind(Kind.AUTHENTIHASH, text, expected, check_offsets)


LABELLED_TO_IOC_FINDER = [
    P(f"imphash: {MD5}", "imphashes", "md5s", MD5, id="imphash-not-md5"),
    P(f"authentihash: {SHA256}", "authentihashes", "sha256s", SHA256, id="authentihash-not-sha256"),
    P(f"md5 {MD5}", "md5s", "imphashes", MD5, id="md5-not-imphash"),
    P(f"sha256 {SHA256}", "sha256s", "authentihashes", SHA256, id="sha256-not-authentihash"),
]


@pytest.mark.parametrize(("text", "key", "not_key", "value"), LABELLED_TO_IOC_FINDER)
def test_labelled_hash_keys(text, key, not_key, value):
    out = extract(text).to_ioc_finder()
    assert out[key] == [value]
    assert value not in out[not_key]


# ---------------------------------------------------------------- CVE, ASN

CVE = [
    P("patch CVE-2021-44228 now", ["CVE-2021-44228"], id="pos-plain"),
    P("cve-2014-1000", ["CVE-2014-1000"], id="pos-lower-case"),
    P("CVE-1999-0001", ["CVE-1999-0001"], id="pos-first-year"),
    P("CVE-2023-1234567", ["CVE-2023-1234567"], id="pos-seven-digits"),
    P("CVE-21-1234", [], id="neg-two-digit-year"),
    P("CVE-2021-123", [], id="neg-three-digit-number"),
    P("CVE 2021 only", [], id="neg-no-number"),
    P("XCVE-2021-44228", [], id="neg-glued-to-word"),
]


@pytest.mark.parametrize(("text", "expected"), CVE)
def test_cve(text, expected, check_offsets):
    check_kind(Kind.CVE, text, expected, check_offsets)


ASN = [
    P("announced by AS15169", ["ASN15169"], id="pos-as"),
    P("ASN 13335", ["ASN13335"], id="pos-asn-space"),
    P("ASN4294967295", ["ASN4294967295"], id="pos-max-32-bit"),
    P("AS0", [], id="neg-zero"),
    P("AS4294967296", [], id="neg-too-big"),
    P("BAS1234", [], id="neg-glued-to-word"),
    P("AS alone", [], id="neg-no-number"),
]


@pytest.mark.parametrize(("text", "expected"), ASN)
def test_asn(text, expected, check_offsets):
    check_kind(Kind.ASN, text, expected, check_offsets)


# ---------------------------------------------------------------- registry keys, file paths

REGISTRY = [
    P(
        r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Run",
        [r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Run"],
        id="pos-full-hive",
    ),
    P(r"persist via HKLM\Software\Run.", [r"HKLM\Software\Run"], id="pos-abbreviated-trailing-period"),
    P(r"HKCU\Volatile Environment", [r"HKCU\Volatile Environment"], id="pos-space-in-name"),
    P(r"HKLM\\SOFTWARE\\Microsoft", [r"HKLM\SOFTWARE\Microsoft"], id="pos-double-escaped"),
    P(r"hkey_current_user\Software\Evil", [r"hkey_current_user\Software\Evil"], id="pos-lower-case-hive"),
    P(r"HKLM alone", [], id="neg-hive-only"),
    P("HKLM\\", [], id="neg-trailing-backslash"),
    P(r"HKEY_FOO\Software", [], id="neg-unknown-hive"),
]


@pytest.mark.parametrize(("text", "expected"), REGISTRY)
def test_registry_key(text, expected, check_offsets):
    check_kind(Kind.REGISTRY_KEY, text, expected, check_offsets)


FILE_PATH = [
    P(r"dropped C:\Windows\System32\evil.exe today", [r"C:\Windows\System32\evil.exe"], id="pos-windows"),
    P(r"C:\Windows\System32\evil.exe", [r"C:\Windows\System32\evil.exe"], id="pos-windows-at-text-start"),
    P(
        r"C:\Program Files\Evil Corp\evil.exe was dropped",
        [r"C:\Program Files\Evil Corp\evil.exe"],
        id="pos-windows-spaces",
    ),
    P(r"copied to \\server\share\file.txt", [r"\\server\share\file.txt"], id="pos-unc"),
    P(r"\\10.0.0.5\c$\temp\x.bat", [r"\\10.0.0.5\c$\temp\x.bat"], id="pos-unc-ip-admin-share"),
    P(r"in %APPDATA%\Microsoft\evil.dll", [r"%APPDATA%\Microsoft\evil.dll"], id="pos-env-var"),
    P("read /etc/passwd then", ["/etc/passwd"], id="pos-unix-etc"),
    P("ran /tmp/x/payload.sh", ["/tmp/x/payload.sh"], id="pos-unix-tmp"),
    P("stole ~/.ssh/id_rsa", ["~/.ssh/id_rsa"], id="pos-unix-home"),
    P("km/h and I/O and TCP/IP", [], id="neg-slash-words"),
    P("and/or", [], id="neg-and-or"),
    P(r"drive C: only", [], id="neg-drive-only"),
    P("a 1/2/3 ratio", [], id="neg-numbers"),
]


@pytest.mark.parametrize(("text", "expected"), FILE_PATH)
def test_file_path(text, expected, check_offsets):
    check_kind(Kind.FILE_PATH, text, expected, check_offsets)


# ---------------------------------------------------------------- MAC

MAC = [
    P("nic 00:1A:2b:3c:4d:5e up", ["00:1a:2b:3c:4d:5e"], id="pos-colons"),
    P("00-1A-2B-3C-4D-5E", ["00:1a:2b:3c:4d:5e"], id="pos-hyphens"),
    P("001a.2b3c.4d5e", ["00:1a:2b:3c:4d:5e"], id="pos-cisco-dots"),
    P("00:1A:2b:3c:4d", [], id="neg-five-groups"),
    P("00:1A:2b:3c:4d:5e:6f:70", [], id="neg-eight-groups"),
    P("0G:1A:2B:3C:4D:5E", [], id="neg-non-hex"),
    P("00:1A-2b:3c-4d:5e", [], id="neg-mixed-separators"),
]


@pytest.mark.parametrize(("text", "expected"), MAC)
def test_mac(text, expected, check_offsets):
    check_kind(Kind.MAC, text, expected, check_offsets)


def test_mac_spellings_meet_in_one_value_but_the_ioc_finder_view_shows_them_as_written():
    ex = extract("00-1A-2B-3C-4D-5E, 00:1a:2b:3c:4d:5e and 001a.2b3c.4d5e")
    assert set(ex.values(Kind.MAC)) == {"00:1a:2b:3c:4d:5e"}
    assert ex.to_ioc_finder()["mac_addresses"] == ["00-1A-2B-3C-4D-5E", "00:1a:2b:3c:4d:5e", "001a.2b3c.4d5e"]


# ---------------------------------------------------------------- Bitcoin

_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32, _BECH32M = 1, 0x2BC830A3


def _polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def _segwit_address(version: int, program: bytes, const: int) -> str:
    """BIP-173/350 reference encoding, with the checksum constant chosen by the caller."""
    acc, bits, data = 0, 0, [version]
    for b in program:
        acc = (acc << 8) | b
        bits += 8
        while bits >= 5:
            bits -= 5
            data.append((acc >> bits) & 31)
    if bits:
        data.append((acc << (5 - bits)) & 31)
    hrp = "bc"
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    mod = _polymod(expanded + data + [0] * 6) ^ const
    checksum = [(mod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_BECH32_CHARSET[d] for d in data + checksum)


GENESIS = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
P2SH = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
P2WPKH = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
P2TR = "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"  # BIP-86 test vector
V0_PROGRAM = bytes(range(20))
V1_PROGRAM = bytes(range(32))


def _flip_last(s: str, alphabet: str) -> str:
    repl = next(c for c in alphabet if c != s[-1])
    return s[:-1] + repl


BITCOIN = [
    P(f"pay to {GENESIS} now", [GENESIS], id="pos-genesis-p2pkh"),
    P(P2SH, [P2SH], id="pos-p2sh"),
    P(P2WPKH, [P2WPKH], id="pos-bech32-p2wpkh"),
    P(P2WPKH.upper(), [P2WPKH], id="pos-bech32-upper-case"),
    P(P2TR, [P2TR], id="pos-bech32m-taproot"),
    P(_segwit_address(0, V0_PROGRAM, _BECH32), [_segwit_address(0, V0_PROGRAM, _BECH32)], id="pos-generated-v0-bech32"),
    P(_segwit_address(1, V1_PROGRAM, _BECH32M), [_segwit_address(1, V1_PROGRAM, _BECH32M)], id="pos-generated-v1-bech32m"),
    P("1A1zP1eP5QGefi2DMPTfTL5MDivfNa", [], id="neg-truncated-genesis"),
    P(_flip_last(GENESIS, "abc"), [], id="neg-genesis-corrupted"),
    P(GENESIS[:5] + "X" + GENESIS[6:], [], id="neg-genesis-middle-char-changed"),
    P(_flip_last(P2SH, "abc"), [], id="neg-p2sh-corrupted"),
    P(_flip_last(P2WPKH, "qpz"), [], id="neg-bech32-corrupted"),
    P(_flip_last(P2TR, "qpz"), [], id="neg-bech32m-corrupted"),
    P(P2WPKH[:10] + P2WPKH[10:].upper(), [], id="neg-bech32-mixed-case"),
    P(_segwit_address(0, V0_PROGRAM, _BECH32M), [], id="neg-v0-with-bech32m-checksum"),
    P(_segwit_address(1, V1_PROGRAM, _BECH32), [], id="neg-v1-with-bech32-checksum"),
    P(f"x{GENESIS}", [], id="neg-glued-to-word"),
]


@pytest.mark.parametrize(("text", "expected"), BITCOIN)
def test_bitcoin(text, expected, check_offsets):
    check_kind(Kind.BITCOIN, text, expected, check_offsets)


# ---------------------------------------------------------------- Monero, Ethereum

XMR = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"

MONERO = [
    P(f"donate {XMR} thanks", [XMR], id="pos-standard"),
    P(XMR, [XMR], id="pos-whole-text"),
    P(_flip_last(XMR, "BCD"), [], id="neg-last-char-changed"),
    P(XMR[:20] + ("a" if XMR[20] != "a" else "b") + XMR[21:], [], id="neg-middle-char-changed"),
    P(XMR[:-1], [], id="neg-one-short"),
]


@pytest.mark.parametrize(("text", "expected"), MONERO)
def test_monero(text, expected, check_offsets):
    check_kind(Kind.MONERO, text, expected, check_offsets)


# EIP-55 test vectors.
ETH_CHECKSUMMED = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]
ETHEREUM = [
    *[P(f"send to {a} now", [a], id=f"pos-eip55-{a[:8]}") for a in ETH_CHECKSUMMED],
    P("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", ["0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"], id="pos-all-lower"),
    P("0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED", ["0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"], id="pos-all-upper"),
    P("0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed", [], id="neg-wrong-case-one-char"),
    P("0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", [], id="neg-wrong-case-other-char"),
    P("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", [], id="neg-39-hex"),
]


@pytest.mark.parametrize(("text", "expected"), ETHEREUM)
def test_ethereum(text, expected, check_offsets):
    check_kind(Kind.ETHEREUM, text, expected, check_offsets, fold_case=True)


# ---------------------------------------------------------------- user agents, TLP, Google IDs

UA_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
UA_BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
USER_AGENT = [
    P(f"User-Agent: {UA_CHROME}\n", [UA_CHROME], id="pos-chrome"),
    P(UA_BOT, [UA_BOT], id="pos-googlebot"),
    P("Mozilla/5.0", [], id="neg-product-only"),
    P("Mozilla Firefox is a browser", [], id="neg-prose"),
]


@pytest.mark.parametrize(("text", "expected"), USER_AGENT)
def test_user_agent(text, expected, check_offsets):
    check_kind(Kind.USER_AGENT, text, expected, check_offsets)


TLP = [
    P("TLP:CLEAR", ["TLP:CLEAR"], id="pos-clear"),
    P("marked TLP:AMBER+STRICT.", ["TLP:AMBER+STRICT"], id="pos-amber-strict"),
    P("tlp:amber", ["TLP:AMBER"], id="pos-lower-case"),
    P("TLP:WHITE TLP:GREEN TLP:RED", ["TLP:WHITE", "TLP:GREEN", "TLP:RED"], id="pos-legacy-and-others"),
    P("TLP: RED", ["TLP:RED"], id="pos-space-after-colon"),
    P("TLP:BLUE", [], id="neg-unknown-colour"),
    P("TLP:AMBERX", [], id="neg-colour-glued"),
    P("XTLP:RED", [], id="neg-glued-before"),
]


@pytest.mark.parametrize(("text", "expected"), TLP)
def test_tlp(text, expected, check_offsets):
    check_kind(Kind.TLP, text, expected, check_offsets)


GOOGLE_ADSENSE = [
    P("ad id pub-1234567890123456 here", ["pub-1234567890123456"], id="pos-pub"),
    P("ca-pub-1234567890123456", ["pub-1234567890123456"], id="pos-ca-pub"),
    P("pub-123456789012345", [], id="neg-15-digits"),
    P("pub-12345678901234567", [], id="neg-17-digits"),
]


@pytest.mark.parametrize(("text", "expected"), GOOGLE_ADSENSE)
def test_google_adsense(text, expected, check_offsets):
    check_kind(Kind.GOOGLE_ADSENSE, text, expected, check_offsets)


GOOGLE_ANALYTICS = [
    P("tracker UA-000000-2 found", ["UA-000000-2"], id="pos-kept-whole"),
    P("UA-12345678-1", ["UA-12345678-1"], id="pos-eight-digits"),
    P("UA-123-1", [], id="neg-too-short"),
    P("UA-000000", [], id="neg-no-profile-suffix"),
]


@pytest.mark.parametrize(("text", "expected"), GOOGLE_ANALYTICS)
def test_google_analytics(text, expected, check_offsets):
    check_kind(Kind.GOOGLE_ANALYTICS, text, expected, check_offsets)


# ---------------------------------------------------------------- ATT&CK

E, MOB, ICS, PRE = Matrix.ENTERPRISE, Matrix.MOBILE, Matrix.ICS, Matrix.PRE_ATTACK
TECH, TACTIC, MITIG = Kind.ATTACK_TECHNIQUE, Kind.ATTACK_TACTIC, Kind.ATTACK_MITIGATION
_ATTACK_KINDS = (TECH, TACTIC, MITIG)

ATTACK = [
    P("uses T1055 for injection", [(TECH, "T1055", {E})], id="pos-enterprise-technique"),
    P("T1059.001", [(TECH, "T1059.001", {E})], id="pos-enterprise-subtechnique"),
    P("TA0001", [(TACTIC, "TA0001", {E})], id="pos-enterprise-tactic"),
    P("TA0027", [(TACTIC, "TA0027", {MOB})], id="pos-mobile-tactic"),
    P("T1404", [(TECH, "T1404", {MOB})], id="pos-mobile-technique"),
    P("T0800", [(TECH, "T0800", {ICS})], id="pos-ics-technique"),
    P("TA0017", [(TACTIC, "TA0017", {PRE})], id="pos-pre-attack-tactic"),
    P("M1036", [(MITIG, "M1036", {E})], id="pos-enterprise-mitigation"),
    P("M1013", [(MITIG, "M1013", {E, MOB})], id="pos-enterprise-and-mobile-mitigation"),
    P("(T1055).", [(TECH, "T1055", {E})], id="pos-punctuated"),
    P("T9999", [], id="neg-unassigned-technique"),
    P("TA9999", [], id="neg-unassigned-tactic"),
    P("M9999", [], id="neg-unassigned-mitigation"),
    P("T1055x", [], id="neg-glued-after"),
    P("XT1055", [], id="neg-glued-before"),
    P("T10550", [], id="neg-five-digits"),
]


@pytest.mark.parametrize(("text", "expected"), ATTACK)
def test_attack_ids(text, expected, check_offsets):
    ex = extract(text)
    check_offsets(text, ex)
    got = [(i.kind, i.value, set(i.matrices)) for i in ex if i.kind in _ATTACK_KINDS]
    assert got == expected
    if expected:
        assert all(i.confidence.rank >= Confidence.MEDIUM.rank for i in ex if i.kind in _ATTACK_KINDS)


ATTACK_KEYS = [
    P("T1055", [("attack_techniques", "enterprise")], id="technique-enterprise"),
    P("T1059.001", [("attack_techniques", "enterprise")], id="subtechnique-enterprise"),
    P("TA0001", [("attack_tactics", "enterprise")], id="tactic-enterprise"),
    P("TA0027", [("attack_tactics", "mobile")], id="tactic-mobile"),
    P("T1404", [("attack_techniques", "mobile")], id="technique-mobile"),
    P("T0800", [("attack_ics", "techniques")], id="technique-ics-extra-key"),
    P("TA0017", [("attack_tactics", "pre_attack")], id="tactic-pre-attack"),
    P("M1036", [("attack_mitigations", "enterprise")], id="mitigation-enterprise"),
    P("M1013", [("attack_mitigations", "enterprise"), ("attack_mitigations", "mobile")], id="mitigation-both"),
    P("T9999", [], id="unassigned-nowhere"),
]
_ATTACK_SLOTS = [
    ("attack_mitigations", "enterprise"), ("attack_mitigations", "mobile"),
    ("attack_tactics", "pre_attack"), ("attack_tactics", "enterprise"), ("attack_tactics", "mobile"),
    ("attack_techniques", "pre_attack"), ("attack_techniques", "enterprise"), ("attack_techniques", "mobile"),
    ("attack_ics", "techniques"), ("attack_ics", "tactics"), ("attack_ics", "mitigations"),
]


@pytest.mark.parametrize(("text", "slots"), ATTACK_KEYS)
def test_attack_ioc_finder_slots(text, slots):
    out = extract(text).to_ioc_finder()
    for key, sub in _ATTACK_SLOTS:
        expected = [text] if (key, sub) in slots else []
        assert out[key][sub] == expected, (key, sub)


# ---------------------------------------------------------------- the vendor sample, ioc-finder shape

VENDOR_SAMPLE = (
    "216.251.148.1 192.168.1.1 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad "
    "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft https://www.google.com\r\n T1055  8[.]8[.]8[.]8  sample@d3security.com"
)

IOC_FINDER_FLAT_KEYS = [
    "urls", "xmpp_addresses", "email_addresses_complete", "email_addresses", "ipv4_cidrs", "imphashes",
    "authentihashes", "domains", "ipv4s", "ipv6s", "sha512s", "sha256s", "sha1s", "md5s", "ssdeeps", "asns",
    "cves", "registry_key_paths", "google_adsense_publisher_ids", "google_analytics_tracker_ids",
    "bitcoin_addresses", "monero_addresses", "mac_addresses", "user_agents", "tlp_labels", "file_paths",
]
IOC_FINDER_NESTED_KEYS = {
    "attack_mitigations": {"enterprise", "mobile"},
    "attack_tactics": {"pre_attack", "enterprise", "mobile"},
    "attack_techniques": {"pre_attack", "enterprise", "mobile"},
}
DOCUMENTED_EXTRAS = {
    "ipv6_cidrs", "socket_addresses", "ethereum_addresses", "ja3_fingerprints", "jarm_fingerprints", "attack_ics",
}


def test_vendor_sample_documented_answer(check_offsets):
    ex = extract(VENDOR_SAMPLE)
    check_offsets(VENDOR_SAMPLE, ex)
    out = ex.to_ioc_finder()
    assert set(out["ipv4s"]) >= {"8.8.8.8", "216.251.148.1", "192.168.1.1"}
    assert set(out["domains"]) >= {"www.google.com", "d3security.com"}
    assert out["sha256s"] == ["ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"]
    assert out["registry_key_paths"] == ["HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft"]
    assert out["attack_techniques"]["enterprise"] == ["T1055"]
    assert out["urls"] == ["https://www.google.com"]
    assert out["email_addresses"] == ["sample@d3security.com"]
    assert out["email_addresses_complete"] == ["sample@d3security.com"]


def test_vendor_sample_exact_lists():
    out = extract(VENDOR_SAMPLE).to_ioc_finder()
    assert out["ipv4s"] == ["216.251.148.1", "192.168.1.1", "8.8.8.8"]
    assert out["domains"] == ["www.google.com", "d3security.com"]
    nonempty = {k for k, v in out.items() if (any(v.values()) if isinstance(v, dict) else v)}
    assert nonempty == {
        "urls", "email_addresses_complete", "email_addresses", "domains", "ipv4s", "sha256s",
        "registry_key_paths", "attack_techniques",
    }


@pytest.mark.parametrize(
    "text",
    [
        P("", id="empty"),
        P(VENDOR_SAMPLE, id="vendor-sample"),
        P(f"T0800 {XMR} 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed 2001:db8::/32", id="extras-populated"),
    ],
)
def test_ioc_finder_key_set(text):
    out = extract(text).to_ioc_finder()
    keys = set(out)
    assert keys >= set(IOC_FINDER_FLAT_KEYS) | set(IOC_FINDER_NESTED_KEYS)
    assert keys - set(IOC_FINDER_FLAT_KEYS) - set(IOC_FINDER_NESTED_KEYS) <= DOCUMENTED_EXTRAS
    for key in IOC_FINDER_FLAT_KEYS:
        assert isinstance(out[key], list), key
    for key, subs in IOC_FINDER_NESTED_KEYS.items():
        assert set(out[key]) == subs, key
        assert all(isinstance(v, list) for v in out[key].values())
    # ioc-finder's own keys come first, in its order, extras after.
    ioc_finder_order = [k for k in out if k not in DOCUMENTED_EXTRAS]
    assert ioc_finder_order == [
        *IOC_FINDER_FLAT_KEYS[:-1], "attack_mitigations", "attack_tactics", "attack_techniques", "file_paths",
    ]


def test_ioc_finder_lists_deduplicated_in_first_appearance_order():
    text = (
        "b.com a.com b.com 2.2.2.2 1.1.1.1 2.2.2.2 https://z.com/1 https://y.com/2 https://z.com/1 "
        "CVE-2020-0002 CVE-2020-0001 cve-2020-0002 T1055 T1059 T1055"
    )
    out = extract(text).to_ioc_finder()
    assert out["ipv4s"] == ["2.2.2.2", "1.1.1.1"]
    assert out["urls"] == ["https://z.com/1", "https://y.com/2"]
    assert out["domains"] == ["b.com", "a.com", "z.com", "y.com"]
    assert out["cves"] == ["CVE-2020-0002", "CVE-2020-0001"]
    assert out["attack_techniques"]["enterprise"] == ["T1055", "T1059"]
    for key, value in out.items():
        lists = value.values() if isinstance(value, dict) else [value]
        for lst in lists:
            assert len(lst) == len(set(lst)), key
