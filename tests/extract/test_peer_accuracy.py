"""Accuracy of ``extract()`` against the peers' own public test cases.

The cases live in ``peer_cases/<peer>.json`` (see the README there). For each
case the text is run through ``extract(text).to_ioc_finder()`` and only the
case's ``checked_keys`` are compared, as sets. Nested ``attack_*`` dicts are
flattened to keys such as ``attack_techniques.enterprise``. Keys listed in
``partial_keys`` only need the expected values to be present: extra values
there are not counted as errors (the peer asserted ``x in result[key]``).

Scores are micro precision / recall / F1 over all checked values of one peer.
Run ``pytest tests/extract/test_peer_accuracy.py -s`` (or this file directly
with an optional peer name) to see the per-case differences.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from iocflow.extract import extract

CASES_DIR = Path(__file__).parent / "peer_cases"
PEERS = ("ioc_finder", "iocextract", "iocsearcher")
MIN_F1 = 0.99  # the target (issue 2)


def load_cases(peer: str) -> list[dict]:
    data = json.loads((CASES_DIR / f"{peer}.json").read_text(encoding="utf-8"))
    return data["cases"]


def flatten(result: dict) -> dict[str, set[str]]:
    """{'attack_tactics': {'enterprise': [...]}} -> {'attack_tactics.enterprise': {...}}."""
    flat: dict[str, set[str]] = {}
    for key, value in result.items():
        if isinstance(value, dict):
            for sub, values in value.items():
                flat[f"{key}.{sub}"] = set(values)
        else:
            flat[key] = set(value)
    return flat


def score_case(case: dict, output: dict[str, set[str]]) -> tuple[Counter, list[str]]:
    """Count true/false positives and misses per key; return them with diff lines."""
    counts: Counter = Counter()
    diffs = []
    for key in case["checked_keys"]:
        expected = set(case["expected"].get(key, []))
        got = output.get(key, set())
        if key in case.get("partial_keys", ()):
            got = got & expected
        missing, unexpected = expected - got, got - expected
        counts["tp"] += len(expected & got)
        counts["fn"] += len(missing)
        counts["fp"] += len(unexpected)
        counts[f"fn:{key}"] += len(missing)
        counts[f"fp:{key}"] += len(unexpected)
        if missing or unexpected:
            diffs.append(f"    {key}: missing {sorted(missing)} unexpected {sorted(unexpected)}")
    return counts, diffs


def score_peer(peer: str) -> tuple[dict[str, float], list[str]]:
    """Run every case of one peer; return the scores and a readable report."""
    total: Counter = Counter()
    failures = []
    cases = load_cases(peer)
    for case in cases:
        try:
            output = flatten(extract(case["text"]).to_ioc_finder())
        except Exception as exc:  # a crash fails this case only, as if nothing was found
            output = {}
            crash = [f"    raised {type(exc).__name__}: {exc}"]
        else:
            crash = []
        counts, diffs = score_case(case, output)
        diffs = crash + diffs
        total.update(counts)
        if diffs:
            note = f"\n    note: {case['note']}" if "note" in case else ""
            failures.append(f"[{case['id']}] {case['text'][:120]!r}{note}\n" + "\n".join(diffs))
    tp, fp, fn = total["tp"], total["fp"], total["fn"]
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    scores = {"precision": precision, "recall": recall, "f1": f1}
    by_key = sorted((name, n) for name, n in total.items() if ":" in name and n)
    report = [
        f"{peer}: precision={precision:.4f} recall={recall:.4f} f1={f1:.4f} "
        f"({len(cases)} cases, {len(failures)} failing, tp={tp} fp={fp} fn={fn})",
        "  errors by key: " + (", ".join(f"{name}={n}" for name, n in by_key) or "none"),
        *failures,
    ]
    return scores, report


@pytest.mark.parametrize("peer", PEERS)
def test_peer_accuracy(peer: str) -> None:
    scores, report = score_peer(peer)
    print("\n".join(report))
    assert scores["f1"] >= MIN_F1, report[0]


if __name__ == "__main__":
    for name in sys.argv[1:] or PEERS:
        print("\n".join(score_peer(name)[1]), end="\n\n")
