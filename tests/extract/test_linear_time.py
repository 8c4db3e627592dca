"""Adversarial input: correct results, right offsets, no crash, and it returns on large pathological text.

Speed itself is measured in the benchmarks, not here: no wall-clock assertions.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iocflow.extract import Confidence, Kind, extract

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
