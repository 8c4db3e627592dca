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
import functools
import re
from dataclasses import dataclass

import hyperscan

from iocflow.extract import suffixes
from iocflow.extract.scanner import byte_view, compile_database

# Defang markers, found by one Hyperscan pass (linear, no backtracking).
# Each entry: pattern over the one-byte view, number of context characters
# before the marker, and how to build its replacement from the matched text.
_MARKERS: tuple[tuple[str, int, str], ...] = (
    (r"(?:[\w\x80-\xff] )?[\[({] ?(?:\.|dot) ?[\])}](?: [\w\x80-\xff])?", 0, "dot"),  # [.] (.) {.} [dot] [ . ], "example [.] com"
    (r"(?:[\w\x80-\xff] )?[\[({] ?(?:@|at) ?[\])}](?: [\w\x80-\xff])?", 0, "at"),    # [@] (@) {@} [at] [ at ]
    (r"\(/\)", 0, "slash"),                                  # (/)
    (r"\[:\]//|\[://\]|\[:/\]/|\(:\)//", 0, "sep"),    # [:]// [://]
    (r"\[:\]|\[/\]", 0, "sep"),  # [:] [/]
    (r"[\w\]]\\\.[\w\[]", 1, "bsdot"),                  # evil\.com (regex-escaped)
    (r"\bh(?:xx|xt|tx|\*\*|__)ps?(?:\[?:|%3a|\[://\])", 0, "scheme"),  # hxxp:, hXXps[:]
    (r"\bfxps?(?:\[?:|%3a|\[://\])", 0, "scheme"),          # fxp:
    (r"[a-z]%3a%2f%2f", 1, "pct"),                           # http%3A%2F%2F
    (r" dot ", 0, "spaced"),                                 # example dot com
)
_SCHEME_WORD = re.compile(r"(h..p|f.p)(s?)", re.IGNORECASE)
_SCHEMES = {"f": "ftp", "h": "http"}

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
    hits = _marker_scanner().scan(text)
    if not hits:
        return RefangedText(text, text)
    edits: list[tuple[int, int, str]] = []
    spaced_done = -1
    for start, end, kind in hits:
        marker = text[start:end]
        if kind in ("dot", "at"):
            # Keep the word characters a spaced form ("example [.] com") matched around it.
            # "example [.] com", "a[.] b": the spaces go too, but only with a word on both sides.
            left_spaced = marker[0] not in "[({"
            right_spaced = marker[-1] not in "])}"
            left_word = left_spaced or (start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"))
            right_word = right_spaced or (end < len(text) and (text[end].isalnum() or text[end] == "_"))
            if left_word and right_word:
                lo, hi = start + left_spaced, end - right_spaced
            else:
                lo, hi = start + 2 * left_spaced, end - 2 * right_spaced
            edits.append((lo, hi, "." if kind == "dot" else "@"))
        elif kind == "bsdot":
            edits.append((start, end, "."))
        elif kind == "slash":
            edits.append((start, end, "/"))
        elif kind == "sep":
            edits.append((start, end, "://" if "//" in marker else marker[1]))
        elif kind == "scheme":
            word = _SCHEME_WORD.match(marker)
            if word:
                fixed = _SCHEMES[marker[0].lower()] + ("s" if word.group(2) else "")
                edits.append((start, start + word.end(), fixed))
        elif kind == "pct" and _starts_token(text, start):
            edits.append((start, end, "://"))
        elif kind == "spaced" and start >= spaced_done:
            found, spaced_done = _spaced_edits(text, start)
            edits.extend(found)
    if not edits:
        return RefangedText(text, text)
    edits.sort()
    return _apply(text, edits)


_SCHEME_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _starts_token(text: str, scheme_end: int) -> bool:
    """Whether the scheme before ``scheme_end`` opens a token: "http%3A%2F%2F" on its
    own is an obfuscated URL; inside a query ("?u=http%3A%2F%2F...") it is data."""
    window = text[max(0, scheme_end - 16) : scheme_end]
    word = len(window) - len(window.rstrip(_SCHEME_LETTERS))
    before = scheme_end - word - 1
    return before < 0 or text[before] in " \t\r\n\"'(<[>"


_SPACED_WINDOW = 200


def _spaced_edits(text: str, hit: int) -> tuple[list[tuple[int, int, str]], int]:
    """Edits for a spaced defang (" dot ", " at ") around the marker at ``hit``.

    Works on a bounded window, so the cost per marker is constant.
    """
    lo = max(0, hit - _SPACED_WINDOW)
    hi = min(len(text), hit + _SPACED_WINDOW)
    out: list[tuple[int, int, str]] = []
    done = hit + 1
    for m in _SPACED.finditer(text, lo, hi):
        if m.end() <= hit:
            continue
        if m.start("host") > hit:
            break
        host = m.group("host")
        labels = _SPACED_DOT.split(host)
        done = m.end()
        if not suffixes.is_public_suffix(labels[-1].lower()) or any(w.lower() in ("dot", "at") for w in labels[:-1]):
            break  # "dot dot dot" is not a domain, even though .dot is a TLD
        base = m.start("host")
        for d in _SPACED_DOT.finditer(host):
            out.append((base + d.start(), base + d.end(), "."))
        local = m.group("local")
        if local:
            a = _SPACED_AT.search(local)
            if a:
                out.append((m.start("local") + a.start(), m.start("local") + a.end(), "@"))
        break
    return out, done


@functools.cache
def _marker_scanner() -> _MarkerScanner:
    return _MarkerScanner()


class _MarkerScanner:
    def __init__(self) -> None:
        self._db = compile_database(
            [p.encode("latin-1") for p, _, _ in _MARKERS],
            [hyperscan.HS_FLAG_SOM_LEFTMOST | hyperscan.HS_FLAG_CASELESS] * len(_MARKERS),
        )

    def scan(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, kind) of each marker, longest per start, in text order."""
        best: dict[int, tuple[int, str]] = {}

        def on_match(pattern_id: int, start: int, end: int, flags: int, context: object) -> None:
            _, lead, kind = _MARKERS[pattern_id]
            s, e = start - 1 + lead, end - 1
            if kind == "bsdot":
                e -= 1
            if e > best.get(s, (-1, ""))[0]:
                best[s] = (e, kind)

        self._db.scan(byte_view(text), match_event_handler=on_match)
        return [(s, e, k) for s, (e, k) in sorted(best.items())]


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
