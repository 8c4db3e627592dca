"""Extraction over files and folders, optionally in worker processes.

Folders are walked recursively in sorted order so runs are repeatable; each
document yields either its indicators or the error that stopped it, so one
unreadable file never ends a batch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from iocflow.exceptions import ExtractError
from iocflow.extract.engine import extract, parse_types
from iocflow.extract.model import Confidence, Indicator, Kind
from iocflow.extract.readers import read_path

_SKIP_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", "node_modules"})


@dataclass(frozen=True, slots=True)
class DocumentResult:
    """What one document gave: its distinct indicators (first occurrence each), or an error."""

    source: str
    indicators: tuple[Indicator, ...] = ()
    error: str | None = None
    size: int = field(default=0, compare=False)
    ioc_finder: dict[str, object] = field(default_factory=dict, compare=False)


def expand_paths(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named directly, and every file under the folders named (recursively, sorted)."""
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
                for name in sorted(files):
                    yield Path(root) / name
        else:
            yield path


def extract_document(
    path: Path, types: frozenset[Kind] | None = None, refang: bool = True, floor: Confidence = Confidence.MEDIUM
) -> DocumentResult:
    try:
        text = read_path(path)
    except ExtractError as exc:
        return DocumentResult(str(path), error=str(exc))
    return extract_text(str(path), text, types, refang, floor)


def extract_text(
    source: str, text: str, types: frozenset[Kind] | None = None, refang: bool = True, floor: Confidence = Confidence.MEDIUM
) -> DocumentResult:
    """Distinct indicators (all confidences) and the ioc-finder view (at or above ``floor``)."""
    found = extract(text, types=types, refang=refang)
    return DocumentResult(source, tuple(found.unique()), size=len(text), ioc_finder=found.to_ioc_finder(min_confidence=floor))


def extract_files(
    paths: Iterable[Path],
    *,
    types: Iterable[Kind | str] | None = None,
    refang: bool = True,
    floor: Confidence = Confidence.MEDIUM,
    workers: int = 1,
    on_done: Callable[[DocumentResult], None] | None = None,
) -> list[DocumentResult]:
    """Extract from every path, in input order, with ``workers`` processes."""
    kinds = parse_types(types)
    files = list(paths)
    results: list[DocumentResult] = []
    if workers <= 1 or len(files) <= 1:
        for path in files:
            result = extract_document(path, kinds, refang, floor)
            results.append(result)
            if on_done:
                on_done(result)
        return results
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(extract_document, path, kinds, refang, floor) for path in files]
        for path, future in zip(files, futures):
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - a dead worker (BrokenProcessPool) fails the files left, not the run
                result = DocumentResult(str(path), error=f"{path}: {type(exc).__name__}: {exc}")
            results.append(result)
            if on_done:
                on_done(result)
    return results
