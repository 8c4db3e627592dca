"""The native multi-pattern pass: every family's triggers in one Hyperscan database.

Hyperscan runs all triggers in one linear pass (no backtracking by design)
and reports the leftmost start of each trigger match, so Python only wakes up
where an indicator may begin. Hyperscan reads bytes; the text is viewed as
one byte per character (ASCII as itself, Latin-1 as itself, anything else as
0x80), so byte offsets are character offsets with no mapping step.
"""

from __future__ import annotations

import codecs
import threading
from collections.abc import Callable, Sequence

import hyperscan

from iocflow.extract.kinds.base import Family
from iocflow.extract.model import Kind

_ERROR_HANDLER = "iocflow-one-byte"


def _one_byte(err: UnicodeError) -> tuple[str, int]:
    assert isinstance(err, UnicodeEncodeError)
    return "\x80" * (err.end - err.start), err.end


codecs.register_error(_ERROR_HANDLER, _one_byte)


def byte_view(text: str) -> bytes:
    """One byte per character of ``text``, between two newlines, so that
    triggers that need a character before or after also fire at the edges.
    Offsets into the view are one more than offsets into ``text``."""
    # A no-break space separates words like a space does.
    return b"\n" + text.encode("latin-1", errors=_ERROR_HANDLER).replace(b"\xa0", b" ") + b"\n"


class Patterns:
    """A compiled block-mode Hyperscan database that any number of threads may scan at once.

    A scan needs a Hyperscan *scratch* space of its own: the database's built-in
    one serves one scan at a time, and a second thread scanning meanwhile gets
    ``hyperscan.ScratchInUseError``. Each thread gets its own scratch, allocated
    on its first scan and freed with the thread.
    """

    def __init__(self, db: hyperscan.Database) -> None:
        self._db = db
        self._local = threading.local()

    def scan(self, data: bytes | memoryview, match_event_handler: Callable[..., object]) -> None:
        """``hyperscan.Database.scan`` with this thread's scratch."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._db)
        self._db.scan(data, match_event_handler=match_event_handler, scratch=scratch)


def compile_database(expressions: Sequence[bytes], flags: Sequence[int]) -> Patterns:
    """A block-mode Hyperscan database; pattern ids are the expressions' positions."""
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(expressions=list(expressions), ids=list(range(len(expressions))), elements=len(expressions), flags=list(flags))
    return Patterns(db)


def _always(text: str, pos: int) -> bool:
    return True


class Scanner:
    """Compiled triggers for a fixed tuple of families."""

    def __init__(self, families: Sequence[Family]) -> None:
        self.families = tuple(families)
        expressions: list[bytes] = []
        flags: list[int] = []
        owner: list[int] = []
        shift: list[int] = []
        som: list[bool] = []
        for index, family in enumerate(self.families):
            for trigger in family.triggers:
                expressions.append(trigger.encode("latin-1"))
                flag = hyperscan.HS_FLAG_SOM_LEFTMOST if family.som else 0
                if family.caseless:
                    flag |= hyperscan.HS_FLAG_CASELESS
                flags.append(flag)
                owner.append(index)
                shift.append(family.lead - 1)  # undo the leading newline
                som.append(family.som)
        self._owner = tuple(owner)
        # The family named after a kind finds it on its own; a host already
        # read as part of a URL or e-mail is not parsed again by it.
        by_name = {family.name: index for index, family in enumerate(self.families)}
        self.finder_of: dict[Kind, int] = {k: by_name[k.value] for k in Kind if k.value in by_name}
        self.handoff: tuple[tuple[int, Callable[[str, int], object]] | None, ...] = tuple(
            (by_name[f.handoff], f.handoff_if or _always) if f.handoff is not None else None for f in self.families
        )
        self._shift = tuple(shift)
        self._som = tuple(som)
        self._db = compile_database(expressions, flags)

    def scan(self, text: str) -> list[tuple[int, int]]:
        """Sorted (offset, family index) pairs where a trigger fired.

        The offset is where the indicator starts, or for ``som=False``
        families where the trigger match ended.
        """
        found: list[tuple[int, int]] = []
        add = found.append
        owner, shift, som = self._owner, self._shift, self._som

        def on_match(pattern_id: int, start: int, end: int, flags: int, context: object) -> None:
            if som[pattern_id]:
                add((start + shift[pattern_id], owner[pattern_id]))
            else:
                add((end - 1, owner[pattern_id]))

        self._db.scan(byte_view(text), match_event_handler=on_match)
        found.sort()  # Hyperscan reports by end offset, so this is nearly sorted already: linear
        return found
