"""Indicator families, one module per family; ``FAMILIES`` is the registry the engine scans with."""

from iocflow.extract.kinds import crypto, hashes, host, labels, network
from iocflow.extract.kinds.base import Family

FAMILIES: tuple[Family, ...] = (
    *network.FAMILIES,
    *hashes.FAMILIES,
    *labels.FAMILIES,
    *host.FAMILIES,
    *crypto.FAMILIES,
)

__all__ = ["FAMILIES", "Family"]
