"""The extraction worker processes behind POST /api/v1/extract: admission, busy workers, replacement."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from iocflow.api.errors import ApiError
from iocflow.api.routes.extract import WAITING_PER_WORKER, ExtractWorkers, Job, Upload
from iocflow.extract.model import Confidence
from tests.hostile_documents import slow_pdf


def _job(text: bytes) -> Job:
    return Job(Upload(text), None, Confidence.MEDIUM, 1_000_000, None)


@pytest.fixture
def pools() -> Iterator[list[ExtractWorkers]]:
    """Pools made by a test, their workers stopped after it."""
    made: list[ExtractWorkers] = []
    yield made
    for pool in made:
        pool.close()


def _pool(pools: list[ExtractWorkers], size: int) -> ExtractWorkers:
    pools.append(ExtractWorkers(size))
    return pools[-1]


def test_requests_past_the_waiting_room_are_turned_away_at_once(pools: list[ExtractWorkers]) -> None:
    pool = _pool(pools, 2)
    admitted = [pool.admit() for _ in range(2 * (1 + WAITING_PER_WORKER))]
    assert all(admitted)
    assert pool.admit() is False


def test_a_request_that_finds_every_worker_busy_past_its_budget_is_503(pools: list[ExtractWorkers]) -> None:
    pool = _pool(pools, 1)
    assert pool._slots.acquire(blocking=False)  # the one worker is busy with another document
    assert pool.admit()
    with pytest.raises(ApiError) as caught:
        pool.run(_job(b"8.8.8.8"), timeout=0.2)
    assert (caught.value.status, caught.value.code) == (503, "extraction_busy")
    assert caught.value.headers["Retry-After"]
    pool._slots.release()
    assert pool.admit()  # the request gave its place back
    assert pool.run(_job(b"8.8.8.8"), timeout=60).body["data"]["ipv4s"] == ["8.8.8.8"]


def test_a_worker_that_died_while_idle_is_replaced(pools: list[ExtractWorkers]) -> None:
    pool = _pool(pools, 1)
    assert pool.admit()
    assert pool.run(_job(b"evil.com"), timeout=60).body["data"]["domains"] == ["evil.com"]
    (worker,) = pool._idle
    worker.process.kill()
    worker.process.join(10)
    assert pool.admit()
    assert pool.run(_job(b"8.8.4.4"), timeout=60).body["data"]["ipv4s"] == ["8.8.4.4"]
    assert pool._idle[0] is not worker


def test_a_document_over_the_budget_stops_its_worker(pools: list[ExtractWorkers]) -> None:
    pool = _pool(pools, 1)
    assert pool.admit()
    with pytest.raises(ApiError) as caught:
        pool.run(_job(slow_pdf()), timeout=0.5)
    assert (caught.value.status, caught.value.code) == (503, "extraction_timeout")
    assert pool._idle == []  # killed, not kept
    assert pool.admit()
    assert pool.run(_job(b"8.8.8.8"), timeout=60).body["data"]["ipv4s"] == ["8.8.8.8"]
