"""Public-suffix facts, read from the Public Suffix List that publicsuffixlist ships.

Only the top-level labels matter on the hot path (is this dotted run a domain
at all?), so they are loaded once into a set, in both Unicode and punycode
form; the full list answers the rarer "registrable domain" question.
"""

from __future__ import annotations

import functools
from importlib import resources

# TLDs that are also common file extensions: "main.py", "setup.zip", "notes.md".
# A bare, non-defanged name ending in one of these is reported with low confidence.
FILE_EXTENSION_TLDS = frozenset(
    {"zip", "mov", "py", "sh", "pl", "rs", "md", "ps", "so", "pm", "one", "app", "run", "cc", "sc", "rar"}
)


@functools.cache
def top_level_labels() -> frozenset[str]:
    """Every TLD named by the Public Suffix List, lower-case, Unicode and punycode."""
    data = resources.files("publicsuffixlist").joinpath("public_suffix_list.dat").read_text("utf-8")
    labels: set[str] = set()
    for line in data.splitlines():
        rule = line.strip()
        if not rule or rule.startswith("//"):
            continue
        label = rule.lstrip("!*.").rsplit(".", 1)[-1].lower()
        labels.add(label)
        try:
            labels.add(label.encode("idna").decode("ascii"))
        except UnicodeError:
            pass
        if label.startswith("xn--"):
            try:
                labels.add(label.encode("ascii").decode("idna"))
            except UnicodeError:
                pass
    return frozenset(labels)


def is_public_suffix(label: str) -> bool:
    """True when ``label`` (lower-case) is a top-level domain."""
    return label in top_level_labels()
