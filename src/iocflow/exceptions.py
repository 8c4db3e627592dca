"""The error hierarchy shared by every iocflow layer.

    IocflowError
    ├── ExtractError      input the extractor cannot read (unreadable file, bad option)
    ├── FeedError         a feed or article source failed (carries ``source``)
    ├── StoreError        the indicator store refused an operation
    └── ExportError       an export format could not be produced

Domain errors carry no HTTP status: the API maps them to its error envelope in
one place.
"""

from __future__ import annotations


class IocflowError(Exception):
    """Root of every error iocflow raises on purpose."""


class ExtractError(IocflowError):
    """The extractor was given input it cannot read, or an invalid option."""


class FeedError(IocflowError):
    """A feed or article source failed; ``source`` names it."""

    def __init__(self, message: str, *, source: str | None = None) -> None:
        super().__init__(message)
        self.source = source

    def __str__(self) -> str:
        base = super().__str__()
        return f"{self.source}: {base}" if self.source else base


class StoreError(IocflowError):
    """The indicator store refused an operation."""


class ExportError(IocflowError):
    """An export format could not be produced."""
