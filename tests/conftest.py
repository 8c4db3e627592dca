"""Shared test helpers."""

from __future__ import annotations

from collections.abc import Iterable

import pytest


def assert_offsets(text: str, indicators: Iterable[object]) -> None:
    """Every indicator's ``raw`` is exactly the source text between ``start`` and ``end``."""
    for ind in indicators:
        assert 0 <= ind.start <= ind.end <= len(text), ind  # type: ignore[attr-defined]
        assert text[ind.start : ind.end] == ind.raw, ind  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def check_offsets():
    """The offset assertion, as a fixture (session-scoped so hypothesis tests may use it)."""
    return assert_offsets
