"""Network indicators: URLs, domains, e-mail and XMPP addresses, IPs, CIDRs, sockets, MACs, ASNs.

They share one host grammar, so they live together: a URL's or an e-mail's
host is reported again as a domain or an address (``parent`` set), the way
ioc-finder users expect.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import threading
import unicodedata
from typing import NamedTuple

from iocflow.extract import suffixes
from iocflow.extract.kinds.base import HIGH, LOW, MEDIUM, Candidate, Family, Rejected, char_at, char_before, run_start, shifted
from iocflow.extract.model import Confidence, Kind

# ---------------------------------------------------------------- domains

_DOMAIN_RUN = re.compile(r"[\w-]++(?:\.[\w-]++)*+")
_MAX_DOMAIN = 253
_CODE_LABEL = re.compile(r"[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)*")


@functools.lru_cache(maxsize=65536)
def valid_domain(token: str) -> tuple[str, int, int] | None:
    """The domain inside ``token``: (lower-case value, offset in token, length).

    The last label must be a real TLD from the Public Suffix List; trailing
    labels that are not ("example.com.tld", "report.pdf") are dropped, and so
    is everything up to a label too long for DNS (over 63 characters).
    """
    labels = token.split(".")
    offset = 0
    for i in range(len(labels) - 1, -1, -1):
        if len(labels[i]) > 63:
            offset = sum(len(label) + 1 for label in labels[: i + 1])
            labels = labels[i + 1 :]
            break
    while len(labels) >= 2:
        tld = labels[-1].lower()
        if suffixes.is_public_suffix(tld):
            break
        labels.pop()
    else:
        return None
    for label in labels:
        if not label or label.startswith("-") or label.endswith("-"):
            return None
    name = ".".join(labels)
    if len(name) > _MAX_DOMAIN:
        return None
    return name.lower(), offset, len(name)


def _domain_confidence(name: str, token: str) -> tuple[object, str]:
    labels = token.split(".")
    tld = labels[-1].lower()
    if len(labels) == 2 and tld in suffixes.FILE_EXTENSION_TLDS:
        return LOW, f"domain with a file-extension TLD such as .exe/.py/.zip (.{tld}): likely a file name"
    if all(_CODE_LABEL.fullmatch(label) for label in labels):
        return LOW, "dotted CamelCase words (a code namespace such as System.Management)"
    return HIGH, "domain with a public suffix"


def parse_domain(text: str, start: int) -> list[Candidate]:
    before = char_before(text, start)
    if before and (before.isalnum() or before in "_-."):
        return []
    m = _DOMAIN_RUN.match(text, start)
    if m is None:
        return []
    token = m.group()
    escaped = before == "%" and not char_before(text, start - 1).isspace() and start > 1
    if escaped and all(c in "0123456789abcdefABCDEF" for c in token[:2]):
        start, token = start + 2, token[2:]  # "%2Fevil.com" in a URL-encoded query: "%2F" is a slash
    if not token.isascii():
        start, token = _strip_script_prefix(start, token)
    found = valid_domain(token)
    if found is None:
        return []
    value, offset, length = found
    start += offset
    end = start + length
    if char_at(text, end) == "@":  # the local part of an e-mail address
        return []
    raw = text[start:end]
    confidence, reason = _domain_confidence(value, raw)
    domain = Candidate(Kind.DOMAIN, value, start, end, confidence, reason)  # type: ignore[arg-type]
    if before not in "\\@.:" and text.startswith("/", end) and not text.startswith("//", end):
        url = _schemeless_url(text, start, end)
        if url is not None:
            return [url, domain._replace(parent=Kind.URL, confidence=HIGH, reason="host of a URL")]
    return [domain]


def _strip_script_prefix(start: int, token: str) -> tuple[int, str]:
    """Drop text in another script glued to a domain ("見てevil.com中" -> "evil.com").

    IDN labels stay whole: a label is cut only where it switches from a
    non-Latin script to Latin letters ("bücher.de" and "straße.de" are whole
    German domains, "Россияevil.com" is Russian prose and a domain).
    """
    first, _, rest = token.partition(".")
    i = len(first)
    while i > 0 and _latin(first[i - 1]):
        i -= 1
    if 0 < i < len(first):
        start, token = start + i, token[i:]
    head, _, last = token.rpartition(".")
    j = 0
    while j < len(last) and _latin(last[j]):
        j += 1
    if head and 0 < j < len(last):
        token = f"{head}.{last[:j]}"
    return start, token


def _latin(char: str) -> bool:
    """ASCII, or a letter of the Latin script (é, ß, ı): what a Latin-script IDN label is written in."""
    return char.isascii() or unicodedata.name(char, "").startswith("LATIN ")


# ---------------------------------------------------------------- URLs

_SCHEME_URL = re.compile(r"[A-Za-z][A-Za-z0-9+-]{0,15}+://[^\s<>\"'`{}|\\^\x00-\x1f\x7f]*+")
_URL_REST = re.compile(r"[^\s<>\"'`{}|\\^\x00-\x1f\x7f]*+")
# Where a URL runs on into Markdown ("](") or escaped markup, and the commas to look at.
_URL_CUT = re.compile(r"\]\(|&(?:quot|gt|lt|#34|#39);|[\u201d\u2019,]")
_TRAILING_JUNK = ".,;:!?*'~_"
_TRIM_LAST = frozenset(_TRAILING_JUNK + ")]}")
_PAIRS = {")": "(", "]": "[", "}": "{"}
KNOWN_SCHEMES = frozenset(
    {"http", "https", "ftp", "ftps", "sftp", "tftp", "ws", "wss", "smb", "file", "ssh", "telnet",
     "rdp", "ldap", "ldaps", "irc", "ircs", "tcp", "udp", "git", "svn", "socks", "socks4", "socks5",
     "imap", "pop3", "smtp", "mms", "rtsp", "data", "s3", "gopher", "vnc"}
)


_URL = Kind.URL  # looking up an Enum member costs more than a global
_KNOWN_SCHEME_REASON = {s: f"{s} URL with a valid host" for s in KNOWN_SCHEMES}


def trim_url(url: str) -> str:
    """Cut a URL where it runs on into markup, Markdown or sentence punctuation."""
    cut = _URL_CUT.search(url)
    while cut is not None:
        if cut.group() != ",":
            url = url[: cut.start()]
            break
        query = url.find("?")
        if query == -1 or cut.start() < query:  # a comma in a path ends the URL; in a query it is data
            url = url[: cut.start()]
            break
        cut = _URL_CUT.search(url, cut.end())
    if url[-1:] not in _TRIM_LAST:
        return url
    while url:
        last = url[-1]
        if last in _TRAILING_JUNK:
            url = url[:-1]
        elif last in _PAIRS and url.count(last) > url.count(_PAIRS[last]):
            url = url[:-1]
        else:
            break
    return url


def authority_end(url: str) -> int:
    """Where the authority (user info, host, port) of ``url`` ends: its first "/", "?" or "#".

    This reads the whole URL (a "?" or "#" it lacks is looked for to its end): ask once per URL,
    not once per indicator inside it.
    """
    sep = url.find("://")
    offset = sep + 3 if sep != -1 else 0
    end = len(url)
    for ch in "/?#":
        i = url.find(ch, offset)
        if i != -1 and i < end:
            end = i
    return end


def _host_span(url: str, offset: int) -> tuple[int, int]:
    """Start/end (relative to the URL) of the host in ``url``'s authority at ``offset``."""
    end = authority_end(url)
    at = url.rfind("@", offset, end)
    host_start = at + 1 if at != -1 else offset
    if url.startswith("[", host_start):
        close = url.find("]", host_start, end)
        return (host_start + 1, close) if close != -1 else (host_start, host_start)
    colon = url.find(":", host_start, end)
    return host_start, colon if colon != -1 else end


def _host_candidates(url_text: str, base: int, host_start: int, host_end: int) -> tuple[list[Candidate], bool]:
    """The indicators a URL's host implies, and whether the host is valid."""
    host = url_text[host_start:host_end]
    s, e = base + host_start, base + host_end
    if not host:
        return [], False
    ip = _ip_value(host)
    if ip is not None:
        kind, value = ip
        out = [Candidate(kind, value, s, e, HIGH, "host of a URL", parent=Kind.URL)]
        port = _port_after(url_text, host_end + (1 if kind is Kind.IPV6 else 0))
        if port is not None:
            shown = f"[{value}]:{port}" if kind is Kind.IPV6 else f"{value}:{port}"
            pe = e + (1 if kind is Kind.IPV6 else 0) + 1 + len(port)
            ps = s - (1 if kind is Kind.IPV6 else 0)
            out.append(Candidate(Kind.SOCKET_ADDRESS, shown, ps, pe, HIGH, "address and port of a URL", parent=Kind.URL))
        return out, True
    found = valid_domain(host)
    if found is None or found[2] != len(host):
        return [], False
    return [Candidate(Kind.DOMAIN, found[0], s, e, HIGH, "host of a URL", parent=Kind.URL)], True


def _port_after(url_text: str, pos: int) -> str | None:
    if not url_text.startswith(":", pos):
        return None
    j = pos + 1
    while j < len(url_text) and url_text[j].isdigit():
        j += 1
    port = url_text[pos + 1 : j]
    return port if port and 0 < int(port) < 65536 and len(port) <= 5 else None


def _normalise_url(url: str, scheme_len: int, host_start: int, host_end: int) -> str:
    head = url[:scheme_len].lower() + url[scheme_len:host_start]
    return head + url[host_start:host_end].lower() + url[host_end:]


class _UrlReading(NamedTuple):
    """What a URL's own text says about it; offsets are relative to the URL's start."""

    length: int
    value: str
    confidence: Confidence
    reason: str
    derived: tuple[Candidate, ...]


def _read_url(raw: str) -> _UrlReading | None:
    """Trim, split and validate one scheme URL (``raw`` is the whole match)."""
    url = trim_url(raw)
    sep = url.find("://")
    if len(url) <= sep + 3:
        return None
    scheme = url[:sep].lower()
    host_start, host_end = _host_span(url, sep + 3)
    derived, host_ok = _host_candidates(url, 0, host_start, host_end)
    if scheme == "file":
        host_ok = True
    if not host_ok:
        confidence, reason = LOW, "URL whose host is neither a public domain nor an IP address"
    elif scheme in KNOWN_SCHEMES:
        confidence, reason = HIGH, _KNOWN_SCHEME_REASON[scheme]
    else:
        confidence, reason = MEDIUM, f"URL with an uncommon scheme ({scheme})"
    value = _normalise_url(url, sep, host_start, host_end)
    return _UrlReading(len(url), value, confidence, reason, tuple(derived))  # type: ignore[arg-type]


# Reports cite the same URLs over and over (a reference list repeats its sources
# in every section), and a URL's reading depends on its text alone, so short
# URLs are read once per process. Long ones are not kept: they are rare, and
# the cache should not hold megabytes of adversarial input.
_read_short_url = functools.lru_cache(maxsize=16384)(_read_url)
_CACHED_URL_LENGTH = 512


def parse_url(text: str, start: int) -> list[Candidate]:
    m = _SCHEME_URL.match(text, start)
    if m is None:
        return []
    raw = m.group()
    reading = (_read_short_url if len(raw) <= _CACHED_URL_LENGTH else _read_url)(raw)
    if reading is None:
        return []
    found = [Candidate(_URL, reading.value, start, start + reading.length, reading.confidence, reading.reason)]
    for c in reading.derived:
        found.append(shifted(c, start))
    return found


# A bare domain with a path longer than this is reported as a domain alone (a path that
# long is rather a run of text with no spaces); URLs with a scheme have no such limit.
_MAX_SCHEMELESS_PATH = 1024


class _PathRun(threading.local):
    """The run of URL characters last read after a bare domain, in this thread.

    Every domain along a path ("a.com/b.com/c.com/…", or the path of a URL with a
    scheme) is followed by the rest of the same run: reading it once per domain
    would cost the run's length, or the path limit, for each of them. The run is
    read whole once and its end remembered, so a run costs its length once.
    Holding the text keeps the answer tied to the text it was read from.
    """

    text: str | None = None
    start = 0
    end = 0


_path_run = _PathRun()


def _path_end(text: str, host_end: int) -> int:
    """End of the run of URL characters from ``host_end`` (where a URL's text would stop)."""
    run = _path_run
    if run.text is not text or not run.start <= host_end <= run.end:
        m = _URL_REST.match(text, host_end)
        assert m is not None  # the pattern matches the empty string
        run.text, run.start, run.end = text, host_end, m.end()
    return run.end


def _schemeless_url(text: str, start: int, host_end: int) -> Candidate | None:
    end = _path_end(text, host_end)
    if end - host_end > _MAX_SCHEMELESS_PATH:
        return None
    url = trim_url(text[start:end])
    if len(url) <= host_end - start:
        return None
    value = url[: host_end - start].lower() + url[host_end - start :]
    return Candidate(Kind.URL, value, start, start + len(url), HIGH, "domain followed by a path (URL without scheme)")


# ---------------------------------------------------------------- e-mail and XMPP

_EMAIL = re.compile(
    r"([A-Za-z0-9._%+'-]++)@(?:\[(\d{1,3}(?:\.\d{1,3}){3}|IPv6:[0-9A-Fa-f:.]{2,45})\]|([\w-]++(?:\.[\w-]++)*+))"
)
_XMPP_MARKERS = ("jabber", "xmpp")
_PLACEHOLDER_TLD = re.compile(r"\.[A-Za-z]{2,8}$")


_LOCAL_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+'-"


def parse_email(text: str, trigger_end: int) -> list[Candidate]:
    at = text.rfind("@", max(0, trigger_end - 320), trigger_end)
    if at == -1:
        return []
    start = run_start(text, at, _LOCAL_CHARS, 65)
    if start == at:
        return []
    m = _EMAIL.match(text, start)
    if m is None:
        return []
    local = m.group(1)
    lead = len(local) - len(local.lstrip(".'-"))
    local = local.strip(".'-").lower()
    if not local or len(local) > 64 or ".." in local:
        return []
    s = start + lead
    at = m.start(1) + len(m.group(1))
    if m.group(2) is not None:  # user@[192.0.2.1], user@[IPv6:2001:db8::1]
        literal = m.group(2)
        v6 = literal[:5].lower() == "ipv6:"
        ip = _ip_value(literal[5:] if v6 else literal)
        if ip is None or (ip[0] is Kind.IPV6) != v6:
            return []
        shown = f"IPv6:{literal[5:]}" if v6 else ip[1]
        ip_start = m.start(2) + (5 if v6 else 0)
        return [
            Candidate(Kind.EMAIL, f"{local}@[{shown}]", s, m.end(), HIGH, "e-mail address with an IP literal"),
            Candidate(ip[0], ip[1], ip_start, m.end(2), HIGH, "address of an e-mail", parent=Kind.EMAIL),
        ]
    host = m.group(3)
    if not host.isascii():
        host = _strip_script_prefix(0, host)[1]
    found = valid_domain(host)
    if found is None or found[1] != 0:
        return []
    domain, _, length = found
    end = at + 1 + length
    address_domain, confidence = domain, HIGH
    extra = _PLACEHOLDER_TLD.match(host, length)
    if extra is not None:
        # "user@example[.]com[.]tld": a twice-defanged address keeps its last label
        address_domain, confidence = domain + extra.group().lower(), MEDIUM
        end += len(extra.group())
    is_xmpp = any(marker in domain for marker in _XMPP_MARKERS)
    kind = Kind.XMPP if is_xmpp else Kind.EMAIL
    reason = "address at an XMPP server" if is_xmpp else "e-mail address with a public-suffix domain"
    return [
        Candidate(kind, f"{local}@{address_domain}", s, end, confidence, reason),
        Candidate(Kind.DOMAIN, domain, at + 1, at + 1 + length, HIGH, f"domain of an {kind.value} address", parent=kind),
    ]


# ---------------------------------------------------------------- IPv4, CIDR, sockets

_IPV4 = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:/(\d{1,2})(?!\d)|:(\d{1,5})(?!\d))?")
_VERSION_BEFORE = re.compile(r"\b(?:version|ver\.?|build|release|v)\s*[:=]?\s*$", re.IGNORECASE)


def _ipv4_value(octets: tuple[str, ...]) -> tuple[str, bool] | None:
    """Normalised dotted quad and whether it was written with leading zeros."""
    padded = False
    for o in octets:
        if int(o) > 255:
            return None
        if len(o) > 1 and o[0] == "0":
            padded = True
    return ".".join(str(int(o)) for o in octets), padded


def _ip_value(host: str) -> tuple[Kind, str] | None:
    if ":" in host:
        try:
            return Kind.IPV6, str(ipaddress.IPv6Address(host.split("%", 1)[0]))
        except ValueError:
            return None
    parts = host.split(".")
    if len(parts) != 4 or not all(p.isdigit() and len(p) <= 3 for p in parts):
        return None
    v = _ipv4_value(tuple(parts))
    return (Kind.IPV4, v[0]) if v else None


_DOTTED_RUN = re.compile(r"[\d.]*+")


def parse_ipv4(text: str, start: int) -> list[Candidate]:
    before = char_before(text, start)
    if before.isdigit() or (before == "." and char_before(text, start - 1) != "."):
        # inside a longer dotted number such as 1.1.1.1.1 or .18.12.15.14 (an ellipsis is fine)
        return Rejected(_DOTTED_RUN.match(text, start).end())  # type: ignore[union-attr, return-value]
    m = _IPV4.match(text, start)
    if m is None:
        return []
    ip_end = m.end(4)
    after = char_at(text, ip_end)
    if after.isdigit() or (after == "." and char_at(text, ip_end + 1).isalnum()):
        return Rejected(_DOTTED_RUN.match(text, start).end())  # type: ignore[union-attr, return-value]
    v = _ipv4_value(m.groups()[:4])
    if v is None:
        return []
    value, padded = v
    if _VERSION_BEFORE.search(text, max(0, start - 10), start):
        confidence, reason = LOW, "dotted quad after a version marker: likely a version number"
    elif before.isalpha() or after.isalpha() or before == "_" or after == "_":
        confidence, reason = MEDIUM, "IPv4 address glued to a word"
    elif padded:
        confidence, reason = MEDIUM, "IPv4 address written with leading zeros"
    else:
        confidence, reason = HIGH, "IPv4 address with octets in range"
    ip = Candidate(Kind.IPV4, value, start, ip_end, confidence, reason)
    prefix, port = m.group(5), m.group(6)
    if prefix is not None and int(prefix) <= 32:
        end = m.end(5)
        return [
            Candidate(Kind.IPV4_CIDR, f"{value}/{int(prefix)}", start, end, confidence, "IPv4 network with a valid prefix length"),
            ip._replace(parent=Kind.IPV4_CIDR),
        ]
    if port is not None and 0 < int(port) < 65536:
        end = m.end(6)
        return [
            Candidate(Kind.SOCKET_ADDRESS, f"{value}:{int(port)}", start, end, confidence, "IPv4 address and port"),
            ip._replace(parent=Kind.SOCKET_ADDRESS),
        ]
    return [ip]


# ---------------------------------------------------------------- IPv6

_IPV6 = re.compile(r"[0-9A-Fa-f:]++(?:\.\d{1,3}){0,3}+(?:%[\w.]{1,16}+)?(?:/(\d{1,3})(?!\d))?")


_IPV6_CHARS = "0123456789abcdefABCDEF:"


_IPV6_RUN = re.compile(r"[0-9A-Fa-f:.]*+")


def parse_ipv6(text: str, trigger_end: int) -> list[Candidate]:
    last = trigger_end
    while last > 0 and text[last - 1] not in _IPV6_CHARS:  # triggers may end on "/" or "]"
        last -= 1
    start = run_start(text, last, _IPV6_CHARS, 40)
    before = char_before(text, start)
    if before in _IPV6_CHARS:  # a hex-and-colon run longer than any address
        return Rejected(_IPV6_RUN.match(text, trigger_end).end())  # type: ignore[union-attr, return-value]
    if before.isalnum() or before in "_:@" or (before == "." and char_before(text, start - 1) != "."):
        return []
    m = _IPV6.match(text, start)
    if m is None:
        return []
    token = m.group()
    prefix = m.group(1)
    if prefix is not None:
        token = token[: -len(prefix) - 1]
    zone = token.find("%")
    address = token[:zone] if zone != -1 else token
    if address.endswith(":") and not address.endswith("::"):
        address = address[:-1]
        token, prefix = address, None
    end = start + len(token) + (len(prefix) + 1 if prefix is not None else 0)
    after = char_at(text, end)
    if after and (after.isalnum() or after == "_"):
        return []
    if address.count(":") < 2 or (address == "::" and prefix is None and before != "["):
        return []
    try:
        ip = ipaddress.IPv6Address(address)
    except ValueError:
        return []
    value = str(ip)
    addr_end = start + len(address)
    cand = Candidate(Kind.IPV6, value, start, addr_end, HIGH, "valid IPv6 address")
    if prefix is not None and int(prefix) <= 128:
        return [
            Candidate(Kind.IPV6_CIDR, f"{value}/{int(prefix)}", start, end, HIGH, "IPv6 network with a valid prefix length"),
            cand._replace(parent=Kind.IPV6_CIDR),
        ]
    if before == "[" and text.startswith("]:", addr_end):
        port = _port_after(text, addr_end + 1)
        if port is not None:
            pe = addr_end + 2 + len(port)
            return [
                Candidate(Kind.SOCKET_ADDRESS, f"[{value}]:{port}", start - 1, pe, HIGH, "IPv6 address and port"),
                cand._replace(parent=Kind.SOCKET_ADDRESS),
            ]
    return [cand]


# ---------------------------------------------------------------- MAC, ASN

_MAC = re.compile(
    r"[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}"
)
_HEXISH = frozenset("0123456789abcdefABCDEF:-.")


def parse_mac(text: str, start: int) -> list[Candidate]:
    if char_before(text, start) in _HEXISH - {""} and start > 0:
        return []
    m = _MAC.match(text, start)
    if m is None:
        return []
    after = char_at(text, m.end())
    if after and (after.isalnum() or (after in ":-." and char_at(text, m.end() + 1).isalnum())):
        return []
    digits = m.group().replace(":", "").replace("-", "").replace(".", "")
    if digits.isdigit():
        confidence, reason = MEDIUM, "MAC-shaped run of decimal digits"
    else:
        confidence, reason = HIGH, "MAC address"
    # One spelling per address (lower-case hex, colons), as domains are lower-cased: "00-1A-2B-..." and
    # "001a.2b3c...." are the same interface and must meet in one indicator.
    value = ":".join(digits[i : i + 2] for i in range(0, 12, 2)).lower()
    return [Candidate(Kind.MAC, value, start, m.end(), confidence, reason)]


# "AS 15169" needs capitals: "as 5" is prose. Without the space any case will do.
_ASN = re.compile(r"(?:(?:ASN|AS|asn|Asn)[ ]|(?i:asn?))(\d{1,10})(?![\w.])")


def parse_asn(text: str, start: int) -> list[Candidate]:
    before = char_before(text, start)
    if before and (before.isalnum() or before == "_"):
        return []
    m = _ASN.match(text, start)
    if m is None:
        return []
    number = int(m.group(1))
    if not 0 < number <= 4294967295:
        return []
    return [Candidate(Kind.ASN, f"ASN{number}", start, m.end(), HIGH, "autonomous system number")]


_HOSTCH = r"[\w\x80-\xff-]"
_SCHEME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-"
_DOTTED_LABELS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."
_IPV4_CHARS = "0123456789."


# What the domain trigger needs to fire: host characters (in the scanner's byte view: ASCII
# word characters, "-", anything non-ASCII but a no-break space), then a dot.
_DOTTED_AHEAD = re.compile(r"[A-Za-z0-9_\-\x80-\x9f\xa1-\U0010ffff]++\.")


def _locate_url(text: str, end: int) -> int | None:
    sep = end - 3  # the trigger ends with "://"
    start = run_start(text, sep, _SCHEME_CHARS, 16)
    while start < sep and not text[start].isalpha():
        start += 1
    return start if start < sep else None


def _locate_domain(text: str, end: int) -> int:
    """Start of the dotted run that ends two letters into ``end``'s label, IDN letters included."""
    i = run_start(text, end - 2, _DOTTED_LABELS, 253)
    while i > 0 and end - i < 253 and not text[i - 1].isascii() and text[i - 1].isalnum():
        i = run_start(text, i - 1, _DOTTED_LABELS, 253)
    while text.startswith(".", i):
        i += 1
    return i


def _locate_ipv4(text: str, end: int) -> int:
    start = run_start(text, end, _IPV4_CHARS, 20)
    while text.startswith(".", start):
        start += 1
    return start


def _locate_mac(text: str, end: int) -> int:
    return end - 17 if text[end - 3] in ":-" else end - 14


def _locate_asn(text: str, end: int) -> int | None:
    i = end - 1  # the first digit
    if text[i - 1 : i] == " ":
        i -= 1
    start = run_start(text, i, "ASNasn", 3)
    return start if text[start:i].lower() in ("as", "asn") else None



FAMILIES = (
    Family("url", (r"[A-Za-z][A-Za-z0-9+\-]{0,15}://",), parse_url, frozenset({Kind.URL, Kind.DOMAIN, Kind.IPV4, Kind.IPV6, Kind.SOCKET_ADDRESS}),
           locate=_locate_url, handoff="domain", handoff_if=_DOTTED_AHEAD.match),
    # A dotted run from its first label to a later label that opens with two letters (a TLD
    # shape): fires for "mail.163.com" and "a.b.example.com", not for "1.2" or "a@a.a@a.a".
    # Not after "://": the URL family reads that host and reports it, and skipping it here
    # halves the number of trigger hits on URL-dense text. "//host" elsewhere still fires.
    Family(
        "domain",
        (r"(?:[^\w\x80-\xff.\-/]|[^/]/|[^:]//)" + _HOSTCH + r"+(?:\." + _HOSTCH + r"+)*\.[A-Za-z_\x80-\xff]{2}",),
        parse_domain,
        frozenset({Kind.DOMAIN, Kind.URL}),
        locate=_locate_domain,
    ),
    # "@" then a dotted host with a two-letter label, or an IP literal.
    Family("email", (r"@" + _HOSTCH + r"+(?:\." + _HOSTCH + r"+)*\.[\w\x80-\xff]{2}", r"@\["), parse_email,
           frozenset({Kind.EMAIL, Kind.XMPP, Kind.DOMAIN, Kind.IPV4})),
    # Anchored at the start of a dotted-number run (or after an ellipsis): "1.1.1.1.…" fires once.
    Family("ipv4", (r"[^\d.]\d{1,3}\.\d{1,3}\.\d{1,3}\.\d", r"\.\.\d{1,3}\.\d{1,3}\.\d{1,3}\.\d"), parse_ipv4,
           frozenset({Kind.IPV4, Kind.IPV4_CIDR, Kind.SOCKET_ADDRESS}), locate=_locate_ipv4),
    # Anchored at the start of a hex-and-colon run: "1:1:1:…" fires once.
    Family("ipv6", (r"[^0-9A-Fa-f:][0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{0,4}:", r"[^0-9A-Fa-f:]::[0-9A-Fa-f/\]]"), parse_ipv6,
           frozenset({Kind.IPV6, Kind.IPV6_CIDR})),
    Family(
        "mac",
        (r"[0-9A-Fa-f]{2}[:\-][0-9A-Fa-f]{2}[:\-][0-9A-Fa-f]{2}[:\-][0-9A-Fa-f]{2}[:\-][0-9A-Fa-f]{2}[:\-][0-9A-Fa-f]{2}",
         r"[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}"),
        parse_mac,
        frozenset({Kind.MAC}),
        locate=_locate_mac,
    ),
    Family("asn", (r"(?:AS|ASN|asn|Asn) \d", r"(?i)asn?\d"), parse_asn, frozenset({Kind.ASN}), locate=_locate_asn),
)
