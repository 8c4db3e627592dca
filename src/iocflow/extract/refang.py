"""Refanging: undo the ways analysts break indicators so they cannot be clicked.

The extractor never edits the text it reports on. Refanging builds a second,
clean text plus an offset map back to the original, so every hit can still
report the exact source characters it came from (``raw``) and whether they
were defanged.

Handled styles (case-insensitive): ``[.]`` ``(.)`` ``{.}`` ``[dot]`` ``(dot)``
``{dot}`` ``\\.``, spaced `` dot `` / `` at `` inside a domain- or email-shaped
run, ``hxxp`` ``hXXps`` ``hxtp`` ``h**p`` ``fxp``, ``[:]//`` ``[://]`` ``[:]``
``[/]``, ``[@]`` ``(@)`` ``{@}`` ``[at]`` ``(at)`` ``{at}``, and percent-encoded
schemes (``http%3A%2F%2F``).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from iocflow.extract import suffixes

# Each alternative is a bounded literal-ish token, so the pass is linear.
_BRACKETED = re.compile(
    r"""
      (?P<dot>[\[({]\s?(?:\.|dot)\s?[\])}])                # [.] (.) {.} [dot] [ . ]
    | (?P<at>[\[({]\s?(?:@|at)\s?[\])}])                  # [@] (@) {@} [at]
    | (?P<sep>\[:\]//|\[://\]|\[:/\]/|\[:\]|\[/\]|\(:\)//)  # [:]// [://] [:]
    | (?P<bsdot>(?<=[\w\]])\\\.(?=[\w\[]))                 # evil\.com (regex-escaped)
    | (?P<scheme>\b(?:h(?:xx|XX|xX|Xx|tt|xt|tx|\*\*|__)p|f[xX]p)(?P<s>[sS]?)(?=\[?:|%3[aA]|\[://\]))
    | (?P<pct>(?<=[a-zA-Z])%3[aA]%2[fF]%2[fF])             # http%3A%2F%2F
    """,
    re.IGNORECASE | re.VERBOSE,
)

# "john at example dot com" / "example dot com": only refanged when the run
# really ends in a public suffix, so ordinary prose ("look at the dot") stays.
_SPACED = re.compile(
    r"""
    (?P<local>\b[A-Za-z0-9._%+-]{1,64}\s+(?:at|AT)\s+)?
    (?P<host>\b[A-Za-z0-9-]{1,63}(?:\s+(?:dot|DOT)\s+[A-Za-z0-9-]{1,63})+\b)
    """,
    re.VERBOSE,
)
_SPACED_DOT = re.compile(r"\s+(?:dot|DOT)\s+")
_SPACED_AT = re.compile(r"\s+(?:at|AT)\s+$")

# Fast gate: texts without any of these need no refang pass at all.
_ANY_MARKER = re.compile(
    r"[\[({]\s?(?:\.|dot|@|at|:|/)|\\\.|h(?:xx|tt|xt|tx|\*\*|__)p|fxp|%3a%2f| dot ",
    re.IGNORECASE,
)

_SCHEMES = {"f": "ftp", "h": "http"}


@dataclass(frozen=True, slots=True)
class RefangedText:
    """A clean text and the way back to the original's offsets."""

    original: str
    text: str
    # Replacements in clean-text order: clean start/end, original start/end.
    _clean_starts: tuple[int, ...] = ()
    _spans: tuple[tuple[int, int, int, int], ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self._spans)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a clean-text span to the original span it was refanged from."""
        if not self._spans:
            return start, end
        return self._map(start, is_end=False), self._map(end, is_end=True)

    def _map(self, pos: int, *, is_end: bool) -> int:
        i = bisect.bisect_right(self._clean_starts, pos) - 1
        if i < 0:
            return pos
        cs, ce, os_, oe = self._spans[i]
        if pos >= ce:  # after replacement i, in unchanged text
            return oe + (pos - ce)
        if is_end:
            return oe if pos > cs else os_
        return os_


def refang(text: str) -> str:
    """Return ``text`` with every supported defang style undone."""
    return refang_view(text).text


def refang_view(text: str) -> RefangedText:
    """Refang ``text`` and keep the offset map back to it."""
    if not _ANY_MARKER.search(text):
        return RefangedText(text, text)
    edits: list[tuple[int, int, str]] = []
    for m in _BRACKETED.finditer(text):
        kind = m.lastgroup if m.lastgroup != "s" else "scheme"
        if m.group("dot") is not None:
            edits.append((m.start(), m.end(), "."))
        elif m.group("at") is not None:
            edits.append((m.start(), m.end(), "@"))
        elif m.group("sep") is not None:
            sep = m.group("sep")
            edits.append((m.start(), m.end(), "://" if "//" in sep else sep[1]))
        elif m.group("bsdot") is not None:
            edits.append((m.start(), m.end(), "."))
        elif m.group("scheme") is not None:
            word = m.group("scheme")
            base = _SCHEMES[word[0].lower()]
            edits.append((m.start(), m.end(), base + ("s" if m.group("s") else "")))
        elif kind == "pct" or m.group("pct") is not None:
            edits.append((m.start(), m.end(), "://"))
    edits.extend(_spaced_edits(text))
    if not edits:
        return RefangedText(text, text)
    edits.sort()
    return _apply(text, edits)


def _spaced_edits(text: str) -> list[tuple[int, int, str]]:
    if " dot " not in text.lower():
        return []
    out: list[tuple[int, int, str]] = []
    for m in _SPACED.finditer(text):
        host = m.group("host")
        labels = _SPACED_DOT.split(host)
        if not suffixes.is_public_suffix(labels[-1].lower()):
            continue
        base = m.start("host")
        for d in _SPACED_DOT.finditer(host):
            out.append((base + d.start(), base + d.end(), "."))
        local = m.group("local")
        if local:
            a = _SPACED_AT.search(local)
            if a:
                out.append((m.start("local") + a.start(), m.start("local") + a.end(), "@"))
    return out


def _apply(text: str, edits: list[tuple[int, int, str]]) -> RefangedText:
    pieces: list[str] = []
    spans: list[tuple[int, int, int, int]] = []
    starts: list[int] = []
    pos = 0  # original
    clean = 0
    for os_, oe, repl in edits:
        if os_ < pos:  # overlapping edits: the first one wins
            continue
        pieces.append(text[pos:os_])
        clean += os_ - pos
        pieces.append(repl)
        spans.append((clean, clean + len(repl), os_, oe))
        starts.append(clean)
        clean += len(repl)
        pos = oe
    pieces.append(text[pos:])
    return RefangedText(text, "".join(pieces), tuple(starts), tuple(spans))
