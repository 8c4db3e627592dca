"""False-positive control: values that must never be served as malicious.

Three layers, all offline:

* MISP warninglists bundled with ``pymispwarninglists`` (``BUNDLED_LISTS``):
  private, documentation, shared and multicast ranges (RFC 1918, 5735 with
  5737's documentation blocks, 3849, 6598, 5771, IPv6 link-local), RFC 6761's
  example domains, Tranco's top 10,000 sites and security vendors' blog hosts,
  and hashes of empty files and well-known benign files.
* iocflow's own table (``data/allowlist.txt``): special-use names (.test,
  .invalid, .localhost, .example), IPv6 special ranges, well-known resolvers.
* Entries an operator adds (``iocflow allowlist add``), kept in the store.

How a value matches, by type: an IP (or a socket address's host) falls in a
listed range; a CIDR lies wholly inside one; a domain is a listed special-use
suffix or a subdomain of it, or equals a popular site exactly (a popular
site's subdomains are not covered: ``evil.blogspot.com`` is not
``blogspot.com``); a URL or e-mail address matches through its host only for
ranges and special-use names (malware is hosted on popular sites); a hash is
listed. Operator entries that are domains cover their subdomains. The host of
a URL or address is the extractor's reading of it (``iocflow.extract.url_host``
and ``email_host``), so an address's IP literal (``user@[10.0.0.1]``) and a URL
without a scheme (``evil.test/a``) match through their host too.
"""

from __future__ import annotations

import bisect
import ipaddress
import json
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from iocflow.extract import email_host, url_host
from iocflow.store.vocabulary import IndicatorType

#: Warninglists bundled with pymispwarninglists that iocflow applies, by directory name.
BUNDLED_LISTS = (
    "rfc1918", "rfc5735", "rfc3849", "rfc6598", "multicast", "ipv6-linklocal",
    "rfc6761", "tranco10k", "security-provider-blogpost",
    "empty-hashes", "common-ioc-false-positive", "ti-falsepositives",
)
_SUFFIX_LISTS = frozenset({"rfc6761"})
_HASH_TYPES = frozenset({
    IndicatorType.MD5, IndicatorType.SHA1, IndicatorType.SHA256, IndicatorType.SHA512, IndicatorType.SSDEEP,
})
_IP_TYPES = frozenset({IndicatorType.IPV4, IndicatorType.IPV6})
_CIDR_TYPES = frozenset({IndicatorType.IPV4_CIDR, IndicatorType.IPV6_CIDR})
_ADDRESS_TYPES = frozenset({IndicatorType.EMAIL, IndicatorType.XMPP})
# Module constants: an Enum member read off its class is a Python-level lookup, per ingested row.
_SOCKET_ADDRESS, _DOMAIN, _URL = IndicatorType.SOCKET_ADDRESS, IndicatorType.DOMAIN, IndicatorType.URL
_SUFFIX_PREFIX = "suffix:"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class _Ranges:
    """Disjoint integer intervals per IP version, searched by bisection (O(log n) per lookup)."""

    def __init__(self, networks: Iterable[tuple[Network, str]]) -> None:
        self._starts: dict[int, list[int]] = {4: [], 6: []}
        self._ends: dict[int, list[int]] = {4: [], 6: []}
        self._reasons: dict[int, list[str]] = {4: [], 6: []}
        for net, reason in sorted(networks, key=lambda n: (n[0].version, int(n[0].network_address), -n[0].prefixlen)):
            start, end = int(net.network_address), int(net.broadcast_address)
            starts, ends = self._starts[net.version], self._ends[net.version]
            if ends and start <= ends[-1]:
                ends[-1] = max(ends[-1], end)  # nested or overlapping: the first (widest) range's reason stays
                continue
            starts.append(start)
            ends.append(end)
            self._reasons[net.version].append(reason)

    def holding(self, version: int, first: int, last: int) -> str | None:
        """The reason of a range holding all addresses ``first..last`` of IP ``version``."""
        i = bisect.bisect_right(self._starts[version], first) - 1
        if i >= 0 and last <= self._ends[version][i]:
            return self._reasons[version][i]
        return None


@dataclass
class _Tables:
    ranges: list[tuple[Network, str]] = field(default_factory=list)
    suffixes: dict[str, str] = field(default_factory=dict)
    exact_domains: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)

    def add(self, entry: str, reason: str, *, domain_suffix: bool) -> None:
        """File one entry under the table its shape belongs to."""
        entry = entry.strip()
        if entry.startswith(_SUFFIX_PREFIX):
            self.suffixes[entry.removeprefix(_SUFFIX_PREFIX).strip(".").lower()] = reason
            return
        try:
            self.ranges.append((ipaddress.ip_network(entry, strict=False), reason))
            return
        except ValueError:
            pass
        if _looks_like_domain(entry):
            target = self.suffixes if domain_suffix else self.exact_domains
            target[entry.strip(".").lower()] = reason
        else:
            self.values[entry.lower()] = reason


def _looks_like_domain(entry: str) -> bool:
    return "." in entry and all(part and (part.replace("-", "").replace("_", "").isalnum()) for part in entry.strip(".").split("."))


def _warninglists_dir() -> Path:
    return Path(str(resources.files("pymispwarninglists"))) / "data" / "misp-warninglists" / "lists"


@lru_cache(maxsize=1)
def _bundled() -> tuple[_Tables, _Ranges]:
    tables = _Tables()
    base = _warninglists_dir()
    for name in BUNDLED_LISTS:
        data = json.loads((base / name / "list.json").read_text(encoding="utf-8"))
        reason = f"MISP warninglist: {data['name']}"
        for entry in data["list"]:
            tables.add(entry, reason, domain_suffix=name in _SUFFIX_LISTS)
    own = resources.files("iocflow.store").joinpath("data/allowlist.txt").read_text(encoding="utf-8")
    for line in own.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        entry, _, reason = line.partition(" ")
        tables.add(entry, f"iocflow allowlist: {reason.strip()}", domain_suffix=False)
    return tables, _Ranges(tables.ranges)


def validate_entry(entry: str) -> str:
    """An operator's entry, cleaned; ``ValueError`` when it is empty or has spaces."""
    cleaned = entry.strip()
    if not cleaned or any(ch.isspace() for ch in cleaned):
        raise ValueError(f"allowlist entry must be one value with no spaces, got {entry!r}")
    return cleaned


class Allowlist:
    """The bundled tables plus an operator's entries; ``match`` says why a value is allowlisted."""

    def __init__(self, user_entries: Iterable[tuple[str, str | None]] = ()) -> None:
        self._base, self._base_ranges = _bundled()
        self._user = _Tables()
        for value, reason in user_entries:
            self._user.add(value, f"operator allowlist: {reason or value}", domain_suffix=True)
        self._user_ranges = _Ranges(self._user.ranges)

    def match(self, kind: IndicatorType, value: str) -> str | None:
        """Why ``value`` (of type ``kind``) is allowlisted, or ``None`` when it is not."""
        exact = self._user.values.get(value.lower())
        if exact is not None:
            return exact
        if kind in _IP_TYPES or kind in _CIDR_TYPES:
            return self._network(value)
        if kind is _SOCKET_ADDRESS:
            return self._network(value.rpartition(":")[0].strip("[]"))
        if kind is _DOMAIN:
            domain = value.lower()
            return self._suffix(domain) or self._base.exact_domains.get(domain) or self._user.exact_domains.get(domain)
        if kind is _URL:
            return self._host(url_host(value))
        if kind in _ADDRESS_TYPES:
            return self._host(email_host(value))
        if kind in _HASH_TYPES:
            return self._base.values.get(value.lower())
        return None

    def _network(self, value: str) -> str | None:
        address = _address(value)
        if address is not None:  # the common case, an address: no ipaddress objects (ingest checks millions)
            version, number = address
            return self._user_ranges.holding(version, number, number) or self._base_ranges.holding(version, number, number)
        try:
            net = ipaddress.ip_network(value, strict=False)
        except ValueError:
            return None
        first, last = int(net.network_address), int(net.broadcast_address)
        return self._user_ranges.holding(net.version, first, last) or self._base_ranges.holding(net.version, first, last)

    def _suffix(self, domain: str) -> str | None:
        labels = domain.strip(".").split(".")
        for i in range(len(labels)):
            candidate = ".".join(labels[i:])
            reason = self._user.suffixes.get(candidate) or self._base.suffixes.get(candidate)
            if reason is not None:
                return reason
        return None

    def _host(self, host: str) -> str | None:
        if not host:
            return None
        return self._network(host) if _is_ip(host) else self._suffix(host.lower())


def _address(text: str) -> tuple[int, int] | None:
    """(version, integer) of an IP address written as one, else ``None``."""
    family, version = (socket.AF_INET6, 6) if ":" in text else (socket.AF_INET, 4)
    try:
        return version, int.from_bytes(socket.inet_pton(family, text), "big")
    except (OSError, ValueError):
        return None


def _is_ip(host: str) -> bool:
    """Whether ``host`` is an IP address; a name (the common case) is turned away before a failed parse."""
    return (":" in host or host[-1:].isdigit()) and _address(host) is not None
