"""What a family of kinds gives the engine: triggers to scan for, and a parser.

A *trigger* is a short pattern the native scanner looks for; it fires at the
leftmost start of something that may be an indicator. The family's *parser*
then reads the text from that start with a precise, linear-time Python regex
and plain-Python validation, and returns zero or more candidates. Regexes
only find; validators decide (see STYLE.md on ``ipaddress``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from iocflow.extract.model import Confidence, Kind, Matrix

HIGH = Confidence.HIGH
MEDIUM = Confidence.MEDIUM
LOW = Confidence.LOW


class Candidate(NamedTuple):
    """A validated hit, with offsets into the clean (refanged) text."""

    kind: Kind
    value: str
    start: int
    end: int
    confidence: Confidence
    reason: str
    matrices: tuple[Matrix, ...] = ()
    parent: Kind | None = None


def shifted(c: Candidate, offset: int) -> Candidate:
    """``c`` moved ``offset`` characters on (a candidate read out of context, placed in the text)."""
    return Candidate(c.kind, c.value, c.start + offset, c.end + offset, c.confidence, c.reason, c.matrices, c.parent)


class Rejected(tuple):  # type: ignore[type-arg]
    """No indicator here, and none of this family's before ``until``.

    Returned by a parser that read a whole run (a dotted number such as
    1.1.1.1.1…, a hex-and-colon run) and found it is not an indicator, so the
    engine skips the run's other trigger hits instead of re-reading it once
    per hit: this keeps wall-to-wall near-matches as cheap as prose.
    """

    until: int

    def __new__(cls, until: int) -> "Rejected":
        obj = super().__new__(cls)
        obj.until = until
        return obj


Parser = Callable[[str, int], Sequence[Candidate]]
Locator = Callable[[str, int], "int | None"]


@dataclass(frozen=True, slots=True)
class Family:
    """Kinds found together: one set of triggers, one parser.

    ``triggers`` are regexes over the scanner's one-byte-per-character view of
    the text (ASCII as itself, other characters as ``\\x80``-``\\xff``); they must
    be valid Hyperscan patterns. ``lead`` is the number of context characters
    a trigger matches before the indicator itself starts (a trigger such as
    ``[^0-9A-Za-z][0-9a-f]{32}`` anchors a hex run at its true start).

    Start-of-match tracking (Hyperscan's SOM) costs two thirds of the scan,
    so families report where a trigger match *ended* (``som=False``, the
    default) and find the start with a bounded look back: ``locate(text, end)``
    returns it (or None for a false alarm) before ``parse(text, start)`` runs;
    without a locator the parser itself is given the end. Only triggers that
    are hard to read backwards keep ``som=True``.

    ``handoff`` names the family that reads on from this family's trigger
    end when this family reads nothing there, if ``handoff_if(text, end)``
    holds: a "://" inside a URL already read, or without a scheme, is handed
    to the domain family when a dotted name follows, since the domain
    trigger skips hosts after "://" (the URL family reports those).
    """

    name: str
    triggers: tuple[str, ...]
    parse: Parser
    kinds: frozenset[Kind]
    caseless: bool = False
    lead: int = 0
    som: bool = False
    locate: Locator | None = None
    handoff: str | None = None
    handoff_if: Callable[[str, int], object] | None = None


def word_char(ch: str) -> bool:
    """Letter, digit or underscore, in any script."""
    return ch.isalnum() or ch == "_"


# The edges of the text read as a line break, as they do for the scanner.
EDGE = "\n"


def char_before(text: str, pos: int) -> str:
    return text[pos - 1] if pos > 0 else EDGE


def char_at(text: str, pos: int) -> str:
    return text[pos] if pos < len(text) else EDGE


def run_start(text: str, pos: int, chars: str, limit: int) -> int:
    """Start of the run of ``chars`` that ends at ``pos`` (looking back at most ``limit``)."""
    window = text[max(0, pos - limit) : pos]
    return pos - (len(window) - len(window.rstrip(chars)))


def rfind_word(text: str, end: int, words: tuple[str, ...], window: int) -> int | None:
    """Start of the last of ``words`` (lower-case) in the ``window`` characters before ``end``."""
    lo = max(0, end - window)
    chunk = text[lo:end].lower()
    best = max(chunk.rfind(w) for w in words)
    return lo + best if best != -1 else None


def fixed_width(width: int) -> Locator:
    """Locator for a trigger of fixed width that starts where the indicator starts."""

    def locate(text: str, end: int) -> int:
        return end - width

    return locate
