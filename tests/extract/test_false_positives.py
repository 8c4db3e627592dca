"""Known false-positive families, each one explicit.

Each table gives texts and the exact distinct values (medium confidence and
up, i.e. what ``values()`` and ``to_ioc_finder()`` report) of one kind.
"""

from __future__ import annotations

import pytest

from iocflow.extract import Confidence, Kind, extract

P = pytest.param
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def reported(text: str, kind: Kind, check_offsets) -> list[str]:
    ex = extract(text)
    check_offsets(text, ex)
    return ex.values(kind)


def anywhere(text: str, kind: Kind, check_offsets) -> list[str]:
    """Values of ``kind`` at any confidence, low included."""
    ex = extract(text)
    check_offsets(text, ex)
    return ex.values(kind, min_confidence=Confidence.LOW)


# ---------------------------------------------------------------- file names that look like domains

FILE_NAMES_NOT_DOMAINS = [
    P("open invoice.pdf now", id="pdf"),
    P("run setup.exe now", id="exe"),
    P("see report.docx", id="docx"),
    P("loaded kernel32.dll", id="dll"),
    P("the file payload.bin", id="bin"),
]


@pytest.mark.parametrize("text", FILE_NAMES_NOT_DOMAINS)
def test_file_names_are_not_domains(text, check_offsets):
    assert anywhere(text, Kind.DOMAIN, check_offsets) == []


LOW_CONFIDENCE_FILE_NAMES = [
    P("python main.py --help", "main.py", id="py"),
    P("see readme.md for details", "readme.md", id="md"),
    P("extract archive.zip first", "archive.zip", id="zip"),
    P("run script.sh", "script.sh", id="sh"),
]


@pytest.mark.parametrize(("text", "name"), LOW_CONFIDENCE_FILE_NAMES)
def test_file_names_with_tld_extensions_are_low_confidence(text, name, check_offsets):
    ex = extract(text)
    check_offsets(text, ex)
    hits = [i for i in ex if i.kind is Kind.DOMAIN and i.value == name]
    assert hits and all(i.confidence is Confidence.LOW for i in hits)
    assert name not in ex.values(Kind.DOMAIN)
    assert name not in ex.to_ioc_finder()["domains"]
    assert name in ex.to_ioc_finder(min_confidence=Confidence.LOW)["domains"]


@pytest.mark.parametrize(
    ("text", "url", "host"),
    [
        P("fetch http://x.py/a now", "http://x.py/a", "x.py", id="py-host-in-url"),
        P("fetch https://update.zip/x.exe now", "https://update.zip/x.exe", "update.zip", id="zip-host-in-url"),
        P("mail bob@main.py", None, "main.py", id="py-host-of-email"),
    ],
)
def test_file_extension_tld_kept_when_used_as_host(text, url, host, check_offsets):
    ex = extract(text)
    check_offsets(text, ex)
    out = ex.to_ioc_finder()
    if url is not None:
        assert out["urls"] == [url]
    assert host in out["domains"]


# ---------------------------------------------------------------- version numbers

VERSIONS = [
    P("version 1.2.3.4", "1.2.3.4", id="version"),
    P("Version: 10.0.19041.1", "10.0.19041.1", id="version-colon-windows-build-not-ip"),
    P("ver 2.0.0.1 released", "2.0.0.1", id="ver"),
    P("build 6.1.7601.2", "6.1.7601.2", id="build-not-ip"),
    P("upgrade to v1.2.3.4", "1.2.3.4", id="v-prefix"),
]


@pytest.mark.parametrize(("text", "dotted"), VERSIONS)
def test_version_numbers_are_low_confidence(text, dotted, check_offsets):
    ex = extract(text)
    check_offsets(text, ex)
    assert ex.values(Kind.IPV4) == []
    assert ex.to_ioc_finder()["ipv4s"] == []
    for i in ex:
        if i.kind is Kind.IPV4:
            assert i.confidence is Confidence.LOW


NOT_VERSION_MARKERS = [
    P("route via dev 10.0.0.1", "10.0.0.1", id="dev"),
    P("env: 10.0.0.1", "10.0.0.1", id="env"),
    P("srv 10.0.0.1", "10.0.0.1", id="srv"),
    P("CV 8.8.8.8", "8.8.8.8", id="cv"),
    P("Kyiv 8.8.8.8", "8.8.8.8", id="city-ending-in-v"),
]


@pytest.mark.parametrize(("text", "value"), NOT_VERSION_MARKERS)
def test_words_merely_ending_in_v_are_not_version_markers(text, value, check_offsets):
    """Only a version word ("version", "ver", "build", "v" on its own or glued "v1.2.3.4") lowers confidence."""
    assert reported(text, Kind.IPV4, check_offsets) == [value]


def test_version_marker_does_not_hide_later_address(check_offsets):
    text = "version 1.2.3.4 connects to 8.8.8.8"
    assert reported(text, Kind.IPV4, check_offsets) == ["8.8.8.8"]


# ---------------------------------------------------------------- hashes inside longer hex runs

HEX_RUNS = [
    P(f"x {MD5}0 y", id="md5-plus-one"),
    P(f"x 0{MD5} y", id="one-plus-md5"),
    P(f"x {SHA1}ab y", id="sha1-plus-two"),
    P(f"x {SHA256}{SHA256[:16]} y", id="80-hex"),
    P(f"x {SHA256}{MD5} y", id="96-hex-sha384-length"),
    P(f"x {SHA256 * 3} y", id="192-hex"),
    P(f"x {MD5}g y", id="md5-glued-letter"),
    P(f"x g{MD5} y", id="letter-glued-md5"),
    P(f"x _{MD5} y", id="underscore-glued-md5"),
]


@pytest.mark.parametrize("text", HEX_RUNS)
def test_hashes_inside_longer_hex_runs_not_reported(text, check_offsets):
    ex = extract(text)
    check_offsets(text, ex)
    for kind in (Kind.MD5, Kind.SHA1, Kind.SHA256, Kind.SHA512, Kind.IMPHASH, Kind.AUTHENTIHASH):
        assert ex.values(kind, min_confidence=Confidence.LOW) == [], kind


# ---------------------------------------------------------------- URL endings

URL_ENDINGS = [
    P('<a href="http://evil.com/bad.html">http://evil.com/bad.html</a><br>', ["http://evil.com/bad.html"],
      id="html-anchor"),
    P("http://evil.com/bad.html</a><br>", ["http://evil.com/bad.html"], id="closing-tags"),
    P("http://evil.com/bad.html<br/>next", ["http://evil.com/bad.html"], id="br-tag"),
    P("![shot](https://evil.com/a.png)", ["https://evil.com/a.png"], id="markdown-image"),
    P("[https://evil.com/a.png](https://evil.com/b.png)", ["https://evil.com/a.png", "https://evil.com/b.png"],
      id="markdown-link-text-is-url"),
    P("[x](https://evil.com/a.png](https://evil.com/b.png)", ["https://evil.com/a.png", "https://evil.com/b.png"],
      id="markdown-png-close-paren-open"),
    P("Visit http://evil.com/a, then leave", ["http://evil.com/a"], id="trailing-comma"),
    P("Go to http://evil.com/a.", ["http://evil.com/a"], id="trailing-period"),
    P("(see http://evil.com/a)", ["http://evil.com/a"], id="closing-paren"),
    P('"http://evil.com/a"', ["http://evil.com/a"], id="double-quotes"),
    P("'http://evil.com/a'", ["http://evil.com/a"], id="single-quotes"),
    P("[http://evil.com/a]", ["http://evil.com/a"], id="square-brackets"),
    P("<http://evil.com/a>", ["http://evil.com/a"], id="angle-brackets"),
    P("is it http://evil.com/a?", ["http://evil.com/a"], id="trailing-question-mark"),
    P("http://evil.com/a;", ["http://evil.com/a"], id="trailing-semicolon"),
    P("http://evil.com/a&quot;", ["http://evil.com/a"], id="html-entity-quote"),
    P("http://en.wikipedia.org/wiki/Foo_(bar)", ["http://en.wikipedia.org/wiki/Foo_(bar)"],
      id="balanced-paren-kept"),
    P("(http://en.wikipedia.org/wiki/Foo_(bar))", ["http://en.wikipedia.org/wiki/Foo_(bar)"],
      id="balanced-paren-inside-parens"),
    P("http://evil.com/a?x=1&y=2.", ["http://evil.com/a?x=1&y=2"], id="query-then-period"),
    P("http://evil.com/", ["http://evil.com/"], id="trailing-slash-kept"),
]


@pytest.mark.parametrize(("text", "expected"), URL_ENDINGS)
def test_url_trailing_punctuation_and_markup_trimmed(text, expected, check_offsets):
    assert reported(text, Kind.URL, check_offsets) == expected


# ---------------------------------------------------------------- e-mail vs XMPP

EMAIL_VS_XMPP = [
    P("user@jabber.org", [], ["user@jabber.org"], id="jabber-org"),
    P("alice@jabber.ccc.de", [], ["alice@jabber.ccc.de"], id="jabber-subdomain"),
    P("bob@xmpp.example.com", [], ["bob@xmpp.example.com"], id="xmpp-subdomain"),
    P("user@example.com", ["user@example.com"], [], id="plain-email"),
    P("user@example.com and user@jabber.org", ["user@example.com"], ["user@jabber.org"], id="both"),
]


@pytest.mark.parametrize(("text", "emails", "xmpps"), EMAIL_VS_XMPP)
def test_email_vs_xmpp(text, emails, xmpps, check_offsets):
    ex = extract(text)
    check_offsets(text, ex)
    assert ex.values(Kind.EMAIL) == emails
    assert ex.values(Kind.XMPP) == xmpps
    out = ex.to_ioc_finder()
    assert out["email_addresses"] == emails
    assert out["xmpp_addresses"] == xmpps


# ---------------------------------------------------------------- hashes that are parts of URLs

# A hex run that is part of a URL's file name, query value or host is part of
# the URL. A whole path segment is reported (ioc-finder's own tests expect the
# sample hash of a VirusTotal link): "/file/<sha256>/" names the sample.
HASHES_IN_URLS = [
    P(f"https://evil.com/dl?md5={MD5}&x=1", id="md5-query-value"),
    P(f"https://evil.com/{SHA1}.exe", id="sha1-file-name"),
    P(f"https://evil.com/a{MD5}/x", id="md5-inside-segment"),
    P(f"https://cdn.evil.com/x#{SHA256}", id="sha256-fragment-after-query-like"),
]
HASH_PATH_SEGMENTS = [
    P(f"https://evil.com/{MD5}/x", Kind.MD5, MD5, id="md5-path-segment"),
    P(f"https://evil.com/{MD5}", Kind.MD5, MD5, id="md5-path-end"),
    P(f"https://www.virustotal.com/gui/file/{SHA256}", Kind.SHA256, SHA256, id="sha256-virustotal"),
    P(f"see hxxps://evil[.]com/{SHA256}/x now", Kind.SHA256, SHA256, id="sha256-defanged-url"),
]


@pytest.mark.parametrize("text", HASHES_IN_URLS)
def test_hashes_in_urls_not_reported_as_hashes(text, check_offsets):
    ex = extract(text)
    check_offsets(text, ex)
    assert len(ex.values(Kind.URL)) == 1
    for kind in (Kind.MD5, Kind.SHA1, Kind.SHA256, Kind.SHA512):
        assert ex.values(kind, min_confidence=Confidence.LOW) == [], kind


@pytest.mark.parametrize(("text", "kind", "value"), HASH_PATH_SEGMENTS)
def test_hash_as_whole_url_path_segment_is_reported(text, kind, value, check_offsets):
    ex = extract(text)
    check_offsets(text, ex)
    assert len(ex.values(Kind.URL)) == 1
    assert ex.values(kind) == [value]


def test_hash_next_to_url_still_reported(check_offsets):
    text = f"https://evil.com/x {MD5}"
    assert reported(text, Kind.MD5, check_offsets) == [MD5]


# ---------------------------------------------------------------- IPv4 inside longer dotted numbers

LONG_DOTTED = [
    P("1.1.1.1.1", id="five-parts"),
    P("oid 1.3.6.1.4.1.311 here", id="oid"),
    P("in .18.12.15.14 here", id="leading-dot"),
    P("1.2.3.4.5.6", id="six-parts"),
    P("10.20.30.40.50", id="five-parts-two-digit"),
    P("1.2.3.4567", id="four-digit-last"),
]


@pytest.mark.parametrize("text", LONG_DOTTED)
def test_ipv4_inside_longer_dotted_numbers_not_reported(text, check_offsets):
    assert anywhere(text, Kind.IPV4, check_offsets) == []


# ---------------------------------------------------------------- IPv6 fragments

IPV6_FRAGMENTS = [
    P("std::string", id="cpp-scope"),
    P("std::vector<int> v;", id="cpp-template"),
    P("Foo::Bar::baz()", id="ruby-scope"),
    P("at 12:30:45 UTC", id="time"),
    P("at 12:30:45.123 UTC", id="time-with-millis"),
    P("prefix 2001:db8 alone", id="two-groups"),
    P("ratio 1:2:3", id="ratio"),
    P("a::b::c::d", id="several-double-colons"),
]


@pytest.mark.parametrize("text", IPV6_FRAGMENTS)
def test_ipv6_fragments_not_reported(text, check_offsets):
    assert anywhere(text, Kind.IPV6, check_offsets) == []


# ---------------------------------------------------------------- registry keys with spaces

REGISTRY_SPACES = [
    P(r"HKCU\Volatile Environment", [r"HKCU\Volatile Environment"], id="volatile-environment"),
    P(r"HKCU\Volatile Environment key was modified", [r"HKCU\Volatile Environment"], id="followed-by-prose"),
    P(r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon",
      [r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon"], id="windows-nt"),
    P(r"HKCU\Control Panel\Desktop", [r"HKCU\Control Panel\Desktop"], id="control-panel"),
]


@pytest.mark.parametrize(("text", "expected"), REGISTRY_SPACES)
def test_registry_keys_with_spaces_kept_whole(text, expected, check_offsets):
    assert reported(text, Kind.REGISTRY_KEY, check_offsets) == expected


# ---------------------------------------------------------------- underscores in host names

@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        P("resolve my_host.example.com now", Kind.DOMAIN, ["my_host.example.com"], id="domain"),
        P("http://my_host.example.com/x", Kind.URL, ["http://my_host.example.com/x"], id="url"),
        P("http://my_host.example.com/x", Kind.DOMAIN, ["my_host.example.com"], id="url-host"),
        P("_dmarc.example.com", Kind.DOMAIN, ["_dmarc.example.com"], id="leading-underscore-label"),
    ],
)
def test_hosts_with_underscores_kept_whole(text, kind, expected, check_offsets):
    assert reported(text, kind, check_offsets) == expected


# ---------------------------------------------------------------- CVE case

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        P("cve-2014-1000", ["CVE-2014-1000"], id="lower-case"),
        P("Cve-2014-1000", ["CVE-2014-1000"], id="mixed-case"),
        P("cve-2014-1000 and CVE-2014-1000", ["CVE-2014-1000"], id="deduplicated-across-case"),
    ],
)
def test_lower_case_cve_normalised(text, expected, check_offsets):
    assert reported(text, Kind.CVE, check_offsets) == expected


# ---------------------------------------------------------------- special-purpose addresses still reported

SPECIAL_ADDRESSES = [
    P("10.0.0.1", Kind.IPV4, "10.0.0.1", id="rfc1918-10"),
    P("192.168.1.1", Kind.IPV4, "192.168.1.1", id="rfc1918-192"),
    P("172.16.0.1", Kind.IPV4, "172.16.0.1", id="rfc1918-172"),
    P("127.0.0.1", Kind.IPV4, "127.0.0.1", id="loopback"),
    P("192.0.2.1", Kind.IPV4, "192.0.2.1", id="documentation-test-net-1"),
    P("198.51.100.1", Kind.IPV4, "198.51.100.1", id="documentation-test-net-2"),
    P("169.254.1.1", Kind.IPV4, "169.254.1.1", id="link-local"),
    P("2001:db8::1", Kind.IPV6, "2001:db8::1", id="ipv6-documentation"),
    P("::1", Kind.IPV6, "::1", id="ipv6-loopback"),
    P("fc00::1", Kind.IPV6, "fc00::1", id="ipv6-unique-local"),
]


@pytest.mark.parametrize(("text", "kind", "value"), SPECIAL_ADDRESSES)
def test_private_loopback_documentation_addresses_reported(text, kind, value, check_offsets):
    ex = extract(f"seen {text} today")
    check_offsets(f"seen {text} today", ex)
    assert ex.values(kind) == [value]
    key = "ipv4s" if kind is Kind.IPV4 else "ipv6s"
    assert ex.to_ioc_finder()[key] == [value]


# ---------------------------------------------------------------- e-mails glued to the word before [@]

GLUED_EMAILS = [
    P("contact:admin[@]evil.com", "admin@evil.com", "admin[@]evil.com", id="after-colon"),
    P("Email=admin[@]evil.com", "admin@evil.com", "admin[@]evil.com", id="after-equals"),
    P("(admin[@]evil.com)", "admin@evil.com", "admin[@]evil.com", id="in-parens"),
    P("<admin[@]evil[.]com>", "admin@evil.com", "admin[@]evil[.]com", id="in-angles"),
    P('"admin[@]evil.com"', "admin@evil.com", "admin[@]evil.com", id="in-quotes"),
    P("mailadmin[@]evil.com", "mailadmin@evil.com", "mailadmin[@]evil.com", id="glued-word-is-local-part"),
    P("from:john.doe[at]evil.com", "john.doe@evil.com", "john.doe[at]evil.com", id="word-at-after-colon"),
]


@pytest.mark.parametrize(("text", "value", "raw"), GLUED_EMAILS)
def test_emails_glued_to_word_before_defanged_at(text, value, raw, check_offsets):
    ex = extract(text)
    check_offsets(text, ex)
    emails = [i for i in ex if i.kind is Kind.EMAIL]
    assert [i.value for i in emails] == [value]
    assert emails[0].raw == raw
    assert emails[0].defanged is True


# ---------------------------------------------------------------- percent-encoded URLs

PCT_URL = (
    "https://asf.goole.com/mail?url=http%3A%2F%2Ffreasdfuewriter.com%2Fcs%2Fimage%2FCommerciaE.jpg"
    "&t=1575955624"
)
AWSTRACK = (
    "http://8pretgdl.r.us-east-1.awstrack.me/L0/http:%2F%2Fwww.excelgoodies.com%2Fexcel-vba-training"
    "%23course-content/1/0100016ed23f4bef-b14931bd/mHJBuJ8D1RcIDE3jrWkdw4I9im4=138"
)


@pytest.mark.parametrize(
    ("text", "url", "domains"),
    [
        P(PCT_URL, PCT_URL, ["asf.goole.com", "freasdfuewriter.com"], id="encoded-url-in-query"),
        P(AWSTRACK, AWSTRACK, ["8pretgdl.r.us-east-1.awstrack.me", "www.excelgoodies.com"], id="encoded-url-in-path"),
    ],
)
def test_percent_encoded_urls_kept_whole_and_literal(text, url, domains, check_offsets):
    ex = extract(text)
    check_offsets(text, ex)
    out = ex.to_ioc_finder()
    assert out["urls"] == [url]
    assert set(domains) <= set(out["domains"])
    assert not any(d.startswith(("2f", "3a")) for d in out["domains"]), out["domains"]


@pytest.mark.parametrize(
    ("text", "domains"),
    [
        P("freasdfuewriter.com%2F", ["freasdfuewriter.com"], id="encoded-slash-after"),
        P("https://evil.com/a%20b%2Fc", ["evil.com"], id="encoded-chars-in-path"),
    ],
)
def test_percent_encoding_does_not_make_garbage_domains(text, domains, check_offsets):
    assert reported(text, Kind.DOMAIN, check_offsets) == domains
