"""The ATT&CK table must classify real IDs by matrix and kind as MITRE does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from iocflow.extract.attack import AttackEntry, lookup, name_of
from iocflow.extract.model import Matrix

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build_attack_table.py"
TABLE = ROOT / "src" / "iocflow" / "extract" / "data" / "attack.tsv"
SOURCE = ROOT.parent / "shared" / "data" / "attack"


def only(attack_id: str) -> AttackEntry:
    entries = lookup(attack_id)
    assert len(entries) == 1, entries
    return entries[0]


@pytest.mark.parametrize(
    ("attack_id", "matrix", "kind", "name"),
    [
        ("T1055", Matrix.ENTERPRISE, "technique", "Process Injection"),
        ("T1059.001", Matrix.ENTERPRISE, "subtechnique", "PowerShell"),
        ("TA0001", Matrix.ENTERPRISE, "tactic", "Initial Access"),
        ("M1036", Matrix.ENTERPRISE, "mitigation", "Account Use Policies"),
        ("TA0027", Matrix.MOBILE, "tactic", "Initial Access"),
        ("T1404", Matrix.MOBILE, "technique", "Exploitation for Privilege Escalation"),
        ("T0800", Matrix.ICS, "technique", "Activate Firmware Update Mode"),
        ("TA0017", Matrix.PRE_ATTACK, "tactic", "Organizational Information Gathering"),
    ],
)
def test_known_ids(attack_id: str, matrix: Matrix, kind: str, name: str) -> None:
    entry = only(attack_id)
    assert (entry.id, entry.matrix, entry.kind, entry.name) == (attack_id, matrix, kind, name)
    assert name_of(attack_id) == name


def test_status_flags() -> None:
    assert only("T1055").status == "active"
    assert only("TA0017").status == "deprecated"  # all of PRE-ATT&CK is deprecated
    assert only("T1066").status == "revoked"


def test_legacy_course_of_action_is_not_a_mitigation() -> None:
    # Enterprise keeps a deprecated 2018 course-of-action "Indicator Removal
    # from Tools Mitigation" carrying T1066; only the technique may survive.
    entry = only("T1066")
    assert (entry.matrix, entry.kind, entry.name) == (
        Matrix.ENTERPRISE, "technique", "Indicator Removal from Tools",
    )
    assert not any(e.kind == "mitigation" and e.id.startswith("T") for e in _all_entries())


def test_id_in_two_matrices() -> None:
    entries = lookup("M1013")
    assert {e.matrix for e in entries} == {Matrix.ENTERPRISE, Matrix.MOBILE}
    assert {(e.kind, e.name) for e in entries} == {("mitigation", "Application Developer Guidance")}


def test_active_entries_come_first() -> None:
    for entries in {lookup(e.id) for e in _all_entries()}:
        ranks = [("active", "deprecated", "revoked").index(e.status) for e in entries]
        assert ranks == sorted(ranks), entries


def test_unknown_ids() -> None:
    assert lookup("T9999") == ()
    assert lookup("") == ()
    assert lookup("not an id") == ()
    assert name_of("T9999") is None


def test_case_insensitive() -> None:
    assert lookup("t1059.001") == lookup("T1059.001") != ()
    assert lookup("ta0001") == lookup("TA0001")
    assert name_of("m1036") == "Account Use Policies"


def test_lookup_returns_stored_tuple() -> None:
    assert lookup("T1055") is lookup("T1055")


def test_table_is_small_and_well_formed() -> None:
    data = TABLE.read_bytes()
    assert len(data) < 300_000
    lines = data.decode("utf-8").split("\n")
    assert lines[0] == "id\tmatrix\tkind\tname\tstatus"
    assert lines[-1] == ""  # ends with a newline
    rows = [line.split("\t") for line in lines[1:-1]]
    assert all(len(r) == 5 for r in rows)
    keys = [(r[0], r[1], r[2]) for r in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


@pytest.mark.skipif(
    not SOURCE.is_dir(), reason=f"ATT&CK STIX bundles not available at {SOURCE}"
)
def test_rebuild_is_byte_identical(tmp_path: Path) -> None:
    out = tmp_path / "attack.tsv"
    subprocess.run(
        [sys.executable, str(SCRIPT), "--source", str(SOURCE), "--output", str(out)],
        check=True,
        capture_output=True,
    )
    assert out.read_bytes() == TABLE.read_bytes()


def _all_entries() -> list[AttackEntry]:
    ids = {line.split("\t", 1)[0] for line in TABLE.read_text(encoding="utf-8").splitlines()[1:]}
    return [e for attack_id in ids for e in lookup(attack_id)]
