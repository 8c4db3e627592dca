"""Cryptocurrency addresses: Bitcoin (base58check, bech32/bech32m), Monero, Ethereum.

Every address kind carries a checksum, so a candidate is reported only when
the checksum holds: random base58-looking words never pass.
"""

from __future__ import annotations

import hashlib
import re

from iocflow.extract.kinds.base import HIGH, Candidate, Family, char_at, char_before, fixed_width, run_start, word_char
from iocflow.extract.keccak import keccak256
from iocflow.extract.model import Kind

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}
_B58_RUN = re.compile(r"[1-9A-HJ-NP-Za-km-z]++")


def _b58decode(s: str) -> bytes | None:
    n = 0
    for c in s:
        d = _B58_INDEX.get(c)
        if d is None:
            return None
        n = n * 58 + d
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    pad = len(s) - len(s.lstrip("1"))
    return b"\x00" * pad + body


def is_base58check_address(s: str) -> bool:
    raw = _b58decode(s)
    if raw is None or len(raw) != 25 or raw[0] not in (0x00, 0x05):
        return False
    check = hashlib.sha256(hashlib.sha256(raw[:-4]).digest()).digest()[:4]
    return check == raw[-4:]


_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_INDEX = {c: i for i, c in enumerate(_BECH32_CHARSET)}
_BECH32_CONST, _BECH32M_CONST = 1, 0x2BC830A3
_BECH32 = re.compile(r"(?:bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{11,71}+")


def _polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def is_bech32_address(s: str) -> bool:
    if s.lower() != s and s.upper() != s:
        return False  # mixed case is invalid in bech32
    s = s.lower()
    hrp, data = s[:2], s[3:]
    values = [_BECH32_INDEX[c] for c in data]
    if len(values) < 7:
        return False
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    const = _polymod(expanded + values)
    witness_version = values[0]
    if witness_version == 0:
        return const == _BECH32_CONST and len(s) in (42, 62)
    return const == _BECH32M_CONST and witness_version <= 16


def parse_bitcoin(text: str, start: int) -> list[Candidate]:
    if word_char(char_before(text, start)):
        return []
    if text.startswith(("bc1", "BC1"), start):
        m = _BECH32.match(text, start)
        if m is None or word_char(char_at(text, m.end())) or not is_bech32_address(m.group()):
            return []
        return [Candidate(Kind.BITCOIN, m.group().lower(), start, m.end(), HIGH, "bech32 Bitcoin address with a valid checksum")]
    m = _B58_RUN.match(text, start)
    if m is None or word_char(char_at(text, m.end())):
        return []
    addr = m.group()
    if not 26 <= len(addr) <= 35 or not is_base58check_address(addr):
        return []
    return [Candidate(Kind.BITCOIN, addr, start, m.end(), HIGH, "base58check Bitcoin address with a valid checksum")]


# Monero encodes 8-byte blocks as 11 base58 characters; a short final block
# of n characters holds _MONERO_TAIL[n] bytes.
_MONERO_TAIL = {0: 0, 2: 1, 3: 2, 5: 3, 6: 4, 7: 5, 9: 6, 10: 7, 11: 8}
_MONERO_NETWORKS = {18: "standard", 42: "subaddress", 19: "integrated"}


def _monero_decode(s: str) -> bytes | None:
    out = bytearray()
    for i in range(0, len(s), 11):
        block = s[i : i + 11]
        size = _MONERO_TAIL.get(len(block))
        if size is None:
            return None
        n = 0
        for c in block:
            n = n * 58 + _B58_INDEX[c]
        if n >= 1 << (8 * size):
            return None
        out += n.to_bytes(size, "big")
    return bytes(out)


def is_monero_address(s: str) -> bool:
    raw = _monero_decode(s)
    if raw is None or len(raw) not in (69, 77) or raw[0] not in _MONERO_NETWORKS:
        return False
    return keccak256(raw[:-4])[:4] == raw[-4:]


def parse_monero(text: str, start: int) -> list[Candidate]:
    if word_char(char_before(text, start)):
        return []
    m = _B58_RUN.match(text, start)
    if m is None or word_char(char_at(text, m.end())) or len(m.group()) not in (95, 106):
        return []
    if not is_monero_address(m.group()):
        return []
    return [Candidate(Kind.MONERO, m.group(), start, m.end(), HIGH, "Monero address with a valid checksum")]


def _eip55_ok(hex40: str) -> bool:
    digest = keccak256(hex40.lower().encode("ascii")).hex()
    for c, h in zip(hex40, digest[:40], strict=True):
        if c.isalpha() and (c.isupper() != (int(h, 16) >= 8)):
            return False
    return True


_ETHEREUM = re.compile(r"0x([0-9a-fA-F]{40})(?![0-9a-zA-Z])")


def parse_ethereum(text: str, start: int) -> list[Candidate]:
    if word_char(char_before(text, start)):
        return []
    m = _ETHEREUM.match(text, start)
    if m is None:
        return []
    body = m.group(1)
    mixed = body.lower() != body and body.upper() != body
    if mixed and not _eip55_ok(body):
        return []
    reason = "Ethereum address with a valid EIP-55 checksum" if mixed else "0x-prefixed 40-hex Ethereum address"
    return [Candidate(Kind.ETHEREUM, "0x" + body.lower(), start, m.end(), HIGH, reason)]


def _locate_base58(text: str, end: int) -> int:
    """Start of the base58 run that the trigger's terminating character closes."""
    return run_start(text, end - 1, _B58_ALPHABET, 110)


def _locate_bitcoin(text: str, end: int) -> int:
    if text[end - 14 : end - 11] in ("bc1", "BC1"):
        return end - 14
    return _locate_base58(text, end)


_B58 = "[1-9A-HJ-NP-Za-km-z]"
FAMILIES = (
    Family("bitcoin", (f"[13]{_B58}{{25,34}}[^0-9A-Za-z]", r"(?:bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{11}"), parse_bitcoin,
           frozenset({Kind.BITCOIN}), locate=_locate_bitcoin),
    Family("monero", (f"[48]{_B58}{{94}}[^0-9A-Za-z]", f"[48]{_B58}{{105}}[^0-9A-Za-z]"), parse_monero, frozenset({Kind.MONERO}),
           locate=_locate_base58),
    Family("ethereum", (r"0x[0-9a-fA-F]{40}[^0-9A-Za-z]",), parse_ethereum, frozenset({Kind.ETHEREUM}),
           locate=fixed_width(43)),
)
