"""The ioc-finder output shape, built once at the edge from an Extraction.

Key names and nesting are ioc-finder's (9.x) so existing SOAR playbooks keep
working; types ioc-finder lacks go in additional keys after them. This is the
only place that knows these key names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from iocflow.extract.kinds.base import Candidate
from iocflow.extract.model import Kind, Matrix

# Flat keys, in ioc-finder's order; a kind may feed more than one key.
_FLAT: tuple[tuple[str, Kind], ...] = (
    ("urls", Kind.URL),
    ("xmpp_addresses", Kind.XMPP),
    ("email_addresses_complete", Kind.EMAIL),
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

IOC_FINDER_KEYS: tuple[str, ...] = (
    *(k for k, _ in _FLAT), *(k for k, _, _ in _ATTACK), *(k for k, _ in _TAIL)
)
EXTRA_KEYS: tuple[str, ...] = (*(k for k, _ in _EXTRA), _ICS_KEY)


# ioc-finder reports these as written (refanged), not in a canonical form:
# "2001:0DB8::1" stays so, and so does a checksummed Ethereum address.
AS_WRITTEN = frozenset({Kind.IPV6, Kind.IPV6_CIDR, Kind.SOCKET_ADDRESS, Kind.ETHEREUM})


def to_ioc_finder(hits: Iterable[Candidate], written: Callable[[Candidate], str] | None = None) -> dict[str, object]:
    """Group ``hits`` (already filtered by confidence) under ioc-finder's keys.

    ``written`` gives a hit's refanged source text, used for the AS_WRITTEN kinds.
    """
    flat: dict[Kind, dict[str, None]] = {}
    attack: dict[tuple[Kind, Matrix], dict[str, None]] = {}
    for ind in hits:
        if ind.matrices:
            for matrix in ind.matrices:
                attack.setdefault((ind.kind, matrix), {})[ind.value] = None
        else:
            value = written(ind) if written is not None and ind.kind in AS_WRITTEN else ind.value
            flat.setdefault(ind.kind, {})[value] = None

    def values(kind: Kind) -> list[str]:
        return list(flat.get(kind, ()))

    out: dict[str, object] = {key: values(kind) for key, kind in _FLAT}
    for key, kind, matrices in _ATTACK:
        out[key] = {m.value: list(attack.get((kind, m), ())) for m in matrices}
    for key, kind in (*_TAIL, *_EXTRA):
        out[key] = values(kind)
    out[_ICS_KEY] = {key: list(attack.get((kind, Matrix.ICS), ())) for key, kind in _ICS}
    return out


def ioc_finder_values(result: dict[str, object]) -> list[str]:
    """Every value in an ioc-finder-shaped dict, flattened (for counting and tests)."""
    found: list[str] = []
    for value in result.values():
        if isinstance(value, dict):
            for inner in value.values():
                found.extend(inner)
        else:
            found.extend(value)  # type: ignore[arg-type]
    return found
