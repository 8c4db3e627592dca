"""extract() called from many threads at once (issue 17): each Hyperscan scan needs its own scratch space."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from iocflow.extract import extract
from iocflow.extract.scanner import compile_database

TEXTS = [
    "beacon to hxxps://evil[.]com/gate.php from 8[.]8[.]8[.]8, md5 d41d8cd98f00b204e9800998ecf8427e " * 100,
    "C2 45.155.205[.]233:8443 and user[@]example[.]org; CVE-2021-44228 via T1190 " * 100,
    "HKLM\\Software\\Evil and C:\\Users\\Public\\x.exe, 2001:db8::1 then http://a.top/" + "x.com/" * 500,
]


def _rows(text: str) -> list[tuple[object, ...]]:
    return [(i.kind, i.value, i.start, i.end, i.confidence, i.parent) for i in extract(text)]


def test_extract_from_many_threads_at_once_gives_the_single_threaded_results() -> None:
    expected = [_rows(text) for text in TEXTS]
    start = threading.Barrier(16)

    def work(n: int) -> list[tuple[object, ...]]:
        if n < 16:
            start.wait()  # the first sixteen calls begin together
        return _rows(TEXTS[n % len(TEXTS)])

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(work, range(48)))
    for n, rows in enumerate(results):
        assert rows == expected[n % len(TEXTS)]


def test_each_thread_scans_with_its_own_scratch() -> None:
    """Two threads inside one scan at once: the second must not find the scratch in use."""
    patterns = compile_database([b"ab"], [0])
    inside = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def slow_scan() -> None:
        def on_match(*_: object) -> None:
            inside.set()
            release.wait(10)  # hold the scan open while the other thread scans

        try:
            patterns.scan(b"xxab", match_event_handler=on_match)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    holder = threading.Thread(target=slow_scan)
    holder.start()
    assert inside.wait(10)
    found: list[int] = []
    try:
        patterns.scan(b"abab", match_event_handler=lambda _id, _s, end, *_: found.append(end))
    finally:
        release.set()
        holder.join(10)
    assert found == [2, 4]
    assert errors == []
