"""Checking and normalising one indicator value that a feed or a tool states.

A feed row says "this is an indicator"; the extractor still decides whether it
is a valid one and what its canonical form is, so a value ingested from a feed
and the same value found in an article become the same indicator.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection

from iocflow.extract import extract, refang
from iocflow.extract.model import Confidence, Indicator, Kind
from iocflow.store.vocabulary import IndicatorType, type_of_kind

_MAX_VALUE = 8192


def identify(value: str, allowed: Collection[IndicatorType] | None = None) -> tuple[IndicatorType, str]:
    """The type and canonical value of ``value``, which must be one whole indicator.

    ``allowed`` narrows the types it may be (a feed's column says "URL").
    Defanged values are refanged. ``ValueError`` says why a value is refused.
    """
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValueError("empty indicator value")
    if len(text) > _MAX_VALUE:
        raise ValueError(f"indicator value longer than {_MAX_VALUE} characters")
    if allowed and IndicatorType.FILENAME in allowed:
        return _file_name(text, allowed)
    if allowed and IndicatorType.ASN in allowed and text.isdigit():
        text = f"AS{text}"  # feeds state an AS by its bare number
    if allowed and IndicatorType.USER_AGENT in allowed and len(allowed) == 1:
        return IndicatorType.USER_AGENT, _user_agent(text)
    fast = _fast_path(text, allowed)
    if fast is not None:
        return fast
    whole = [ind for ind in extract(text).indicators
             if ind.start == 0 and ind.end == len(text) and not _invalid_url(ind)]
    for ind in sorted(whole, key=_preference):
        kind = type_of_kind(ind.kind)
        if allowed is None or kind in allowed:
            return kind, ind.value
    wanted = "/".join(sorted(t.value for t in allowed)) if allowed else "indicator"
    found = ", ".join(sorted({type_of_kind(i.kind).value for i in whole}))
    raise ValueError(f"not a valid {wanted}" + (f" (it is a {found})" if found else ""))


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


_HASH_BY_LENGTH = {32: IndicatorType.MD5, 40: IndicatorType.SHA1, 64: IndicatorType.SHA256, 128: IndicatorType.SHA512}
_HEX = frozenset("0123456789abcdefABCDEF")
_IP_TYPES = frozenset({IndicatorType.IPV4, IndicatorType.IPV6})


def _fast_path(text: str, allowed: Collection[IndicatorType] | None) -> tuple[IndicatorType, str] | None:
    """Hash and IP columns, the bulk of feed rows, checked directly (the whole extractor costs ~0.3 ms a value).

    Gives the extractor's canonical value or ``None`` (then the extractor decides, and words the refusal).
    """
    if not allowed:
        return None
    kind = _HASH_BY_LENGTH.get(len(text))
    if kind in allowed and _HEX.issuperset(text):
        return kind, text.lower()
    if _IP_TYPES.issuperset(allowed):
        try:
            address = ipaddress.ip_address(refang(text))
        except ValueError:
            return None
        kind = IndicatorType.IPV4 if address.version == 4 else IndicatorType.IPV6
        return (kind, str(address)) if kind in allowed else None
    return None


def _invalid_url(ind: Indicator) -> bool:
    """A URL the extractor kept only at low confidence has a host that is neither a real domain nor an IP
    (``http://300.12.4.1/``): prose may show one, a feed that states it as a URL is wrong."""
    return ind.kind is Kind.URL and ind.confidence is Confidence.LOW


def _preference(ind: Indicator) -> tuple[int, int]:
    """Stated before derived, then more confident first."""
    return (ind.parent is not None, -ind.confidence.rank)
