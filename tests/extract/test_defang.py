"""Defanged indicators are refanged, while ``raw``/``start``/``end`` keep pointing at the defanged source."""

from __future__ import annotations

import pytest

from iocflow.extract import Kind, extract, refang

P = pytest.param

# (text, kind, refanged value, raw source text of that indicator)
DEFANGED = [
    P("beacon to evil[.]com now", Kind.DOMAIN, "evil.com", "evil[.]com", id="square-dot"),
    P("beacon to evil(.)com now", Kind.DOMAIN, "evil.com", "evil(.)com", id="paren-dot"),
    P("beacon to evil{.}com now", Kind.DOMAIN, "evil.com", "evil{.}com", id="brace-dot"),
    P("beacon to evil[dot]com now", Kind.DOMAIN, "evil.com", "evil[dot]com", id="square-word-dot"),
    P("beacon to evil(dot)com now", Kind.DOMAIN, "evil.com", "evil(dot)com", id="paren-word-dot"),
    P("beacon to evil[DOT]com now", Kind.DOMAIN, "evil.com", "evil[DOT]com", id="square-word-dot-upper"),
    P("beacon to evil dot com now", Kind.DOMAIN, "evil.com", "evil dot com", id="spaced-dot"),
    P("beacon to www dot evil dot co dot uk now", Kind.DOMAIN, "www.evil.co.uk", "www dot evil dot co dot uk",
      id="spaced-dot-many"),
    P("mail john at example dot com today", Kind.EMAIL, "john@example.com", "john at example dot com",
      id="spaced-at-and-dot"),
    P(r"regex evil\.com here", Kind.DOMAIN, "evil.com", r"evil\.com", id="backslash-dot"),
    P(r"evil\.example\.org", Kind.DOMAIN, "evil.example.org", r"evil\.example\.org", id="backslash-dot-twice"),
    P("get hxxp://evil.com/a now", Kind.URL, "http://evil.com/a", "hxxp://evil.com/a", id="hxxp"),
    P("get hXXps://evil.com/a now", Kind.URL, "https://evil.com/a", "hXXps://evil.com/a", id="hXXps"),
    P("get HXXPS://evil.com/a now", Kind.URL, "https://evil.com/a", "HXXPS://evil.com/a", id="HXXPS"),
    P("get http[:]//evil.com/a now", Kind.URL, "http://evil.com/a", "http[:]//evil.com/a", id="bracket-colon"),
    P("get http[://]evil.com/a now", Kind.URL, "http://evil.com/a", "http[://]evil.com/a", id="bracket-colon-slashes"),
    P("get hxxps[:]//evil[.]com/a now", Kind.URL, "https://evil.com/a", "hxxps[:]//evil[.]com/a",
      id="everything-defanged"),
    P("get fxp://files.evil.com/a now", Kind.URL, "ftp://files.evil.com/a", "fxp://files.evil.com/a", id="fxp"),
    P("get hxxp://evil.example.com/a now", Kind.URL, "http://evil.example.com/a", "hxxp://evil.example.com/a",
      id="url-only-scheme-defanged"),
    P("get http://evil[.]example.com/a now", Kind.URL, "http://evil.example.com/a", "http://evil[.]example.com/a",
      id="url-only-one-dot-defanged"),
    P("get evil[.]com/path/x.php now", Kind.URL, "evil.com/path/x.php", "evil[.]com/path/x.php",
      id="schemeless-url-defanged-dot"),
    P("get http%3A%2F%2Ffoo.com now", Kind.URL, "http://foo.com", "http%3A%2F%2Ffoo.com", id="percent-encoded-scheme"),
    P("mail user[@]example.com now", Kind.EMAIL, "user@example.com", "user[@]example.com", id="square-at"),
    P("mail user(@)example.com now", Kind.EMAIL, "user@example.com", "user(@)example.com", id="paren-at"),
    P("mail user[at]example.com now", Kind.EMAIL, "user@example.com", "user[at]example.com", id="square-word-at"),
    P("mail user[at]example[dot]com now", Kind.EMAIL, "user@example.com", "user[at]example[dot]com",
      id="square-word-at-and-dot"),
    P("mail user@example[.]co[.]uk now", Kind.EMAIL, "user@example.co.uk", "user@example[.]co[.]uk",
      id="email-domain-defanged-twice"),
    P("mail user[@]example[.]com now", Kind.EMAIL, "user@example.com", "user[@]example[.]com", id="email-at-and-dot"),
    P("c2 8[.]8[.]8[.]8 up", Kind.IPV4, "8.8.8.8", "8[.]8[.]8[.]8", id="ipv4-all-dots"),
    P("c2 192.168.1[.]1 up", Kind.IPV4, "192.168.1.1", "192.168.1[.]1", id="ipv4-one-dot"),
    P("c2 1(.)2(.)3(.)4 up", Kind.IPV4, "1.2.3.4", "1(.)2(.)3(.)4", id="ipv4-paren-dots"),
    P("get hxxp[:]//1.2.3[.]4/a now", Kind.URL, "http://1.2.3.4/a", "hxxp[:]//1.2.3[.]4/a", id="url-ip-host"),
]


@pytest.mark.parametrize(("text", "kind", "value", "raw"), DEFANGED)
def test_defanged_indicator_refanged_with_source_offsets(text, kind, value, raw, check_offsets):
    ex = extract(text)
    check_offsets(text, ex)
    hits = [i for i in ex if i.kind is kind and i.value == value]
    assert hits, [i.as_dict() for i in ex]
    hit = hits[0]
    assert hit.raw == raw
    assert text[hit.start : hit.end] == raw
    assert hit.start == text.index(raw)
    assert hit.defanged is True
    assert value in ex.values(kind)


def test_twice_defanged_email_with_literal_tld_placeholder(check_offsets):
    """``user@example[.]com[.]tld``: the address keeps its last label as written (iocextract's
    tests expect ``user@example.com.tld``); the domain reported is the valid ``example.com``."""
    text = "mail user@example[.]com[.]tld now"
    ex = extract(text)
    check_offsets(text, ex)
    assert ex.values(Kind.EMAIL) == ["user@example.com.tld"]
    hit = next(i for i in ex if i.kind is Kind.EMAIL)
    assert hit.raw == "user@example[.]com[.]tld"
    assert hit.defanged is True
    assert ex.values(Kind.DOMAIN) == ["example.com"]
    assert ex.to_ioc_finder()["email_addresses"] == ["user@example.com.tld"]


@pytest.mark.parametrize(
    ("text", "kind", "value", "raw"),
    [
        P("see evil.com now", Kind.DOMAIN, "evil.com", "evil.com", id="domain"),
        P("see http://evil.com/a now", Kind.URL, "http://evil.com/a", "http://evil.com/a", id="url"),
        P("c2 8.8.8.8 up", Kind.IPV4, "8.8.8.8", "8.8.8.8", id="ipv4"),
        P("evil[.]com and good.org", Kind.DOMAIN, "good.org", "good.org", id="literal-next-to-defanged"),
    ],
)
def test_literal_indicators_are_not_marked_defanged(text, kind, value, raw, check_offsets):
    ex = extract(text)
    check_offsets(text, ex)
    hit = next(i for i in ex if i.kind is kind and i.value == value)
    assert hit.raw == raw
    assert hit.defanged is False


# ---------------------------------------------------------------- refang=False

NOT_REFANGED = [
    P("evil[.]com", Kind.DOMAIN, "evil.com", id="square-dot-domain"),
    P("evil dot com", Kind.DOMAIN, "evil.com", id="spaced-dot-domain"),
    P(r"evil\.com", Kind.DOMAIN, "evil.com", id="backslash-dot-domain"),
    P("8[.]8[.]8[.]8", Kind.IPV4, "8.8.8.8", id="ipv4"),
    P("hxxp://evil.com/a", Kind.URL, "http://evil.com/a", id="hxxp-url"),
    P("http[:]//evil.com/a", Kind.URL, "http://evil.com/a", id="bracket-colon-url"),
    P("user[@]example.com", Kind.EMAIL, "user@example.com", id="square-at-email"),
    P("john at example dot com", Kind.EMAIL, "john@example.com", id="spaced-email"),
]


@pytest.mark.parametrize(("text", "kind", "refanged_value"), NOT_REFANGED)
def test_refang_false_does_not_find_defanged(text, kind, refanged_value, check_offsets):
    ex = extract(text, refang=False)
    check_offsets(text, ex)
    assert refanged_value not in [i.value for i in ex if i.kind is kind]
    assert all(not i.defanged for i in ex)


def test_refang_false_keeps_literal_matches(check_offsets):
    text = "evil[.]com and good.org and 8[.]8[.]8[.]8 and 1.1.1.1 and hxxp://bad.com/x and http://ok.com/y"
    ex = extract(text, refang=False)
    check_offsets(text, ex)
    assert ex.values(Kind.DOMAIN)[:1] == ["good.org"]
    assert "evil.com" not in ex.values(Kind.DOMAIN)
    assert ex.values(Kind.IPV4) == ["1.1.1.1"]
    assert "http://ok.com/y" in ex.values(Kind.URL)
    assert "http://bad.com/x" not in ex.values(Kind.URL)
    for i in ex:
        assert not i.defanged
        assert i.raw == text[i.start : i.end]


def test_refang_true_and_false_agree_on_clean_text(check_offsets):
    text = "http://evil.com/a 8.8.8.8 user@example.com T1055 d41d8cd98f00b204e9800998ecf8427e"
    on, off = extract(text), extract(text, refang=False)
    check_offsets(text, on)
    check_offsets(text, off)
    assert [i.as_dict() for i in on] == [i.as_dict() for i in off]


# ---------------------------------------------------------------- refang() on strings

REFANG = [
    P("evil[.]com", "evil.com", id="square-dot"),
    P("evil(.)com", "evil.com", id="paren-dot"),
    P("evil{.}com", "evil.com", id="brace-dot"),
    P("evil[dot]com", "evil.com", id="square-word-dot"),
    P("evil dot com", "evil.com", id="spaced-dot"),
    P("john at example dot com", "john@example.com", id="spaced-at-dot"),
    P(r"evil\.com", "evil.com", id="backslash-dot"),
    P("hxxp://evil[.]com", "http://evil.com", id="hxxp"),
    P("hXXps[:]//x[.]com", "https://x.com", id="hXXps-bracket-colon"),
    P("http[://]evil.com", "http://evil.com", id="bracket-colon-slashes"),
    P("fxp://x.com", "ftp://x.com", id="fxp"),
    P("user[@]example[.]com", "user@example.com", id="square-at"),
    P("user[at]example.com", "user@example.com", id="square-word-at"),
    P("http%3A%2F%2Ffoo.com", "http://foo.com", id="percent-encoded-scheme"),
    P("1(.)2(.)3(.)4", "1.2.3.4", id="ipv4-paren-dots"),
    P("see hxxp://a[.]com and b[.]org", "see http://a.com and b.org", id="inside-prose"),
    P("nothing defanged here", "nothing defanged here", id="unchanged"),
    P("look at the dot on the map", "look at the dot on the map", id="prose-at-and-dot-untouched"),
    P("", "", id="empty"),
]


@pytest.mark.parametrize(("text", "expected"), REFANG)
def test_refang_function(text, expected):
    assert refang(text) == expected


@pytest.mark.parametrize(("text", "expected"), REFANG)
def test_refang_is_idempotent(text, expected):
    assert refang(refang(text)) == expected


# Long runs of markers are rewritten in bulk (refang.py, _MarkerScanner): the clean text and
# the offsets back to the source must be the ones the marker-by-marker path gives.
MANY_LABELS = "[.]".join("abcdefghijkl") + "[.]example[.]com"


def test_long_stretch_of_bracketed_dots_keeps_offsets(check_offsets):
    text = f"host {MANY_LABELS} and 10[.]1[.]2[.]3 then " + "1[.]" * 40 + "1 end"
    ex = extract(text)
    check_offsets(text, ex)
    domain = next(i for i in ex if i.kind is Kind.DOMAIN)
    assert domain.value == MANY_LABELS.replace("[.]", ".")
    assert (domain.raw, domain.start) == (MANY_LABELS, text.index(MANY_LABELS))
    ip = next(i for i in ex if i.kind is Kind.IPV4)
    assert (ip.value, ip.raw) == ("10.1.2.3", "10[.]1[.]2[.]3")
    assert refang(text).endswith("1." * 40 + "1 end")


def test_long_stretch_of_defanged_schemes_keeps_offsets(check_offsets):
    chain = "hxxp://a.example.com/" + "hXXps://b.example.com/" * 12 + "fxp://c.example.com/x"
    text = f"see {chain} and hxxp[:]//evil[.]com/y now"
    ex = extract(text)
    check_offsets(text, ex)
    url = next(i for i in ex if i.kind is Kind.URL)
    assert url.raw == chain
    assert url.value == chain.replace("hxxp", "http").replace("hXXps", "https").replace("fxp", "ftp")
    assert "http://evil.com/y" in ex.values(Kind.URL)


@pytest.mark.parametrize("unit", ["[.]", "(dot)", "1[.]", "a{.}", "hxxp://a/", "hXXps://b.c/", "fxp:"])
def test_long_marker_runs_refang_like_single_markers(unit):
    text = "start " + unit * 50 + "x end"
    assert refang(text) == "start " + refang(unit + "x")[:-1] * 50 + "x end"
