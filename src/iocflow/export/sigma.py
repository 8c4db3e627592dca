"""Indicators as Sigma detection rules: one multi-document YAML text, many indicators per rule.

The rules are written by the hunting module's Sigma writer (``iocflow.enrich.hunting.sigma_rules``),
the one ``/api/v1/lookup`` uses too, so an indicator exported alone gives exactly the rule its
lookup gives (with the lookup given the stored record and the same day). Where each type is looked
for is ``hunting.SIGMA_SPECS``: IPs in ``network_connection`` ``DestinationIp``, domains in
``dns_query`` ``QueryName``, hashes in ``process_creation`` ``Hashes|contains: 'SHA256=<hash>'``
(Sysmon's ``ALGO=value,...`` list), file names and paths in ``file_event`` ``TargetFilename``, user
agents in ``proxy`` ``c-useragent``, registry keys in ``registry_event`` ``TargetObject`` (the key
below its hive, since logs spell the hive ``HKLM``, ``HKEY_LOCAL_MACHINE`` or
``\\REGISTRY\\MACHINE``: the key itself by ``endswith``, its values and subkeys by ``contains``).
URLs (``proxy``) match either the whole URL in ``c-uri`` (forward proxies log it whole) or
``cs-host`` together with the path and query in ``c-uri`` (proxies that log them apart). Types with
no log source (CVE, ATT&CK, wallets, e-mail...) and a registry hive alone are left out.

Rules: indicators are grouped by (log source, level) in first-seen order and cut into chunks of
:data:`CHUNK_SIZE` (fewer when a rule would pass ``hunting.SIGMA_MAX_CHARS``); each chunk is one
rule, a ``selection`` that is a list of maps (any map matching is a hit). A rule's ``id`` is the
indicator's id when it holds one, else a UUIDv5 of the log source, level and the indicators' ids,
so the same indicators give the same rule. ``status`` is experimental, ``date`` the day of the
export, ``level`` the severity (:data:`LEVELS`, info -> informational), ``tags`` the log source's
ATT&CK tactic and the indicators' techniques (``T1059.001`` -> ``attack.t1059.001``),
``references`` the source articles.

Escaping: each value is Sigma-escaped (``\\``, ``*`` and ``?`` get a backslash, so a value never
acts as a wildcard) and written as a YAML double-quoted scalar in which every character that is
not printable (controls, line breaks, NEL, BOM, invisible and direction-changing characters) is
escaped by code point. Values that are not valid Unicode (lone surrogates) are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Final

from iocflow.enrich.hunting import SIGMA_CHUNK_SIZE, SIGMA_LEVELS, SIGMA_SPECS, SigmaIndicator, sigma_rules
from iocflow.store.views import IndicatorRecord
from iocflow.store.vocabulary import IndicatorType

__all__ = ["CHUNK_SIZE", "LEVELS", "SIGMA_TYPES", "rules"]

#: Indicators per rule, at most.
CHUNK_SIZE: Final = SIGMA_CHUNK_SIZE

#: iocflow severity -> Sigma level.
LEVELS: Final = SIGMA_LEVELS

#: The types exported as Sigma; any other is left out.
SIGMA_TYPES: Final[frozenset[IndicatorType]] = frozenset(SIGMA_SPECS)


def rules(items: Iterable[IndicatorRecord], *, now: datetime) -> str:
    """Sigma rules for the records as one multi-document YAML text ("" when none can be written)."""
    documents = sigma_rules((SigmaIndicator.of(item) for item in items), today=now.date())
    return "".join(f"---\n{document}" for document in documents)
