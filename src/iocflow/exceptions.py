"""The error hierarchy shared by every iocflow layer.

    IocflowError
    ├── ExtractError      input the extractor cannot read (unreadable file, bad option)
    ├── FeedError         a feed or article source failed (carries ``source``)
    ├── StoreError        the indicator store refused an operation
    │   ├── NotFound          what was asked for is not in the store
    │   ├── AlreadyExists     what was to be added is there already
    │   ├── Unavailable       the database cannot answer (down, locked)
    │   │   └── SchemaMissing     it answers, but `iocflow db upgrade` has not been run
    │   └── InvalidCursor     a paging cursor the store did not hand out
    ├── InvalidParameter  a request parameter outside its closed set (carries ``parameter``, ``details``)
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
    """The indicator store refused an operation; ``details`` is what a client may be told beyond the message."""

    def __init__(self, message: str, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.details = details or {}


class NotFound(StoreError):
    """What was asked for (a key, a feed, an allowlist entry) is not in the store."""


class AlreadyExists(StoreError):
    """What was to be added (a feed name, an allowlist entry) is in the store already."""


class Unavailable(StoreError):
    """The database cannot answer: it is down, unreachable or locked (the message carries the driver's reason)."""


class SchemaMissing(Unavailable):
    """The database answers but holds no iocflow schema: ``iocflow db upgrade`` has not been run."""


class InvalidCursor(StoreError, ValueError):
    """A paging cursor the store did not hand out (or one for another listing)."""


class InvalidParameter(IocflowError, ValueError):
    """A parameter whose value is outside its closed set; ``details`` says what it may be."""

    def __init__(self, parameter: str, message: str, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.details = {"parameter": parameter, **(details or {})}


class ExportError(IocflowError):
    """An export format could not be produced."""
