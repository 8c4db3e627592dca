"""File and fingerprint hashes: MD5, SHA-1/256/512, JARM, ssdeep, and labelled imphash/authentihash/JA3.

A hash is a whole hex run of exactly the right length, never a slice of a
longer run. Imphashes, authentihashes and JA3 fingerprints look like MD5/SHA-256
and are told apart only by the label written before them, as in ioc-finder.
"""

from __future__ import annotations

import re

from iocflow.extract.kinds.base import HIGH, MEDIUM, Candidate, Family, char_at, char_before, run_start
from iocflow.extract.model import Kind

_HEX_RUN = re.compile(r"[0-9A-Fa-f]++")
_BY_LENGTH = {32: Kind.MD5, 40: Kind.SHA1, 62: Kind.JARM, 64: Kind.SHA256, 128: Kind.SHA512}
_LABEL_BEFORE = re.compile(
    r"(?P<label>imphash|imp[ _-]hash|import[ _-]hash|authentihash|authenticode[ _-]hash|ja3s?)"
    r"(?:[ \t]*(?:hash|fingerprint|value)?)?[\s:=\"'|,()\[\]-]{0,6}$",
    re.IGNORECASE,
)
_LABELLED = {
    "imphash": (Kind.IMPHASH, Kind.MD5),
    "authentihash": (Kind.AUTHENTIHASH, Kind.SHA256),
    "ja3": (Kind.JA3, Kind.MD5),
}
_LOOKBACK = 40


def _label_kind(text: str, start: int, kind: Kind) -> Kind:
    m = _LABEL_BEFORE.search(text, max(0, start - _LOOKBACK), start)
    if m is None:
        return kind
    label = m.group("label").lower().replace("_", " ").replace("-", " ")
    key = "ja3" if label.startswith("ja3") else "authentihash" if label.startswith("authenti") else "imphash"
    labelled, base = _LABELLED[key]
    return labelled if kind is base else kind


_HEX_DIGITS = "0123456789abcdefABCDEF"
_LONGEST = max(_BY_LENGTH)


def _locate_hex_run(text: str, end: int) -> int | None:
    """Start of the hex run that ends one character before ``end``; None if longer than any hash."""
    run_end = end - 1  # the trigger ends with the character after the run
    start = run_start(text, run_end, _HEX_DIGITS, _LONGEST + 1)
    return start if run_end - start <= _LONGEST else None


def parse_hex_hash(text: str, start: int) -> list[Candidate]:
    before = char_before(text, start)
    if before and (before.isalnum() or before == "_"):
        if not (before in "xX" and text[start - 2 : start - 1] == "0"):
            return []
    m = _HEX_RUN.match(text, start)
    if m is None:
        return []
    end = m.end()
    after = char_at(text, end)
    if after and after.isalnum():
        return []  # part of a longer word or hex run
    kind = _BY_LENGTH.get(end - start)
    if kind is None:
        return []
    value = m.group().lower()
    if value.isdigit():
        return []  # a long decimal number, not a digest
    if before in "xX":
        if kind is not Kind.SHA1:
            return []
        # Most likely an Ethereum address (crypto.py reports it); ioc-finder users expect the SHA-1 too.
        return [Candidate(kind, value, start, end, MEDIUM, "0x-prefixed 40 hex digits: SHA-1 or an Ethereum address")]
    kind = _label_kind(text, start, kind)
    reason = f"{end - start}-hex-digit {kind.value}" + (" (labelled)" if kind in (Kind.IMPHASH, Kind.AUTHENTIHASH, Kind.JA3) else "")
    confidence = HIGH if any(c.isalpha() for c in value) else MEDIUM
    return [Candidate(kind, value, start, end, confidence, reason)]


_SSDEEP = re.compile(r"(\d{1,10}):([A-Za-z0-9/+]{3,}+):([A-Za-z0-9/+]{3,}+)(?:,\"[^\"\r\n]{0,260}\")?")


def parse_ssdeep(text: str, start: int) -> list[Candidate]:
    before = char_before(text, start)
    if before and (before.isalnum() or before in ":/+"):
        return []
    m = _SSDEEP.match(text, start)
    if m is None:
        return []
    end = m.end(3)
    if char_at(text, end).isalnum():
        return []
    block = int(m.group(1))
    # ssdeep block sizes are 3 * 2**n.
    if block < 3 or block % 3 or (block // 3) & (block // 3 - 1):
        return []
    value = text[start:end]
    return [Candidate(Kind.SSDEEP, value, start, end, HIGH, "ssdeep fuzzy hash with a valid block size")]


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+"


def _locate_ssdeep(text: str, end: int) -> int | None:
    """From the end of "<block>:<hash>:<3 chars>" back to the block size."""
    colon = end - 4
    if text[colon : colon + 1] != ":":
        return None
    first = run_start(text, colon, _B64, 128)
    if text[first - 1 : first] != ":":
        return None
    return run_start(text, first - 1, "0123456789", 10)


FAMILIES = (
    Family(
        "hex_hash",
        # Anchored at the run's end: with the context class in front, Hyperscan ran this
        # one trigger at a sixth of the speed of all the others together.
        (r"[0-9A-Fa-f]{32}[^0-9A-Za-z]",),
        parse_hex_hash,
        frozenset({Kind.MD5, Kind.SHA1, Kind.SHA256, Kind.SHA512, Kind.JARM, Kind.IMPHASH, Kind.AUTHENTIHASH, Kind.JA3}),
        locate=_locate_hex_run,
    ),
    Family("ssdeep", (r"\d{1,10}:[A-Za-z0-9/+]{3,}:[A-Za-z0-9/+]{3}",), parse_ssdeep, frozenset({Kind.SSDEEP}), locate=_locate_ssdeep),
)
