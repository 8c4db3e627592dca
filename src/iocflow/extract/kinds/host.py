"""Host artefacts: registry keys, file paths and HTTP user agents.

Registry keys and Windows paths may contain spaces ("HKCU\\Volatile
Environment", "C:\\Program Files\\..."), so a space does not end them; what
does is decided by the words that follow, never by backtracking.
"""

from __future__ import annotations

import re

from iocflow.extract.kinds.base import HIGH, MEDIUM, Candidate, Family, char_at, char_before, word_char
from iocflow.extract.model import Kind

# Words that, after a space, end a registry key or path instead of continuing it.
_PROSE_AFTER = frozenset(
    "key keys subkey subkeys value values registry hive and or to was were is are with which where "
    "for in on at by from as that this then when via using used".split()
)
_WORD = re.compile(r"[^\s\\/\"'<>|,;*?]++")

# ---------------------------------------------------------------- registry

_REG_ROOT = re.compile(
    r"(HKEY_LOCAL_MACHINE|HKEY_CURRENT_USER|HKEY_CLASSES_ROOT|HKEY_USERS|HKEY_CURRENT_CONFIG"
    r"|HKEY_PERFORMANCE_DATA|HKLM|HKCU|HKCR|HKCC|HKU)(:?)(\\\\?)",
    re.IGNORECASE,
)
_REG_SECTION = re.compile(r"[\w.{}()$&#@%~+*=!\[\]-]++")


def _spaced_word_ok(text: str, pos: int, *, capitalised: bool) -> int | None:
    """End of the word after the space at ``pos`` if it continues the name, else None."""
    if char_at(text, pos) != " ":
        return None
    first = char_at(text, pos + 1)
    if not first or (capitalised and not (first.isupper() or first.isdigit())):
        return None
    m = _WORD.match(text, pos + 1)
    if m is None:
        return None
    end = m.end()
    if m.group()[-1] in ".,:)":
        return end - 1  # the name ends a sentence or clause: "HKCU\\Volatile Environment."
    nxt = char_at(text, end)
    if nxt == "\\":
        return end
    if nxt == " ":
        follow = _WORD.match(text, end + 1)
        if follow is None or follow.group().lower() not in _PROSE_AFTER:
            return None
    return end


def parse_registry(text: str, start: int) -> list[Candidate]:
    if word_char(char_before(text, start)):
        return []
    m = _REG_ROOT.match(text, start)
    if m is None:
        return []
    sep = m.group(3)
    pos = m.end()
    end = pos
    while True:
        sec = _REG_SECTION.match(text, pos)
        if sec is None:
            break
        pos = end = sec.end()
        while True:  # words joined by single spaces: "Volatile Environment", "Windows NT"
            nxt = _spaced_word_ok(text, pos, capitalised=True)
            if nxt is None:
                break
            pos = end = nxt
        if text.startswith(sep, pos) and _REG_SECTION.match(text, pos + len(sep)):
            pos += len(sep)
            continue
        break
    if end == m.end():
        return []
    raw = text[start:end].rstrip(".")
    end = start + len(raw)
    value = raw.replace("\\\\", "\\")
    return [Candidate(Kind.REGISTRY_KEY, value, start, end, HIGH, "registry key under a known hive")]


# ---------------------------------------------------------------- file paths

_WIN_ROOT = re.compile(r"[A-Za-z]:\\\\?|%[A-Za-z_][\w()]{0,30}%\\\\?|\\\\\\\\[\w.$-]+\\\\?")
_WIN_SEGMENT = re.compile(r"[^\\/:*?\"<>|\s,;]++")
_UNIX_PATH = re.compile(r"(?:~|/[A-Za-z0-9_]++)(?:/[\w.@%+=:{}$~-]++)++/?")
_UNIX_ROOTS = frozenset(
    "bin boot dev etc home lib lib32 lib64 libexec media mnt opt proc root run sbin srv sys tmp usr var "
    "private Users Library Applications System Volumes sdcard storage data system Windows".split()
)
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}$")
_MAX_WORDS_AHEAD = 4


def parse_windows_path(text: str, start: int) -> list[Candidate]:
    before = char_before(text, start)
    if word_char(before) or before in "\\/":
        return []
    m = _WIN_ROOT.match(text, start)
    if m is None:
        return []
    sep = "\\\\" if m.group().endswith("\\\\") else "\\"
    pos = end = m.end()
    while True:
        seg = _WIN_SEGMENT.match(text, pos)
        if seg is None:
            break
        pos = end = seg.end()
        # A space inside a segment continues it if a backslash follows the
        # spaced words ("Program Files\"), or a file name with an extension
        # ends them ("my evil file.exe").
        probe, words = pos, 0
        while char_at(text, probe) == " " and words < _MAX_WORDS_AHEAD:
            w = _WIN_SEGMENT.match(text, probe + 1)
            if w is None:
                break
            words += 1
            probe = w.end()
            if text.startswith(sep, probe) or _EXTENSION.search(w.group()):
                pos = end = probe
                break
        if text.startswith(sep, pos) and _WIN_SEGMENT.match(text, pos + len(sep)):
            pos += len(sep)
            continue
        break
    raw = text[start:end].rstrip(".")
    if len(raw) <= len(m.group()):
        return []
    end = start + len(raw)
    return [Candidate(Kind.FILE_PATH, raw.replace("\\\\", "\\"), start, end, HIGH, "Windows path")]


def parse_unix_path(text: str, start: int) -> list[Candidate]:
    before = char_before(text, start)
    if before and not (before.isspace() or before in "\"'`(=[<>:,;"):
        return []
    m = _UNIX_PATH.match(text, start)
    if m is None:
        return []
    raw = m.group()
    first = raw[1:].split("/", 1)[0] if raw.startswith("/") else "~"
    if first != "~" and first not in _UNIX_ROOTS:
        return []
    raw = raw.rstrip(".:,")
    if raw.count("/") < 2 and not raw.startswith("~/"):
        return []
    return [Candidate(Kind.FILE_PATH, raw, start, start + len(raw), HIGH if first != "~" else MEDIUM, "Unix path under a system root")]


# ---------------------------------------------------------------- user agents

_UA_START = re.compile(r"(?:Mozilla|Opera)/\d+\.\d+")
_UA_ITEM = re.compile(r" (?:\([^()\r\n]{1,200}\)|[A-Za-z][\w.!#$%&'*+^|~-]*+/[\w.+-]++|[A-Z][\w.-]*+(?= [A-Za-z][\w.-]*/| \())")


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


FAMILIES = (
    Family(
        "registry",
        (r"(?:HKEY_[A-Z_]{4,20}|HKLM|HKCU|HKCR|HKCC|HKU):?\\",),
        parse_registry,
        frozenset({Kind.REGISTRY_KEY}),
        caseless=True,
    ),
    Family("windows_path", (r"[A-Za-z]:\\[^\\\s]", r"%[A-Za-z_][\w()]{0,30}%\\", r"\\\\[\w.$-]+\\"), parse_windows_path, frozenset({Kind.FILE_PATH})),
    Family(
        "unix_path",
        (r"[\s\"'`(=\[<>:,;](?:~|/(?:" + "|".join(sorted(_UNIX_ROOTS)) + r"))/[\w.@%+=:{}$~-]",),
        parse_unix_path,
        frozenset({Kind.FILE_PATH}),
        lead=1,
    ),
    Family("user_agent", (r"(?:Mozilla|Opera)/\d+\.\d+ ",), parse_user_agent, frozenset({Kind.USER_AGENT})),
)
