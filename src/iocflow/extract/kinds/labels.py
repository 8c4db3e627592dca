"""Identifiers with a fixed shape: CVEs, ATT&CK IDs, TLP labels, Google ad/analytics IDs."""

from __future__ import annotations

import re

from iocflow.extract import attack
from iocflow.extract.kinds.base import HIGH, MEDIUM, Candidate, Family, char_at, char_before, rfind_word, word_char
from iocflow.extract.model import Kind

_CVE = re.compile(r"[Cc][Vv][Ee][-_ ]?(\d{4})[-_ ]?(\d{4,7})(?!\d)")


def parse_cve(text: str, start: int) -> list[Candidate]:
    if word_char(char_before(text, start)):
        return []
    m = _CVE.match(text, start)
    if m is None:
        return []
    year, number = m.group(1), m.group(2)
    if len(number) > 4 and number[0] == "0":
        return []  # since 2014, IDs longer than four digits carry no leading zero
    if char_at(text, m.end()).isalpha():
        return []
    if 1999 <= int(year) <= 2099:
        confidence, reason = HIGH, "CVE ID with a valid year and number"
    else:
        confidence, reason = MEDIUM, "CVE-shaped ID with a year outside the CVE program's"
    return [Candidate(Kind.CVE, f"CVE-{year}-{number}", start, m.end(), confidence, reason)]


_ATTACK = re.compile(r"(TA|T|M)(\d{4})(?:\.(\d{3}))?(?![\d.]\d)", re.IGNORECASE)
_ATTACK_KIND = {
    "technique": Kind.ATTACK_TECHNIQUE,
    "subtechnique": Kind.ATTACK_TECHNIQUE,
    "tactic": Kind.ATTACK_TACTIC,
    "mitigation": Kind.ATTACK_MITIGATION,
}


def parse_attack(text: str, start: int) -> list[Candidate]:
    if word_char(char_before(text, start)):
        return []
    m = _ATTACK.match(text, start)
    if m is None:
        return []
    if word_char(char_at(text, m.end())):
        return []
    ident = m.group().upper()
    entries = attack.lookup(ident)
    note = ""
    if not entries and m.group(3):
        # A sub-technique retired from ATT&CK: classify it by its parent technique.
        entries = tuple(e for e in attack.lookup(ident.split(".")[0]) if e.kind == "technique")
        note = "unknown sub-technique of "
    if not entries:
        return []
    best = entries[0]
    kind = _ATTACK_KIND[best.kind]
    matrices = tuple(dict.fromkeys(e.matrix for e in entries if _ATTACK_KIND[e.kind] is kind))
    if note:
        confidence, reason = MEDIUM, f"{note}ATT&CK technique {best.name!r}"
    elif best.status == "active":
        confidence, reason = HIGH, f"ATT&CK {best.kind} {best.name!r}"
    else:
        confidence, reason = MEDIUM, f"{best.status} ATT&CK {best.kind} {best.name!r}"
    return [Candidate(kind, ident, start, m.end(), confidence, reason, matrices)]


_TLP = re.compile(r"TLP[ ]?[:_ -]?[ ]?(AMBER\+STRICT|CLEAR|WHITE|GREEN|AMBER|RED)(?![\w+])", re.IGNORECASE)


def parse_tlp(text: str, start: int) -> list[Candidate]:
    if word_char(char_before(text, start)):
        return []
    m = _TLP.match(text, start)
    if m is None:
        return []
    return [Candidate(Kind.TLP, f"TLP:{m.group(1).upper()}", start, m.end(), HIGH, "Traffic Light Protocol label")]


# One case throughout ("pub-", "PUB-", "UA-", "ua-"); mixed case is not an ID.
_ADSENSE = re.compile(r"(?:ca-|CA-)?(?:pub|PUB)-(\d{16})(?!\d)")
_ANALYTICS = re.compile(r"(?:UA|ua)-(\d{4,10})-(\d{1,4})(?!\d)|G-[A-Z0-9]{10}(?![\w-])")


def parse_google(text: str, start: int) -> list[Candidate]:
    before = char_before(text, start)
    if word_char(before) or (before == "-" and text[max(0, start - 3) : start].lower() != "ca-"):
        return []
    m = _ADSENSE.match(text, start)
    if m is not None:
        return [Candidate(Kind.GOOGLE_ADSENSE, f"pub-{m.group(1)}", start, m.end(), HIGH, "Google AdSense publisher ID")]
    m = _ANALYTICS.match(text, start)
    if m is not None and m.group(1) is not None:
        value = f"UA-{m.group(1)}-{m.group(2)}"
        return [] if word_char(char_at(text, m.end())) else [Candidate(Kind.GOOGLE_ANALYTICS, value, start, m.end(), HIGH, "Google Analytics tracking ID")]
    m = _ANALYTICS.match(text, start)
    if m is None or word_char(char_at(text, m.end())):
        return []
    if m.group().startswith("G-"):
        has_digit = any(c.isdigit() for c in m.group()[2:])
        if not has_digit:
            return []
        return [Candidate(Kind.GOOGLE_ANALYTICS, m.group(), start, m.end(), MEDIUM, "Google Analytics 4 measurement ID")]
    return [Candidate(Kind.GOOGLE_ANALYTICS, m.group(), start, m.end(), HIGH, "Google Analytics tracking ID")]


def _locate_attack(text: str, end: int) -> int:
    return end - 6 if text[end - 6 : end - 4].upper() == "TA" else end - 5


def _locate_google(text: str, end: int) -> int | None:
    if text[end - 20 : end - 17].lower() == "pub":
        return end - 20
    if text[end - 12 : end - 10] == "G-":
        return end - 12
    return rfind_word(text, end, ("ua-",), 18)


FAMILIES = (
    Family("cve", (r"cve[\-_ ]?\d{4}[\-_ ]?\d{4}",), parse_cve, frozenset({Kind.CVE}), caseless=True,
           locate=lambda text, end: rfind_word(text, end, ("cve",), 16)),
    Family("attack", (r"(?:TA|T|M)\d{4}",), parse_attack, frozenset({Kind.ATTACK_TECHNIQUE, Kind.ATTACK_TACTIC, Kind.ATTACK_MITIGATION}),
           caseless=True, locate=_locate_attack),
    Family("tlp", (r"tlp ?[:_ \-]? ?(?:amber|clear|white|green|red)",), parse_tlp, frozenset({Kind.TLP}), caseless=True,
           locate=lambda text, end: rfind_word(text, end, ("tlp",), 16)),
    Family("google", (r"(?:pub|PUB)-\d{16}", r"(?:UA|ua)-\d{4,10}-\d", r"G-[A-Z0-9]{10}"), parse_google,
           frozenset({Kind.GOOGLE_ADSENSE, Kind.GOOGLE_ANALYTICS}), locate=_locate_google),
)
