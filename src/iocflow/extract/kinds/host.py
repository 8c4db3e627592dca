"""Host artefacts: registry keys, file paths and HTTP user agents.

Registry keys and Windows paths may contain spaces ("HKCU\\Volatile
Environment", "C:\\Program Files\\..."), so a space does not end them; what
does is decided by the words that follow, never by backtracking.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from iocflow.extract.kinds.base import HIGH, MEDIUM, Candidate, Family, char_at, char_before, rfind_word, word_char
from iocflow.extract.model import Kind

# Words that, after a space, end a registry key or path instead of continuing it.
_PROSE_AFTER = frozenset(
    "key keys subkey subkeys value values registry hive and or to was were is are with which where "
    "for in on at by from as that this then when via using used".split()
)
_WORD = re.compile(r"[^\s\\/\"'<>|,;*?]++")
_CHAIN_LIMIT = 6
_PLACEHOLDER = r"<[\w .-]{1,40}>"  # "<username>", "<USER SID>" in write-ups


def _space_chain(text: str, pos: int, sep: str) -> tuple[list[tuple[int, int]], bool]:
    """Words joined by single spaces after ``pos``, and whether a separator follows them.

    A name part with spaces in the middle of a path ("Program Files\\",
    "File System/") is recognised by the separator after its last word.
    """
    words: list[tuple[int, int]] = []
    probe = pos
    while len(words) < _CHAIN_LIMIT and text.startswith(" ", probe):
        if text.startswith(sep, probe + 1):  # "AppData \\Local": a stray space before the separator
            return words, True
        w = _WORD.match(text, probe + 1)
        if w is None:
            break
        words.append((w.start(), w.end()))
        probe = w.end()
        if text.startswith(sep, probe):
            return words, True
    return words, False


def _capitalised_tail(text: str, pos: int, words: list[tuple[int, int]]) -> int:
    """End of the capitalised words that finish a name ("Volatile Environment").

    They count only when what follows them is the end of the line, punctuation
    or a prose word such as "key" or "and"; "Run Malware persists" stays "Run".
    """
    keep = pos
    for i, (a, b) in enumerate(words):
        word = text[a:b]
        if not (word[0].isupper() or word[0].isdigit()):
            break
        if word[-1] in ".,:)":
            return b - 1
        if i + 1 < len(words):
            following = text[words[i + 1][0] : words[i + 1][1]]
            if following.lower() in _PROSE_AFTER:
                return b
            if not (following[0].isupper() or following[0].isdigit()):
                break
        elif char_at(text, b) != " ":
            return b
    return keep


# ---------------------------------------------------------------- registry

_REG_ROOT = re.compile(
    r"<?(HKEY_LOCAL_MACHINE|HKEY_CURRENT_USER|HKEY_CLASSES_ROOT|HKEY_USERS|HKEY_CURRENT_CONFIG"
    r"|HKEY_PERFORMANCE_DATA|HKLM|HKCU|HKCR|HKCC|HKU)>?(:?)(\\\\?)",
    re.IGNORECASE,
)
_REG_SECTION = re.compile(r"(?:" + _PLACEHOLDER + r"|[\w.{}()$&#@%~+*=!\[\]-])++")


def _next_key_starts(text: str, word_start: int) -> bool:
    return _REG_ROOT.match(text, word_start) is not None


def parse_registry(text: str, start: int) -> list[Candidate]:
    if word_char(char_before(text, start)):
        return []
    m = _REG_ROOT.match(text, start)
    if m is None:
        return []
    sep = m.group(3)
    end = _walk_segments(text, m.end(), sep, _REG_SECTION, _capitalised_tail, stop=_next_key_starts)
    if end == m.end():
        return []
    if text.startswith(sep, end) and not word_char(char_at(text, end + len(sep))):
        end += len(sep)  # "...\\Run\\": a trailing backslash names the key itself, as RegEdit shows it
    raw = text[start:end].rstrip(".")
    end = start + len(raw)
    value = m.group(1) + m.group(2) + "\\" + raw[m.end() - start :].replace("\\\\", "\\")
    return [Candidate(Kind.REGISTRY_KEY, value, start, end, HIGH, "registry key under a known hive")]


# ---------------------------------------------------------------- file paths

_WIN_ROOT = re.compile(r"[A-Za-z]:\\\\?|%[A-Za-z_][\w()]{0,30}%\\\\?|\\\\[\w.$-]+\\(?!\\)")
_WIN_SEGMENT = re.compile(r"(?:" + _PLACEHOLDER + r"|[^\\/:*?\"<>|\s,;])++")
_UNIX_START = re.compile(r"~/|(?:\.\.?/)++|/(?=[A-Za-z0-9_])")
_UNIX_SEGMENT = re.compile(r"[\w.@%+=:{}$~-]++")
_UNIX_ROOTS = frozenset(
    "bin boot dev etc home lib lib32 lib64 libexec media mnt opt proc root run sbin srv sys tmp usr var "
    "private Users Library Applications System Volumes sdcard storage data system Windows".split()
)
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}$")
_WILDCARDS = "*?"


def _extension_tail(text: str, pos: int, words: list[tuple[int, int]]) -> int:
    """A file name with spaces ends at the first word with an extension ("my evil file.exe")."""
    for a, b in words:
        if _EXTENSION.search(text, a, b):
            return b
    return pos


Tail = Callable[[str, int, list[tuple[int, int]]], int]


def _walk_segments(
    text: str, pos: int, sep: str, segment: re.Pattern[str], tail: Tail, stop: Callable[[str, int], bool] | None = None
) -> int:
    """End of a path made of ``segment``s joined by ``sep``.

    Space-joined words continue a segment when a separator follows them
    (``_space_chain``); otherwise ``tail`` decides how many end the path.
    ``stop`` cuts the words where something new begins (a second registry key).
    """
    end = pos
    while True:
        seg = segment.match(text, pos)
        if seg is None:
            return end
        pos = end = seg.end()
        words, joined = _space_chain(text, pos, sep)
        if stop is not None:
            for i, (a, _) in enumerate(words):
                if stop(text, a):
                    words, joined = words[:i], False
                    break
        if joined:
            pos = end = words[-1][1] if words else pos + 1
        elif words:
            pos = end = tail(text, pos, words)
        if text.startswith(sep, pos) and segment.match(text, pos + len(sep)):
            pos += len(sep)
            continue
        return end


def parse_windows_path(text: str, start: int) -> list[Candidate]:
    before = char_before(text, start)
    if word_char(before) or before in "\\/:":
        return []
    m = _WIN_ROOT.match(text, start)
    if m is None:
        return []
    sep = "\\\\" if m.group().endswith("\\\\") else "\\"
    end = _walk_segments(text, m.end(), sep, _WIN_SEGMENT, _extension_tail)
    if char_at(text, end) in _WILDCARDS:
        return []  # a pattern such as %TEMP%\\dsc*.tmp, not a path
    raw = text[start:end].rstrip(".")
    if len(raw) <= len(m.group()):
        return []
    end = start + len(raw)
    value = raw.replace("\\\\", "\\") if len(sep) == 2 else raw  # "C:\\\\Windows" as escaped in code or JSON
    return [Candidate(Kind.FILE_PATH, value, start, end, HIGH, "Windows path")]


def parse_unix_path(text: str, start: int) -> list[Candidate]:
    before = char_before(text, start)
    if not (before.isspace() or before in "\"'`(=[<>:,;"):
        return []
    m = _UNIX_START.match(text, start)
    if m is None:
        return []
    prefix = m.group()
    if prefix == "/":
        root = _UNIX_SEGMENT.match(text, m.end())
        if root is None or root.group() not in _UNIX_ROOTS:
            return []
    end = _walk_segments(text, m.end(), "/", _UNIX_SEGMENT, lambda _t, p, _w: p)
    if char_at(text, end) in _WILDCARDS:
        return []
    raw = text[start:end].rstrip(".:,")
    if raw.count("/") < 2 and prefix == "/":
        return []
    if len(raw) <= len(prefix):
        return []
    confidence = HIGH if prefix == "/" else MEDIUM
    return [Candidate(Kind.FILE_PATH, raw, start, start + len(raw), confidence, "Unix path under a system root")]


# ---------------------------------------------------------------- user agents

_UA_START = re.compile(r"(?:Mozilla|Opera)/\d+\.\d+", re.IGNORECASE)
# Product tokens and comments; a bare word only if browsers really send it bare.
_UA_BARE = "Gecko|Chrome|Safari|Mobile|Firefox|Edge|Edg|OPR|Presto|Trident|Version|KHTML|Android|Linux|Windows|Macintosh|like"
_UA_ITEM = re.compile(
    r" (?:\([^()\r\n]{1,200}\)|(?!(?i:mozilla|opera)/)[A-Za-z][\w.!#$%&'*+^|~-]*+/[\w.+-]++|(?i:" + _UA_BARE + r")(?![\w:/]))"
)


def parse_user_agent(text: str, start: int) -> list[Candidate]:
    if word_char(char_before(text, start)):
        return []
    m = _UA_START.match(text, start)
    if m is None:
        return []
    end = m.end()
    items = 0
    while True:
        item = _UA_ITEM.match(text, end)
        if item is None:
            break
        end = item.end()
        items += 1
    if items == 0:
        return []
    return [Candidate(Kind.USER_AGENT, text[start:end], start, end, HIGH, "HTTP User-Agent string")]


_LONGEST_ROOT = max(map(len, _UNIX_ROOTS))


def _locate_unix_path(text: str, end: int) -> int | None:
    """Start of the root form ("~/", "./", "../", "/etc/") whose slash is two characters before ``end``."""
    slash = end - 2
    before = text[slash - 1]
    if before == "~":
        return slash - 1
    if before == ".":
        return slash - 2 if text[slash - 2 : slash - 1] == "." else slash - 1
    opening = text.rfind("/", max(0, slash - _LONGEST_ROOT - 1), slash)
    return opening if opening != -1 else None


def _locate_registry(text: str, end: int) -> int | None:
    start = rfind_word(text, end, ("hk",), 32)
    if start is not None and text[start - 1 : start] == "<":
        start -= 1
    return start


FAMILIES = (
    Family(
        "registry",
        (r"<?(?:HKEY_[A-Z_]{4,20}|HKLM|HKCU|HKCR|HKCC|HKU)>?:?\\",),
        parse_registry,
        frozenset({Kind.REGISTRY_KEY}),
        caseless=True,
        locate=_locate_registry,
    ),
    # Windows paths are hard to read backwards (three root forms), so they keep start tracking.
    Family("windows_path", (r"[A-Za-z]:\\\\?[^\\\s]", r"%[A-Za-z_][\w()]{0,30}%\\", r"\\\\[\w.$-]+\\"), parse_windows_path,
           frozenset({Kind.FILE_PATH}), som=True),
    # One root form, its slash and one segment character: a fixed shape a locator reads
    # backwards. With start tracking this one trigger cost a sixth of the whole scan.
    Family(
        "unix_path",
        (r"[\s\"'`(=\[<>:,;](?:~|\.\.?|/(?:" + "|".join(sorted(_UNIX_ROOTS)) + r"))/[\w.@%+=:{}$~-]",),
        parse_unix_path,
        frozenset({Kind.FILE_PATH}),
        locate=_locate_unix_path,
    ),
    Family("user_agent", (r"(?:Mozilla|Opera)/\d+\.\d+ ",), parse_user_agent, frozenset({Kind.USER_AGENT}), caseless=True,
           locate=lambda text, end: rfind_word(text, end, ("mozilla/", "opera/"), 24)),
)
