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
from dataclasses import dataclass, field

import hyperscan

from iocflow.extract import suffixes
from iocflow.extract.scanner import byte_view, compile_database

# "[.]" "(.)" "{.}" "[dot]": a bracketed dot with no spaces, refanged to "." whatever its neighbours
# are, as long as neither is a space (spaced forms keep or drop the space, see refang_view).
_PLAIN_DOT = r"[\[({](?:\.|dot)[\])}]"
# "hxxp:", "hXXps:", "fxp:": a defanged scheme word right before its colon.
_PLAIN_SCHEME = r"\b(?:h(?:xx|xt|tx|__)|fx)ps?:"

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
    # Eight plain bracketed dots, or eight "hxxp:" schemes, close together: a stretch read
    # in bulk (see _MarkerScanner).
    ("(?:" + _PLAIN_DOT + r"[A-Za-z0-9_\-]{0,4}){7}" + _PLAIN_DOT, 0, "dense"),
    ("(?:" + _PLAIN_SCHEME + r"[A-Za-z0-9/._~?#=&+:\-]{0,12}){7}" + _PLAIN_SCHEME, 0, "dense"),
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
    # Spans that stand for a whole stretch of bracketed dots rewritten at once (by index in
    # _spans); the map inside one is built the first time an offset in it is asked for.
    _coarse: dict[int, RefangedText | None] = field(default_factory=dict)

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
        if i in self._coarse:
            return os_ + self._stretch_view(i)._map(pos - cs, is_end=is_end)
        if is_end:
            return oe if pos > cs else os_
        return os_


    def _stretch_view(self, i: int) -> RefangedText:
        """The marker-by-marker map of coarse span ``i``, built once."""
        inner = self._coarse[i]
        if inner is None:
            _, _, os_, oe = self._spans[i]
            stretch = self.original[os_:oe]
            inner = _apply(stretch, _stretch_edits(stretch))
            self._coarse[i] = inner
        return inner


def refang(text: str) -> str:
    """Return ``text`` with every supported defang style undone."""
    return refang_view(text).text


def refang_view(text: str) -> RefangedText:
    """Refang ``text`` and keep the offset map back to it."""
    hits, stretches = _marker_scanner().scan(text)
    if not hits and not stretches:
        return RefangedText(text, text)
    edits: list[tuple[int, int, str]] = [(lo, hi, _refang_stretch(text[lo:hi])) for lo, hi in stretches]
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
    return _apply(text, edits, frozenset(lo for lo, _ in stretches))


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


# A stretch of plain bracketed dots joined by word characters ("1[.]1[.]1", "[.][.][.]"), up to
# its last dot that is followed by more of the stretch: every dot in it is refanged to "." by the
# same rule, so it is rewritten with one regex call instead of one Python step per marker.
_DOT_STRETCH = re.compile(r"(?:[A-Za-z0-9_\-]*+" + _PLAIN_DOT + r"(?=[A-Za-z0-9_\-\[({]))*+", re.IGNORECASE)
# A stretch of URL characters with no brackets, "%", "*", "\\" or spaces ("hxxp://a/hxxp://a/"):
# the only markers that fit in it are plain schemes. It stops before its last word, which a
# bracketed or encoded colon ("…/hxxp[:]//") or a spaced dot ("… x [.] y") may follow: that
# word is left to the marker pass.
_SCHEME_STRETCH = re.compile(r"[A-Za-z0-9/._~?#=&+:\-]*+")
_WORD_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
_PLAIN_DOTS = re.compile(_PLAIN_DOT, re.IGNORECASE)
# A scheme word at a word start ("h" then a look back: much faster than a leading "\\b").
_SCHEME_FIXES = (
    (re.compile(r"h(?<=\bh)(?:xx|xt|tx|__)ps(?=:)", re.IGNORECASE), "https"),
    (re.compile(r"h(?<=\bh)(?:xx|xt|tx|__)p(?=:)", re.IGNORECASE), "http"),
    (re.compile(r"f(?<=\bf)xps(?=:)", re.IGNORECASE), "ftps"),
    (re.compile(r"f(?<=\bf)xp(?=:)", re.IGNORECASE), "ftp"),
)


def _dot_stretch_end(text: str, pos: int) -> int:
    """End of the stretch of bracketed dots that goes on from the marker ending at ``pos``."""
    return _DOT_STRETCH.match(text, pos).end()  # type: ignore[union-attr]


def _scheme_stretch_end(text: str, pos: int) -> int:
    """End of the stretch of plain schemes that goes on from the scheme ending at ``pos``."""
    stretch = text[pos : _SCHEME_STRETCH.match(text, pos).end()]  # type: ignore[union-attr]
    return pos + len(stretch.rstrip(_WORD_CHARS))


def _refang_stretch(stretch: str) -> str:
    """The clean form of a stretch: what the marker-by-marker edits of _stretch_edits give."""
    if stretch.endswith((")", "]", "}")):  # a stretch of dots ends with one, a stretch of schemes never does
        return _PLAIN_DOTS.sub(".", stretch)
    for pattern, scheme in _SCHEME_FIXES:
        stretch = pattern.sub(scheme, stretch)
    return stretch


def _stretch_edits(stretch: str) -> list[tuple[int, int, str]]:
    """The edits refang_view makes in a stretch, one per marker, for its offset map."""
    edits = [(m.start(), m.end(), ".") for m in _PLAIN_DOTS.finditer(stretch)]
    for pattern, scheme in _SCHEME_FIXES:
        edits.extend((m.start(), m.end(), scheme) for m in pattern.finditer(stretch))
    edits.sort()
    return edits


# No marker is longer than this, so a scan resumed this far back sees every marker whole.
_MARKER_SPAN = 16


class _MarkerScanner:
    def __init__(self) -> None:
        flags = [hyperscan.HS_FLAG_CASELESS | (0 if kind == "dense" else hyperscan.HS_FLAG_SOM_LEFTMOST) for _, _, kind in _MARKERS]
        self._db = compile_database([p.encode("latin-1") for p, _, _ in _MARKERS], flags)

    def scan(self, text: str) -> tuple[list[tuple[int, int, str]], list[tuple[int, int]]]:
        """(start, end, kind) of each marker, longest per start, in text order, and the
        (start, end) of each stretch of plain markers (bracketed dots, schemes) read in bulk.

        When a dense run of plain markers starts, the stretch it opens is measured
        with one regex, the Hyperscan pass stops a marker's length later, and a new
        pass resumes after the stretch: a megabyte of "[.]" costs a few callbacks per
        stretch, not one per marker.
        """
        view = memoryview(byte_view(text))
        best: dict[int, tuple[int, str]] = {}
        stretches: list[tuple[int, int]] = []
        resume = 0  # text offset from which the current pass records markers
        while True:
            shift = max(resume - _MARKER_SPAN, -1)  # text offset of the pass's first byte
            stretch = [resume, resume]  # the latest stretch read in bulk: markers inside are skipped

            def on_match(pattern_id: int, start: int, end: int, flags: int, context: object) -> bool:
                _, lead, kind = _MARKERS[pattern_id]
                e = end + shift
                if kind == "dense":
                    if e >= stretch[1]:
                        stretch_end = (_dot_stretch_end if text[e - 1] in "])}" else _scheme_stretch_end)(text, e)
                        if stretch_end > e:
                            stretch[0], stretch[1] = e, stretch_end
                            stretches.append((e, stretch_end))
                    return False
                if stretch[1] > stretch[0] + _MARKER_SPAN and e > stretch[0] + _MARKER_SPAN:
                    return True  # every marker starting before the stretch is in: resume after it
                s = start + shift + lead
                if s < resume or stretch[0] <= s < stretch[1]:
                    return False
                if kind == "bsdot":
                    e -= 1
                if e > best.get(s, (-1, ""))[0]:
                    best[s] = (e, kind)
                return False

            try:
                self._db.scan(view[shift + 1 :], match_event_handler=on_match)
                break
            except hyperscan.ScanTerminated:
                resume = stretch[1]
        return [(s, e, k) for s, (e, k) in sorted(best.items())], stretches


def _apply(text: str, edits: list[tuple[int, int, str]], stretches: frozenset[int] = frozenset()) -> RefangedText:
    pieces: list[str] = []
    spans: list[tuple[int, int, int, int]] = []
    starts: list[int] = []
    coarse: dict[int, RefangedText | None] = {}
    pos = 0  # original
    clean = 0
    for os_, oe, repl in edits:
        if os_ < pos:  # overlapping edits: the first one wins
            continue
        pieces.append(text[pos:os_])
        clean += os_ - pos
        pieces.append(repl)
        if os_ in stretches:
            coarse[len(spans)] = None
        spans.append((clean, clean + len(repl), os_, oe))
        starts.append(clean)
        clean += len(repl)
        pos = oe
    pieces.append(text[pos:])
    return RefangedText(text, "".join(pieces), tuple(starts), tuple(spans), coarse)
