"""The ioc-finder output shape, built once at the edge from an Extraction.

Key names and nesting are ioc-finder's (9.x) so existing SOAR playbooks keep
working; types ioc-finder lacks go in additional keys after them. This is the
only place that knows these key names.
"""

from __future__ import annotations

from collections.abc import Iterable

from iocflow.extract.kinds.base import Candidate
from iocflow.extract.model import Kind, Matrix

# Flat keys, in ioc-finder's order; a kind may feed more than one key.
_FLAT: tuple[tuple[str, Kind], ...] = (
    ("urls", Kind.URL),
    ("xmpp_addresses", Kind.XMPP),
    ("email_addresses_complete", Kind.EMAIL),  # filled from the complete forms, see _complete_email
    ("email_addresses", Kind.EMAIL),
    ("ipv4_cidrs", Kind.IPV4_CIDR),
    ("imphashes", Kind.IMPHASH),
    ("authentihashes", Kind.AUTHENTIHASH),
    ("domains", Kind.DOMAIN),
    ("ipv4s", Kind.IPV4),
    ("ipv6s", Kind.IPV6),
    ("sha512s", Kind.SHA512),
    ("sha256s", Kind.SHA256),
    ("sha1s", Kind.SHA1),
    ("md5s", Kind.MD5),
    ("ssdeeps", Kind.SSDEEP),
    ("asns", Kind.ASN),
    ("cves", Kind.CVE),
    ("registry_key_paths", Kind.REGISTRY_KEY),
    ("google_adsense_publisher_ids", Kind.GOOGLE_ADSENSE),
    ("google_analytics_tracker_ids", Kind.GOOGLE_ANALYTICS),
    ("bitcoin_addresses", Kind.BITCOIN),
    ("monero_addresses", Kind.MONERO),
    ("mac_addresses", Kind.MAC),
    ("user_agents", Kind.USER_AGENT),
    ("tlp_labels", Kind.TLP),
)
_ATTACK: tuple[tuple[str, Kind, tuple[Matrix, ...]], ...] = (
    ("attack_mitigations", Kind.ATTACK_MITIGATION, (Matrix.ENTERPRISE, Matrix.MOBILE)),
    ("attack_tactics", Kind.ATTACK_TACTIC, (Matrix.PRE_ATTACK, Matrix.ENTERPRISE, Matrix.MOBILE)),
    ("attack_techniques", Kind.ATTACK_TECHNIQUE, (Matrix.PRE_ATTACK, Matrix.ENTERPRISE, Matrix.MOBILE)),
)
_TAIL: tuple[tuple[str, Kind], ...] = (("file_paths", Kind.FILE_PATH),)
# Additional keys for kinds ioc-finder does not have.
_EXTRA: tuple[tuple[str, Kind], ...] = (
    ("ipv6_cidrs", Kind.IPV6_CIDR),
    ("socket_addresses", Kind.SOCKET_ADDRESS),
    ("ethereum_addresses", Kind.ETHEREUM),
    ("ja3_fingerprints", Kind.JA3),
    ("jarm_fingerprints", Kind.JARM),
)
_ICS_KEY = "attack_ics"
_ICS: tuple[tuple[str, Kind], ...] = (
    ("techniques", Kind.ATTACK_TECHNIQUE),
    ("tactics", Kind.ATTACK_TACTIC),
    ("mitigations", Kind.ATTACK_MITIGATION),
)

_COMPLETE_KEY = "email_addresses_complete"


# ioc-finder reports these as written (refanged), not in a canonical form:
# "2001:0DB8::1" stays so, and so does a checksummed Ethereum address.
AS_WRITTEN = frozenset({Kind.IPV6, Kind.IPV6_CIDR, Kind.SOCKET_ADDRESS, Kind.ETHEREUM, Kind.MAC})


# ioc-finder's email_addresses_complete keeps the whole RFC 5322 local part as
# written ('john.smith(comment)@example.com', '"John..Doe"@example.com'); the
# plain key holds the usual dot-atom address.
_COMPLETE_STOP = " \t\r\n<>[],;:"
_COMPLETE_LOOKBACK = 64


def _complete_email(clean: str, hit: Candidate) -> str:
    lo = max(0, hit.start - _COMPLETE_LOOKBACK)
    i = hit.start
    while i > lo and clean[i - 1] not in _COMPLETE_STOP:
        i -= 1
    if i == hit.start:
        return hit.value
    return clean[i : hit.start] + hit.value


def to_ioc_finder(hits: Iterable[Candidate], clean: str | None = None) -> dict[str, object]:
    """Group ``hits`` (already filtered by confidence) under ioc-finder's keys.

    ``clean`` is the refanged text the hits' offsets point into; with it, the
    AS_WRITTEN kinds and complete e-mail addresses are shown as written.
    """
    flat: dict[Kind, dict[str, None]] = {kind: {} for kind in Kind}
    attack: dict[tuple[Kind, Matrix], dict[str, None]] = {}
    complete: dict[str, None] = {}
    as_written = AS_WRITTEN if clean is not None else frozenset()
    email = Kind.EMAIL
    for ind in hits:
        kind = ind.kind
        if ind.matrices:
            for matrix in ind.matrices:
                attack.setdefault((kind, matrix), {})[ind.value] = None
        elif kind in as_written:
            flat[kind][clean[ind.start : ind.end]] = None  # type: ignore[index]
        else:
            flat[kind][ind.value] = None
            if kind is email:
                complete[_complete_email(clean, ind) if clean is not None else ind.value] = None

    def values(kind: Kind) -> list[str]:
        return list(flat.get(kind, ()))

    out: dict[str, object] = {key: values(kind) for key, kind in _FLAT}
    out[_COMPLETE_KEY] = list(complete)
    for key, kind, matrices in _ATTACK:
        out[key] = {m.value: list(attack.get((kind, m), ())) for m in matrices}
    for key, kind in (*_TAIL, *_EXTRA):
        out[key] = values(kind)
    out[_ICS_KEY] = {key: list(attack.get((kind, Matrix.ICS), ())) for key, kind in _ICS}
    return out


def merge_ioc_finder(results: Iterable[dict[str, object]]) -> dict[str, object]:
    """One ioc-finder dict for many documents: each list the union, in first-seen order."""
    merged: dict[str, object] = to_ioc_finder(())
    for result in results:
        for key, value in result.items():
            target = merged.setdefault(key, {} if isinstance(value, dict) else [])
            if isinstance(value, dict):
                for sub, items in value.items():
                    target[sub] = list(dict.fromkeys([*target.get(sub, []), *items]))  # type: ignore[union-attr]
            else:
                merged[key] = list(dict.fromkeys([*target, *value]))  # type: ignore[misc]
    return merged
