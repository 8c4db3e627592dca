"""The native multi-pattern pass: every family's triggers in one Hyperscan database.

Hyperscan runs all triggers in one linear pass (no backtracking by design)
and reports the leftmost start of each trigger match, so Python only wakes up
where an indicator may begin. Hyperscan reads bytes; the text is viewed as
one byte per character (ASCII as itself, Latin-1 as itself, anything else as
0x80), so byte offsets are character offsets with no mapping step.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence

import hyperscan

from iocflow.extract.kinds.base import Family

_ERROR_HANDLER = "iocflow-one-byte"


def _one_byte(err: UnicodeError) -> tuple[str, int]:
    assert isinstance(err, UnicodeEncodeError)
    return "\x80" * (err.end - err.start), err.end


codecs.register_error(_ERROR_HANDLER, _one_byte)


def byte_view(text: str) -> bytes:
    """One byte per character of ``text``, between two newlines, so that
    triggers that need a character before or after also fire at the edges.
    Offsets into the view are one more than offsets into ``text``."""
    return b"\n" + text.encode("latin-1", errors=_ERROR_HANDLER) + b"\n"


class Scanner:
    """Compiled triggers for a fixed tuple of families."""

    def __init__(self, families: Sequence[Family]) -> None:
        self.families = tuple(families)
        expressions: list[bytes] = []
        flags: list[int] = []
        owner: list[int] = []
        shift: list[int] = []
        for index, family in enumerate(self.families):
            for trigger in family.triggers:
                expressions.append(trigger.encode("latin-1"))
                flag = hyperscan.HS_FLAG_SOM_LEFTMOST
                if family.caseless:
                    flag |= hyperscan.HS_FLAG_CASELESS
                flags.append(flag)
                owner.append(index)
                shift.append(family.lead - 1)  # undo the leading newline
        self._owner = tuple(owner)
        self._shift = tuple(shift)
        self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._db.compile(
            expressions=expressions,
            ids=list(range(len(expressions))),
            elements=len(expressions),
            flags=flags,
        )

    def scan(self, text: str) -> list[tuple[int, int]]:
        """Sorted, distinct (start offset, family index) pairs where a trigger fired."""
        found: set[tuple[int, int]] = set()
        add = found.add
        owner, shift = self._owner, self._shift

        def on_match(pattern_id: int, start: int, end: int, flags: int, context: object) -> None:
            add((start + shift[pattern_id], owner[pattern_id]))

        self._db.scan(byte_view(text), match_event_handler=on_match)
        return sorted(found)
