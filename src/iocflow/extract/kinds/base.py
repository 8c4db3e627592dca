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


Parser = Callable[[str, int], Sequence[Candidate]]


@dataclass(frozen=True, slots=True)
class Family:
    """Kinds found together: one set of triggers, one parser.

    ``triggers`` are regexes over the scanner's one-byte-per-character view of
    the text (ASCII as itself, other characters as ``\\x80``-``\\xff``); they must
    be valid Hyperscan patterns. ``lead`` is the number of context characters
    a trigger matches before the indicator itself starts (a trigger such as
    ``[^0-9A-Za-z][0-9a-f]{32}`` anchors a hex run at its true start).

    Start-of-match tracking costs Hyperscan time on triggers that open with a
    character class, so a family can set ``som=False``: its parser is then
    given the offset where the trigger match *ended* and finds the start
    itself (a bounded look back, e.g. from an ``@`` to the local part).
    """

    name: str
    triggers: tuple[str, ...]
    parse: Parser
    kinds: frozenset[Kind]
    caseless: bool = False
    lead: int = 0
    som: bool = True


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
