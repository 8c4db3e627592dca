"""One stated value, checked: is it one whole indicator of a kind, and what is its canonical form?

A feed column, a pushed indicator or a lookup states a single value; :func:`check`
answers with the extractor's own reading of that value, so a value stated alone
and the same value found in a report become the same indicator::

    >>> check("hxxps://evil[.]com/a", Kind.URL)
    (<Kind.URL: 'url'>, 'https://evil.com/a')
    >>> check("D41D8CD98F00B204E9800998ECF8427E", {Kind.MD5, Kind.SHA1})
    (<Kind.MD5: 'md5'>, 'd41d8cd98f00b204e9800998ecf8427e')

The rule: the value (surrounding white space aside) is one indicator exactly when
``extract(value)`` reports an indicator spanning all of it. When several do (an
Ethereum address is also read as a SHA-1), a stated one wins over a derived one,
then the more confident. One refusal is added: a URL the extractor keeps only at low
confidence (its host is neither a public domain nor an IP address, as in
``http://300.12.4.1/``) is prose-tolerated, not a URL anyone should state.
Labelled kinds (imphash, authentihash, JA3) are told apart from MD5/SHA-256 only by
the label written before them in a text, so a bare value is an MD5 or SHA-256.

Hashes and IP addresses, the bulk of feed rows, are read directly (the whole
extractor costs a few hundred microseconds a value); the tests hold these readings
equal to the extractor's on generated values. Anything else goes through
:func:`~iocflow.extract.extract`.

:func:`url_host`, :func:`url_path` and :func:`email_host` split a URL or address as
the extractor's URL and e-mail grammar reads it, for callers that match hosts and
paths (the allowlist, the Sigma rules).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from iocflow.exceptions import ExtractError
from iocflow.extract.engine import extract, parse_types

# The hash and URL/e-mail families' own tables and grammar, read here rather than restated.
from iocflow.extract.kinds.hashes import _BY_LENGTH as _HASH_BY_LENGTH
from iocflow.extract.kinds.hashes import _HEX_RUN
from iocflow.extract.kinds.network import _EMAIL, _host_span, _ipv4_value, authority_end
from iocflow.extract.model import Confidence, Indicator, Kind

__all__ = ["NotAnIndicator", "check", "email_host", "url_host", "url_path"]

Kinds = Kind | str | Iterable[Kind | str]


class NotAnIndicator(ExtractError, ValueError):
    """``value`` is not one whole indicator of the kinds asked for.

    ``wanted`` holds those kinds (``None``: any kind); ``found`` the kinds it is
    instead, if any, so a caller can word the refusal in its own vocabulary.
    """

    def __init__(self, message: str, *, value: str, wanted: frozenset[Kind] | None, found: frozenset[Kind]) -> None:
        super().__init__(message)
        self.value = value
        self.wanted = wanted
        self.found = found


def check(value: str, kinds: Kinds | None = None) -> tuple[Kind, str]:
    """The kind and canonical value of ``value``, which must be one whole indicator.

    ``kinds`` (a :class:`Kind`, a name, or several) narrows what it may be. Defanged
    values are refanged. Raises :class:`NotAnIndicator` (a ``ValueError``) saying why.
    """
    text = value.strip()
    plan = (_PLANS.get(kinds) if type(kinds) is frozenset else None) or _plan(kinds)
    if not text:
        raise NotAnIndicator("empty indicator value", value=value, wanted=plan.kinds, found=frozenset())
    fast = _hash(text, plan) or _address(text, plan)
    if fast is not None:
        return fast
    wanted = plan.kinds
    whole = [ind for ind in extract(text).indicators
             if ind.start == 0 and ind.end == len(text) and not _low_url(ind)]
    for ind in sorted(whole, key=_preference):
        if wanted is None or ind.kind in wanted:
            return ind.kind, ind.value
    found = frozenset(ind.kind for ind in whole)
    names = "/".join(sorted(k.value for k in wanted)) if wanted else "indicator"
    shown = ", ".join(sorted(k.value for k in found))
    message = f"not a valid {names}" + (f" (it is a {shown})" if shown else "")
    raise NotAnIndicator(message, value=value, wanted=wanted, found=found)


def url_host(url: str) -> str:
    """The host of ``url`` as the extractor reads it: lower case, an IPv6 address without brackets.

    User info and port are not part of it; a URL without a scheme (``evil.com/a``)
    starts with its host. ``""`` when there is none.
    """
    sep = url.find("://")
    start, end = _host_span(url, sep + 3 if sep != -1 else 0)
    return url[start:end].lower()


def url_path(url: str) -> str:
    """What follows the authority (user info, host, port) of ``url``: its path, query and fragment, as written."""
    return url[authority_end(url) :]


def email_host(address: str) -> str:
    """The domain of an e-mail or XMPP address as the extractor reads it, lower case; for an IP
    literal (``user@[192.0.2.1]``, ``user@[IPv6:2001:db8::1]``) the address. ``""`` when
    ``address`` is not one."""
    m = _EMAIL.fullmatch(address)
    if m is None:
        return ""
    literal = m.group(2)
    if literal is None:
        return m.group(3).lower()
    return literal[5:].lower() if literal[:5].lower() == "ipv6:" else literal


# ---------------------------------------------------------------- the direct readings


class _Plan:
    """What :func:`check` may answer for one set of wanted kinds (``None``: any kind)."""

    __slots__ = ("kinds", "hashes", "ipv4", "ipv6")

    def __init__(self, kinds: frozenset[Kind] | None) -> None:
        self.kinds = kinds
        #: hex-run length -> the hash kind of that length, if wanted
        self.hashes = {n: k for n, k in _HASH_BY_LENGTH.items() if kinds is None or k in kinds}
        self.ipv4 = kinds is None or Kind.IPV4 in kinds
        self.ipv6 = kinds is None or Kind.IPV6 in kinds


_ANY = _Plan(None)
# Plans for frozensets of kinds, the form callers keep in constants: worked out once per set.
_PLANS: dict[frozenset[Kind | str], _Plan] = {}


def _plan(kinds: Kinds | None) -> _Plan:
    """The plan for ``kinds``; a frozenset's is kept (``check`` looks it up inline, per value)."""
    if kinds is None:
        return _ANY
    if type(kinds) is frozenset:
        plan = _PLANS.get(kinds)
        if plan is None:
            plan = _Plan(parse_types(kinds))
            if len(_PLANS) < 1024:  # never grows without bound, whatever callers pass
                _PLANS[kinds] = plan
        return plan
    return _Plan(parse_types(kinds))


_DOTTED = frozenset("0123456789.")
_IPV6_TEXT = frozenset("0123456789abcdefABCDEF:.")
_IPV4, _IPV6 = Kind.IPV4, Kind.IPV6


def _hash(text: str, plan: _Plan) -> tuple[Kind, str] | None:
    """A whole hex run of a hash's length, as ``parse_hex_hash`` reads it with nothing around it."""
    kind = plan.hashes.get(len(text))
    if kind is None or _HEX_RUN.fullmatch(text) is None or text.isdigit():
        return None  # a run of digits is a number to the extractor; it words the refusal
    return kind, text.lower()


def _address(text: str, plan: _Plan) -> tuple[Kind, str] | None:
    """A plain IPv4 or IPv6 address, as ``parse_ipv4``/``parse_ipv6`` read it with nothing around it.

    ``None`` for anything else (defanged, zone ids, out of range): the extractor decides those.
    """
    if ":" not in text:
        if not plan.ipv4 or not _DOTTED.issuperset(text):
            return None
        octets = text.split(".")
        if len(octets) != 4 or "" in octets or max(map(len, octets)) > 3:
            return None
        read = _ipv4_value(tuple(octets))
        return (_IPV4, read[0]) if read is not None else None
    if not plan.ipv6 or text == "::" or not _IPV6_TEXT.issuperset(text):
        return None  # "::" alone is prose ("a lone :: here") to the extractor
    try:
        return _IPV6, str(ipaddress.IPv6Address(text))
    except ValueError:
        return None


# ---------------------------------------------------------------- helpers


def _low_url(ind: Indicator) -> bool:
    return ind.kind is Kind.URL and ind.confidence is Confidence.LOW


def _preference(ind: Indicator) -> tuple[bool, int]:
    """Stated before derived, then more confident first."""
    return ind.parent is not None, -ind.confidence.rank
