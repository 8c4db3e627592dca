"""Storing what a source yielded, batch by batch, each batch one transaction."""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from datetime import datetime

from iocflow.ingest.report import IngestReport, Parsed
from iocflow.store.records import Observation, Source
from iocflow.store.store import Store

#: Observations per transaction: big enough to amortise the per-batch queries and the random-key index
#: pages every commit rewrites (from 5,000 to 20,000 took almost a third off SQLite's commit time), small
#: enough to bound memory (tens of MB) and what a failed batch takes back.
BATCH_SIZE = 20000
_MAX_ERRORS_KEPT = 1000


def store_observations(
    store: Store,
    source: Source,
    observations: Sequence[Observation],
    report: IngestReport,
    *,
    now: datetime | None = None,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
) -> IngestReport:
    """Write ``observations`` in batches and add the counts to ``report``."""
    # The parsed rows are long-lived and acyclic: frozen, the cyclic collector stops rescanning them
    # (its full passes over a million observations were a third of a large ingest). Writing a batch
    # allocates a few hundred thousand short-lived, acyclic rows; the collector is paused while it does
    # (its passes were another 5-8%) and collects the batch's few cycles after it.
    collecting = gc.isenabled()
    gc.freeze()
    try:
        for start in range(0, len(observations), batch_size):
            batch = observations[start : start + batch_size]
            gc.disable()
            try:
                counts = store.record(source, batch, now=now)
            finally:
                if collecting:
                    gc.enable()
                    gc.collect(1)
            report.new += counts.new
            report.updated += counts.updated
            report.unchanged += counts.unchanged
            if on_batch is not None:
                on_batch(len(batch))
    finally:
        gc.unfreeze()
    return report


def store_parsed(
    store: Store,
    source: Source,
    parsed: Parsed,
    *,
    now: datetime | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> IngestReport:
    """A parsed source into the store; its rejected rows are counted and listed, not stored."""
    report = IngestReport(source.name, rows_read=parsed.rows_read, rejected=len(parsed.errors),
                          warnings=list(parsed.warnings))
    report.errors = [str(e) for e in parsed.errors[:_MAX_ERRORS_KEPT]]
    return store_observations(store, source, parsed.observations, report, now=now, on_batch=on_batch)
