"""Adversarial input: correct results, right offsets, no crash, and it returns on large pathological text.

Speed itself is measured in the benchmarks, not here: no wall-clock assertions. Where the
quadratic part is C code too fast to show on test-sized input (re-reading a URL for each
indicator in it), the tests count how much text the readers are given; HTML pages whose tree
would be quadratic must not get one.
"""

from __future__ import annotations

import random
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iocflow.extract import Confidence, Kind, extract
from iocflow.extract.readers import document_text, html_text_without_tree, html_tree_cost
from tests.hostile_documents import html_with_attributes, nested_html, reopened_formatting_html

P = pytest.param
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
GENESIS = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"

# Pieces that drive regex engines into backtracking or quadratic rescans.
ATOMS = [".", "0", "9", "a", "f", "[", "]", "(", ")", "{", "}", "@", "\\", "[.]", ":", "::", "1.", "0:", "a:",
         "a@", "[@]", "[dot]", "(.)", "/", "%", "-", "_", "1.1.", "a.", "\\.", "hxxp", "%3A%2F%2F"]
FILLER_ALPHABET = "0123456789abcdef.:@[]\\()/{}%-_x"

# (source text, kind, refanged value) embedded at known positions.
EMBEDDED = [
    ("8.8.8.8", Kind.IPV4, "8.8.8.8"),
    ("evil.com", Kind.DOMAIN, "evil.com"),
    ("http://evil.example.org/a/b.php", Kind.URL, "http://evil.example.org/a/b.php"),
    ("user@example.com", Kind.EMAIL, "user@example.com"),
    (MD5, Kind.MD5, MD5),
    (SHA256, Kind.SHA256, SHA256),
    ("CVE-2021-44228", Kind.CVE, "CVE-2021-44228"),
    ("2001:db8::1", Kind.IPV6, "2001:db8::1"),
    ("HKLM\\Software\\Evil", Kind.REGISTRY_KEY, "HKLM\\Software\\Evil"),
    ("T1055", Kind.ATTACK_TECHNIQUE, "T1055"),
    ("00:1a:2b:3c:4d:5e", Kind.MAC, "00:1a:2b:3c:4d:5e"),
    (GENESIS, Kind.BITCOIN, GENESIS),
    ("evil[.]net", Kind.DOMAIN, "evil.net"),
    ("hxxp://bad[.]org/x", Kind.URL, "http://bad.org/x"),
    ("john[@]example.org", Kind.EMAIL, "john@example.org"),
    ("10.1.2.0/24", Kind.IPV4_CIDR, "10.1.2.0/24"),
]

atom_runs = st.builds(lambda atom, n: atom * n, st.sampled_from(ATOMS), st.integers(1, 1500))
mixed_runs = st.text(alphabet=FILLER_ALPHABET, max_size=400)
fillers = st.one_of(atom_runs, mixed_runs)
segments = st.lists(st.tuples(fillers, st.sampled_from(range(len(EMBEDDED))), st.sampled_from([" ", "\n", "\t"])),
                    min_size=1, max_size=8)


def _build(parts: list[tuple[str, int, str]], tail: str) -> tuple[str, list[tuple[int, int]]]:
    """Text with each embedded indicator between whitespace, and (offset, EMBEDDED index) of each."""
    pieces: list[str] = []
    placed: list[tuple[int, int]] = []
    pos = 0
    for filler, index, sep in parts:
        if sep == " " and filler.endswith(("]", ")", "}")):
            sep = "\t"  # "evil [.] com" is a spaced defang: a marker before a space joins the next word
        chunk = filler + sep
        pieces.append(chunk)
        pos += len(chunk)
        placed.append((pos, index))
        source = EMBEDDED[index][0]
        pieces.append(source + "\n")
        pos += len(source) + 1
    pieces.append(tail)
    return "".join(pieces), placed


def _assert_embedded_found(text: str, placed: list[tuple[int, int]], check_offsets) -> None:
    ex = extract(text)
    check_offsets(text, ex)
    hits = {(i.kind, i.value, i.start, i.end) for i in ex}
    for pos, index in placed:
        source, kind, value = EMBEDDED[index]
        assert (kind, value, pos, pos + len(source)) in hits, (source, pos, [i.as_dict() for i in ex])
        assert value in ex.values(kind, min_confidence=Confidence.MEDIUM)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=segments, tail=fillers)
def test_embedded_indicators_found_among_adversarial_runs(parts, tail, check_offsets):
    text, placed = _build(parts, tail)
    _assert_embedded_found(text, placed, check_offsets)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(alphabet=st.sampled_from([*FILLER_ALPHABET, " ", "\n", "é", "見", "\u200b", "A", "T", "H",
                                             "K", "L", "M", "C", "V", "E", "h", "t", "p", "s", "o", "m", "n"]),
                    max_size=3000))
def test_arbitrary_text_never_crashes_and_offsets_hold(text, check_offsets):
    for refang in (True, False):
        ex = extract(text, refang=refang)
        check_offsets(text, ex)
        for i in ex:
            assert i.value
            assert i.start < i.end
            if not refang:
                assert not i.defanged
        ex.to_ioc_finder()


# ---------------------------------------------------------------- 200 KB of each pathological pattern

SIZE = 200_000


def _repeat(pattern: str) -> str:
    return (pattern * (SIZE // len(pattern) + 1))[:SIZE]


# Pure pathological filler: no indicator in it at all.
EMPTY_PATTERNS = [
    P(".", id="dots"),
    P("1", id="digits"),
    P("a", id="hex-letter"),
    P("f0", id="hex-pairs"),
    P("[", id="open-brackets"),
    P("]", id="close-brackets"),
    P("(", id="open-parens"),
    P("@", id="at-signs"),
    P("\\", id="backslashes"),
    P("[.]", id="defanged-dots"),
    P("(.)", id="paren-dots"),
    P("[dot]", id="word-dots"),
    P("[@]", id="defanged-ats"),
    P(":", id="colons"),
    P("::", id="double-colons"),
    P("0:", id="digit-colon"),
    P("a:", id="hex-colon"),
    P("1:", id="one-colon"),
    P("1.", id="digit-dot"),
    P("1.1.", id="dotted-numbers"),
    P("8.8.8.8.", id="ip-chain"),
    P("a@", id="letter-at"),
    P("a[@]", id="letter-defanged-at"),
    P("[.]a", id="defanged-dot-letter"),
    P("\\\\a", id="unc-like"),
    P("-", id="hyphens"),
    P("_", id="underscores"),
    P("%", id="percents"),
    P("bc1q", id="bech32-prefix"),
    P("0x", id="hex-prefix"),
    P("pub-", id="adsense-prefix"),
    P("TLP:", id="tlp-prefix"),
    P("CVE-2021-", id="cve-prefix"),
    P("hxxp", id="defanged-scheme-word"),
    P("a\\.", id="escaped-dots"),
    P("Mozilla/5.0 (", id="user-agent-open-paren"),
]


@pytest.mark.parametrize("pattern", EMPTY_PATTERNS)
def test_200kb_pathological_pattern_returns_nothing(pattern, check_offsets):
    text = _repeat(pattern)
    ex = extract(text)
    check_offsets(text, ex)
    assert len(ex) == 0, [i.as_dict() for i in list(ex)[:5]]


# Patterns whose result is not pinned down: they only have to return, with valid offsets.
OTHER_PATTERNS = [
    P(" dot ", id="spaced-dot"),
    P("a dot ", id="word-spaced-dot"),
    P("a at ", id="word-spaced-at"),
    P("%3A%2F%2F", id="percent-encoded-separator"),
    P("http://", id="scheme-only"),
    P("http://a", id="scheme-letter"),
    P("HKLM\\", id="registry-hive"),
    P("HKLM\\A ", id="registry-spaced"),
    P("C:\\", id="drive-root"),
    P("C:\\a ", id="drive-spaced"),
    P("/etc/", id="unix-root"),
    P("~/", id="home"),
    P("Mozilla/5.0 ", id="user-agent-start"),
    P("T1055.", id="attack-dotted"),
    P("x.com/", id="schemeless-url"),
    P("x.com.", id="dotted-domains"),
    P("e.com@", id="domain-at"),
    P("@a.com", id="at-domain"),
    P("3:a:", id="ssdeep-like"),
    P("AS1", id="asn-like"),
    P("a.b.c.d.", id="long-dotted-name"),
]


@pytest.mark.parametrize("pattern", OTHER_PATTERNS)
def test_200kb_pathological_pattern_returns(pattern, check_offsets):
    text = _repeat(pattern)
    ex = extract(text)
    check_offsets(text, ex)
    assert len(ex) >= 0
    ex.to_ioc_finder()


# IOC-dense text: exactly one (or two, with the derived domain) indicator per repetition.
DENSE_PATTERNS = [
    P("8.8.8.8 ", {Kind.IPV4: 1}, id="ipv4s"),
    P("evil.com ", {Kind.DOMAIN: 1}, id="domains"),
    P("evil[.]com ", {Kind.DOMAIN: 1}, id="defanged-domains"),
    P("T1055 ", {Kind.ATTACK_TECHNIQUE: 1}, id="attack-ids"),
    P(MD5 + " ", {Kind.MD5: 1}, id="md5s"),
    P("user@example.com ", {Kind.EMAIL: 1, Kind.DOMAIN: 1}, id="emails"),
    P("hxxp://a[.]com/x ", {Kind.URL: 1, Kind.DOMAIN: 1}, id="defanged-urls"),
    P("2001:db8::1 ", {Kind.IPV6: 1}, id="ipv6s"),
    P("CVE-2021-44228 ", {Kind.CVE: 1}, id="cves"),
]


@pytest.mark.parametrize(("pattern", "per_repeat"), DENSE_PATTERNS)
def test_200kb_dense_indicators_all_found(pattern, per_repeat, check_offsets):
    repeats = SIZE // len(pattern)
    text = pattern * repeats
    ex = extract(text)
    check_offsets(text, ex)
    counts: dict[Kind, int] = {}
    for i in ex:
        counts[i.kind] = counts.get(i.kind, 0) + 1
    assert counts == {kind: n * repeats for kind, n in per_repeat.items()}


@pytest.mark.parametrize("pattern", [p.values[0] for p in EMPTY_PATTERNS + OTHER_PATTERNS])
def test_indicators_after_200kb_pathological_prefix_found(pattern, check_offsets):
    prefix = _repeat(pattern) + "\n"
    parts = [(prefix, 0, " "), ("", 12, " "), ("", 1, " "), ("", 14, " ")]
    text, placed = _build(parts, "")
    _assert_embedded_found(text, placed, check_offsets)


# ---------------------------------------------------------------- indicators all along one long run (issue 12)
#
# Each of these was quadratic: every indicator inside a long URL read the whole URL again
# (looking for its "?" and "#"), and every domain along a bare path read up to 1 KB ahead.
# The re-reading is done by C code at memchr speed, so it only shows in wall time from
# about a megabyte on; what the tests count instead is how much text those readers are
# given, which is quadratic in the input when each indicator re-reads the run.

LONG_RUNS = [
    P("http://a.top/", "x.com/", id="url-then-domains"),
    P("http://a.top/", "1.2.3.4/", id="url-then-ipv4s"),
    P("http://", "1.2.3.4/", id="ipv4-url-then-ipv4s"),
    P("http://a.com/", MD5 + "/", id="url-then-hash-segments"),
    P("http://a.com/?q=", "x.com&", id="query-of-domains"),
    P("", "x.com/", id="bare-domain-chain"),
]


class _Meter:
    """Wraps a function of a text (or a compiled pattern's ``match``) and adds up how much text it reads."""

    def __init__(self, target):
        self.target = target
        self.calls = 0
        self.read = 0

    def __call__(self, text: str) -> object:  # authority_end(url)
        self.calls += 1
        self.read += len(text)
        return self.target(text)

    def match(self, text: str, pos: int = 0, endpos: int = sys.maxsize):  # a pattern's match(text, pos)
        m = self.target.match(text, pos, endpos)
        self.calls += 1
        self.read += m.end() - pos if m is not None else 0
        return m


@pytest.fixture
def readers(monkeypatch: pytest.MonkeyPatch) -> dict[str, _Meter]:
    """How much text the URL readers that used to re-read a run are given, per extraction."""
    from iocflow.extract import engine
    from iocflow.extract.kinds import network

    meters = {"authority": _Meter(engine.authority_end), "path": _Meter(network._URL_REST)}
    monkeypatch.setattr(engine, "authority_end", meters["authority"])
    monkeypatch.setattr(network, "_URL_REST", meters["path"])
    return meters


@pytest.mark.parametrize(("head", "unit"), LONG_RUNS)
def test_a_long_run_is_read_once_not_once_per_indicator_in_it(head, unit, readers, check_offsets):
    text = head + unit * (SIZE // len(unit)) + " then evil.com"
    ex = extract(text)
    check_offsets(text, ex)
    assert "evil.com" in ex.values(Kind.DOMAIN)
    for name, meter in readers.items():
        assert meter.read <= 2 * len(text), (name, meter.calls, meter.read)


def test_16mb_of_url_characters_without_a_space_is_read_once(readers, check_offsets):
    """The issue's 16 MB run took 62 times as long as 1 MB; 2 MB shows the same re-reading."""
    text = "".join(random.Random(16).choices("abcdefghijklmnopqrstuvwxyz0123456789./:-_@", k=2_000_000))
    ex = extract(text)
    check_offsets(text, ex)
    for name, meter in readers.items():
        assert meter.read <= 2 * len(text), (name, meter.calls, meter.read)


@pytest.mark.parametrize(("head", "unit"), LONG_RUNS)
def test_indicators_inside_a_long_url_are_all_found(head, unit, check_offsets):
    repeats = SIZE // len(unit)
    ex = extract(head + unit * repeats)
    if head:
        assert len(ex.values(Kind.URL)) == 1
    inner = unit.strip("/&")
    kind = {"x.com": Kind.DOMAIN, "1.2.3.4": Kind.IPV4, MD5: Kind.MD5}[inner]
    assert sum(1 for i in ex if i.kind is kind and i.value == inner) >= repeats - 1


# ---------------------------------------------------------------- HTML pages whose tree is costly (issue 12)
#
# Building these pages' trees costs the square of their size (doubling one quadruples
# the time; the 429 KB page took 59 s): they are read without a tree, so what
# is checked is that no tree is built, and that the text is still all there.

HOSTILE_PAGES = [
    pytest.param(html_with_attributes(40_000), "C2 at evil.com", id="40000-attributes-on-one-tag"),
    pytest.param(nested_html(20_000), "C2 at 203.0.113.9", id="20000-nested-divs"),
    pytest.param(reopened_formatting_html(20_000), "C2 at evil.com", id="200-formatting-elements-reopened"),
    pytest.param("<html><body>" + "<div><span>" * 10_000 + "C2 at evil.com", "C2 at evil.com", id="unclosed-nesting"),
    pytest.param("<html><body>" + "<div/>" * 20_000 + "C2 at evil.com", "C2 at evil.com", id="self-closed-divs-nest"),
]


@pytest.mark.parametrize(("page", "sentence"), HOSTILE_PAGES)
def test_html_costly_to_build_is_read_without_a_tree(page: str, sentence: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_tree(*args: object, **kwargs: object) -> None:
        raise AssertionError("the HTML tree was built")

    assert html_tree_cost(page).costly
    monkeypatch.setattr("selectolax.lexbor.LexborHTMLParser", no_tree)
    text = document_text(page.encode(), "page.html")
    assert sentence in text.splitlines()




# Tag soup for the reader's own pass over the tags: a tag, quoted value or comment left open
# runs to the end of the page, so no match reads on and then fails (which, retried at every
# "<", would be quadratic).
TAG_SOUP = ['<a "', "<a '", "<a ", "<a b=", "<!--", "<", "</", "<script>", "<a \"x\" '", "<x y='>'", '<a href="',
            "<b>x", "<svg><path/>", "<div><span>"]


@pytest.mark.parametrize("unit", TAG_SOUP)
def test_200kb_of_tag_soup_is_read(unit):
    page = _repeat(unit)
    cost = html_tree_cost(page)
    assert cost.tags <= SIZE
    text = html_text_without_tree(page)
    assert len(text) <= SIZE
    document_text(page.encode(), "page.html")
