"""The allowlist on its own: which values each layer covers, and how each type matches."""

from __future__ import annotations

import pytest

from iocflow.store.allowlist import Allowlist
from iocflow.store.vocabulary import IndicatorType as T

ALLOW = Allowlist([("corp.iocflow-test.net", "ours"), ("45.77.0.0/16", None), ("deadbeef" * 4, "our build")])


@pytest.mark.parametrize(
    ("kind", "value", "reason"),
    [
        (T.IPV4, "10.20.30.40", "RFC 1918"),
        (T.IPV4, "192.0.2.1", "RFC 5735"),  # RFC 5737 documentation block
        (T.IPV4, "100.64.1.1", "RFC 6598"),
        (T.IPV4, "224.0.0.251", "multicast"),
        (T.IPV4, "1.1.1.1", "Cloudflare DNS"),
        (T.IPV6, "2001:db8::1", "RFC 3849"),
        (T.IPV6, "fe80::1", "link local"),
        (T.IPV6, "::1", "IPv6 loopback"),
        (T.IPV6, "fd12::1", "unique local"),
        (T.IPV4_CIDR, "10.1.0.0/16", "RFC 1918"),
        (T.SOCKET_ADDRESS, "127.0.0.1:4444", "RFC 5735"),
        (T.DOMAIN, "google.com", "Tranco"),
        (T.DOMAIN, "host.test", "RFC 2606"),
        (T.DOMAIN, "a.b.localhost", "RFC 6761"),
        (T.URL, "http://192.168.0.5:8080/admin", "RFC 1918"),
        (T.URL, "https://www.example.com/x", "example"),
        (T.URL, "http://user:pw@[fe80::1]:8080/x", "link local"),
        (T.URL, "host.test/gate.php", "RFC 2606"),  # a URL without a scheme starts with its host
        (T.EMAIL, "someone@mail.example.org", "example"),
        (T.EMAIL, "root@[10.1.2.3]", "RFC 1918"),  # an IP literal is the address's host
        (T.EMAIL, "root@[IPv6:fe80::1]", "link local"),
        (T.XMPP, "bot@jabber.host.test", "RFC 2606"),
        (T.MD5, "D41D8CD98F00B204E9800998ECF8427E", "false positives"),
        (T.SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "MISP warninglist"),
        (T.IPV4, "45.77.200.1", "operator allowlist: 45.77.0.0/16"),
        (T.DOMAIN, "vpn.corp.iocflow-test.net", "operator allowlist: ours"),
        (T.MD5, "DEADBEEF" * 4, "operator allowlist: our build"),
    ],
)
def test_covered(kind: T, value: str, reason: str) -> None:
    assert reason.lower() in (ALLOW.match(kind, value) or "").lower()


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (T.IPV4, "45.78.0.1"),
        (T.IPV4_CIDR, "8.0.0.0/8"),  # wider than any listed range
        (T.DOMAIN, "evil.google.com"),  # popular sites match exactly, not their subdomains
        (T.DOMAIN, "google.com.evil-cdn.top"),
        (T.URL, "https://google.com/malware.exe"),  # hosted on a popular site: still served
        (T.EMAIL, "attacker@gmail.com"),
        (T.EMAIL, "root@[203.0.113.300]"),  # not an address: no host to match
        (T.URL, "http://10.0.0.1.evil-cdn.top/x"),  # a name, not the private address it starts with
        (T.SHA1, "a" * 40),
        (T.CVE, "CVE-2024-3094"),
    ],
)
def test_not_covered(kind: T, value: str) -> None:
    assert ALLOW.match(kind, value) is None
