"""The extraction pipeline: refang, scan, parse candidates, resolve overlaps, report.

The input text is never edited to steer later steps (no blanking of found
URLs as ioc-finder does): overlaps are resolved on spans, in one sweep, by
rules that say which kinds may sit inside which.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from iocflow.exceptions import ExtractError
from iocflow.extract.kinds import FAMILIES
from iocflow.extract.kinds.base import Candidate, Rejected
from iocflow.extract.kinds.network import authority_end
from iocflow.extract.model import Kind
from iocflow.extract.refang import RefangedText, refang_view
from iocflow.extract.result import Extraction
from iocflow.extract.scanner import Scanner

_ATTACK_KINDS = frozenset({Kind.ATTACK_TECHNIQUE, Kind.ATTACK_TACTIC, Kind.ATTACK_MITIGATION})
_HASH_KINDS = frozenset({Kind.MD5, Kind.SHA1, Kind.SHA256, Kind.SHA512})

# Which stand-alone indicators may be reported inside a larger one. Anything
# not listed inside a container is part of it, not an indicator of its own:
# a hash in a URL path, a "domain" in a file name, a URL inside a user agent.
NESTABLE: dict[Kind, frozenset[Kind]] = {
    Kind.URL: frozenset({Kind.DOMAIN, Kind.IPV4, Kind.IPV6, Kind.SOCKET_ADDRESS, Kind.EMAIL, Kind.XMPP, Kind.URL, Kind.CVE})
    | _ATTACK_KINDS
    | _HASH_KINDS,  # only as whole path segments, see _whole_path_segment
    Kind.FILE_PATH: _HASH_KINDS,
    Kind.ETHEREUM: frozenset({Kind.SHA1}),  # ioc-finder reads 0x + 40 hex digits as a SHA-1 too
}
CONTAINERS = frozenset(
    {Kind.URL, Kind.EMAIL, Kind.XMPP, Kind.IPV4_CIDR, Kind.IPV6_CIDR, Kind.SOCKET_ADDRESS, Kind.FILE_PATH,
     Kind.REGISTRY_KEY, Kind.USER_AGENT, Kind.ETHEREUM}
)
_NOTHING: frozenset[Kind] = frozenset()
_KIND_NAMES = frozenset(k.value for k in Kind)


@functools.cache
def _scanner() -> Scanner:
    return Scanner(FAMILIES)


def parse_types(types: Iterable[Kind | str] | None) -> frozenset[Kind] | None:
    """Kinds named by ``types`` (Kind members or their names); None means all."""
    if types is None:
        return None
    if isinstance(types, (str, Kind)):
        types = [types]
    kinds: set[Kind] = set()
    for t in types:
        try:
            kinds.add(t if isinstance(t, Kind) else Kind(str(t).strip().lower()))
        except ValueError:
            valid = ", ".join(k.value for k in Kind)
            raise ExtractError(f"unknown indicator type {t!r}; valid types: {valid}") from None
    return frozenset(kinds)


def extract(text: str, *, types: Iterable[Kind | str] | None = None, refang: bool = True) -> Extraction:
    """Every indicator of compromise in ``text``.

    ``types`` limits the result to some kinds (by ``Kind`` or name). With
    ``refang=False`` defanged indicators are not undone, so only literal
    indicators are found.
    """
    if not isinstance(text, str):
        raise ExtractError(f"extract() needs str, not {type(text).__name__}; decode bytes first (see iocflow.extract.readers)")
    kinds = parse_types(types)
    view = refang_view(text) if refang else RefangedText(text, text)
    kept = _resolve(_candidates(view.text))
    if kinds is not None:
        kept = [c for c in kept if c.kind in kinds]
    return Extraction(view, kept)


def _candidates(clean: str) -> list[Candidate]:
    scanner = _scanner()
    finder = scanner.finder_of
    locators = [f.locate for f in scanner.families]
    parsers = [f.parse for f in scanner.families]
    handoff = scanner.handoff
    # A family named after a kind resumes after its own indicator, not after a larger
    # one it built: "foo.com/x?q=bar.com" still yields bar.com.
    own_kind = [Kind(f.name) if f.name in _KIND_NAMES else None for f in scanner.families]
    consumed = [-1] * len(scanner.families)
    # (start, family) -> end, for hosts already read as part of a URL or address
    covered: dict[tuple[int, int], int] = {}
    out: list[Candidate] = []

    def read(start: int, index: int) -> bool:
        """Run family ``index``'s parser at ``start``; whether it read an indicator there."""
        if start < consumed[index]:
            return False  # inside a token this family already read
        end = covered.pop((start, index), None)
        if end is not None:
            consumed[index] = end
            return True
        found = parsers[index](clean, start)
        if not found:
            if isinstance(found, Rejected):
                consumed[index] = found.until
            return False
        out.extend(found)
        if len(found) == 1:
            consumed[index] = found[0].end
            return True
        own = own_kind[index]
        consumed[index] = max([c.end for c in found if c.kind is own] or [c.end for c in found])
        for c in found:
            if c.parent is not None and c.kind in finder:
                covered[(c.start, finder[c.kind])] = c.end
        return True

    for pos, index in scanner.scan(clean):
        if pos >= consumed[index]:  # a start is never after its trigger's end: skip before locating
            locate = locators[index]
            start = pos if locate is None else locate(clean, pos)
            if start is not None and read(start, index):
                continue
        handed = handoff[index]
        if handed is not None and handed[1](clean, pos):
            read(pos, handed[0])
    return out


def _whole_path_segment(url: Candidate, inner: Candidate, queries: dict[int, int]) -> bool:
    """A hash is reported inside a URL only as a whole path segment
    (``/file/<sha256>/detection``), never as part of a file name or query value.
    ``queries`` holds where each URL's query starts, found once per URL."""
    text = url.value
    s, e = inner.start - url.start, inner.end - url.start
    if text[s - 1 : s] != "/" or text[e : e + 1] not in ("", "/", "?", "#"):
        return False
    query = queries.get(id(url))
    if query is None:
        query = text.find("?")
        query = queries[id(url)] = query if query != -1 else len(text)
    return query >= s


def _order(c: Candidate) -> tuple[int, int, bool]:
    """Sort key: by start, the larger span first, a derived candidate before a stated one."""
    return c.start, -c.end, c.parent is None


def _already_kept(kept: list[Candidate], c: Candidate) -> bool:
    """Whether ``kept`` has ``c``'s kind and span; kept is in start order, so only its tail can."""
    for k in reversed(kept):
        if k.start != c.start:
            return False
        if k.end == c.end and k.kind is c.kind:
            return True
    return False


def _resolve(candidates: list[Candidate]) -> list[Candidate]:
    """Keep each span once and drop what is only part of a larger indicator."""
    candidates.sort(key=_order)
    kept: list[Candidate] = []
    stack: list[Candidate] = []  # open containers, innermost last
    # Where each URL's host ends and its query starts, read once per URL (keyed by id: every
    # candidate lives until this returns). A long URL may hold an indicator every few
    # characters, and reading it again for each of them would be quadratic.
    host_ends: dict[int, int] = {}
    queries: dict[int, int] = {}
    frontier = 0  # end of the furthest accepted top-level candidate
    for c in candidates:
        while stack and stack[-1].end <= c.start:
            stack.pop()
        if kept and kept[-1].start == c.start and _already_kept(kept, c):
            continue
        if stack:
            top = stack[-1]
            if c.end > top.end:
                continue  # straddles a container's edge
            parent = c.parent
            derived = parent is not None and (top.kind is parent or any(s.kind is parent for s in stack))
            if not derived and c.kind not in NESTABLE.get(top.kind, _NOTHING):
                continue
            if top.kind is Kind.URL and not derived:
                key = id(top)
                host_end = host_ends.get(key)
                if host_end is None:
                    host_end = host_ends[key] = authority_end(top.value)
                if c.start - top.start < host_end:
                    continue  # "password@example.com" in a URL's user info is no e-mail address
                if c.kind in _HASH_KINDS and not _whole_path_segment(top, c, queries):
                    continue
            if c.kind is Kind.URL and "://" not in c.value:
                continue  # a path inside a URL is not a second URL
        elif c.start < frontier:
            continue  # overlaps an accepted indicator without being inside it
        else:
            frontier = c.end  # sorted by start, so nothing accepted before reaches further
        kept.append(c)
        if c.kind in CONTAINERS:
            stack.append(c)
    return kept
