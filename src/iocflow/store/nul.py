"""The one character no stored text may hold: NUL.

PostgreSQL cannot store a NUL in text (nor ``\\u0000`` in JSONB), or even compare
against one; SQLite can. So every path that would hand one to the store refuses
it first (a 400, a rejected row with its line, an XDR validation error), and the
same inputs are stored, or refused, on both databases.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

NUL: Final = "\x00"


def nul_at(data: object, where: str = "") -> str | None:
    """Where in a JSON-like value a string (or a key) holds a NUL, as a path (``vendors[0].vendor_name``;
    ``where`` itself for a string), else None."""
    if isinstance(data, str):
        return where if NUL in data else None
    if isinstance(data, Mapping):
        for key, value in data.items():
            name = f"{where}.{key}" if where else str(key)
            if NUL in str(key):
                return name
            if (found := nul_at(value, name)) is not None:
                return found
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            if (found := nul_at(value, f"{where}[{index}]")) is not None:
                return found
    return None
