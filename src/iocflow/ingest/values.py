"""Checking and normalising one indicator value that a feed or a tool states.

A feed row says "this is an indicator"; the extractor still decides whether it
is a valid one and what its canonical form is, so a value ingested from a feed
and the same value found in an article become the same indicator.
"""

from __future__ import annotations

from collections.abc import Collection

from iocflow.extract import Kind, NotAnIndicator, check
from iocflow.store.vocabulary import IndicatorType, type_of_kind

_MAX_VALUE = 8192


def identify(value: str, allowed: Collection[IndicatorType] | None = None) -> tuple[IndicatorType, str]:
    """The type and canonical value of ``value``, which must be one whole indicator.

    ``allowed`` narrows the types it may be (a feed's column says "URL").
    Defanged values are refanged. ``ValueError`` says why a value is refused.
    The extractor decides (``iocflow.extract.check``); what is added here is what
    only a stated value has: file names, bare AS numbers, user agents as written.
    """
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValueError("empty indicator value")
    if len(text) > _MAX_VALUE:
        raise ValueError(f"indicator value longer than {_MAX_VALUE} characters")
    kinds = None
    if allowed:
        if _FILENAME in allowed:
            return _file_name(text, allowed)
        if _ASN in allowed and text.isdigit():
            text = f"AS{text}"  # feeds state an AS by its bare number
        if _USER_AGENT in allowed and len(allowed) == 1:
            return _USER_AGENT, _user_agent(text)
        kinds = (_KINDS.get(allowed) if type(allowed) is frozenset else None) or _kinds_of(allowed)
    try:
        kind, canonical = check(text, kinds)
    except NotAnIndicator as exc:
        wanted = "/".join(sorted(t.value for t in allowed)) if allowed else "indicator"
        found = ", ".join(sorted({type_of_kind(k).value for k in exc.found}))
        raise ValueError(f"not a valid {wanted}" + (f" (it is a {found})" if found else "")) from None
    return _TYPE_OF_VALUE[kind._value_], canonical  # by value: Kind hashes in Python, by its name


# Module constants: an Enum member read off its class costs a Python-level lookup, per feed row.
_FILENAME, _ASN, _USER_AGENT = IndicatorType.FILENAME, IndicatorType.ASN, IndicatorType.USER_AGENT
_TYPE_OF_VALUE = {kind.value: type_of_kind(kind) for kind in Kind}
_KINDS_OF_TYPE = {t: frozenset(k for k in Kind if type_of_kind(k) is t) for t in IndicatorType}
# Store types -> extractor kinds, per set of allowed types: callers keep a few constant sets.
_KINDS: dict[frozenset[IndicatorType], frozenset[Kind]] = {}


def _kinds_of(allowed: Collection[IndicatorType]) -> frozenset[Kind]:
    """The extractor's kinds for store types (``mitre_attack`` is three)."""
    key = allowed if type(allowed) is frozenset else frozenset(allowed)
    kinds = _KINDS.get(key)
    if kinds is None:
        kinds = frozenset().union(*(_KINDS_OF_TYPE[t] for t in key))
        if len(_KINDS) < 1024:  # never grows without bound, whatever callers pass
            _KINDS[key] = kinds
    return kinds


_MAX_FILENAME = 255
_FILENAME_FORBIDDEN = frozenset('/\\:*?"<>|\x00\r\n')
_MAX_USER_AGENT = 512


def _file_name(text: str, allowed: Collection[IndicatorType]) -> tuple[IndicatorType, str]:
    """A stated file name, kept as given (case matters on some systems); a path when one is allowed."""
    if ("/" in text or "\\" in text) and IndicatorType.FILE_PATH in allowed:
        return identify(text, {IndicatorType.FILE_PATH})
    if len(text) > _MAX_FILENAME:
        raise ValueError(f"a file name has at most {_MAX_FILENAME} characters")
    if any(ch in _FILENAME_FORBIDDEN for ch in text):
        raise ValueError('a file name is a bare name, without a path or characters like / \\ : * ? " < > |')
    return IndicatorType.FILENAME, text


def _user_agent(text: str) -> str:
    """A stated user agent, kept as written: feeds list agents (``curl/8.4.0``) that prose rules would not."""
    if len(text) > _MAX_USER_AGENT or not text.isprintable():
        raise ValueError("not a valid user_agent")
    return text
