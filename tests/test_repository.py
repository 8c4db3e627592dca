"""The repository tracks sources only: nothing built is in git.

A tracked virtualenv carries interpreter lines and paths of the checkout it was
built in, so a clone elsewhere gets a broken half-environment (issue 11). This
test makes ``make test`` fail as soon as a virtualenv, bytecode, a build or
dist folder or an egg-info is tracked again.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Folder names whose contents are always built output, at any depth.
BUILT_DIRS = re.compile(r"^(__pycache__|build|dist|\.eggs|\.venv.*|.+\.egg-info)$")
#: File names that are always built output.
BUILT_FILES = re.compile(r".+\.py[co]$")


def built_paths(paths: Iterable[str], root: Path | None = None) -> dict[str, str]:
    """The paths among ``paths`` (relative, ``/``-separated) that are built output, with why.

    A path is built output when one of its folders is ``__pycache__``, ``build``,
    ``dist``, ``.eggs``, ``.venv*`` or ``*.egg-info``; when it is a ``*.pyc``/``*.pyo``
    file; or when it lies in a virtualenv: a folder holding a ``pyvenv.cfg``, tracked
    among ``paths`` or present on disk under ``root``.
    """
    paths = list(paths)
    venvs = {str(PurePosixPath(p).parent) for p in paths if PurePosixPath(p).name == "pyvenv.cfg"}
    on_disk: dict[str, bool] = {}

    def is_venv(folder: str) -> bool:
        if folder in venvs:
            return True
        if root is None:
            return False
        if folder not in on_disk:
            on_disk[folder] = (root / folder / "pyvenv.cfg").is_file()
        return on_disk[folder]

    found: dict[str, str] = {}
    for path in paths:
        pure = PurePosixPath(path)
        folders = pure.parts[:-1]
        reason = next((f"inside {name}/" for name in folders if BUILT_DIRS.match(name)), None)
        if reason is None and BUILT_FILES.match(pure.name):
            reason = "compiled bytecode"
        if reason is None:
            for depth in range(1, len(folders) + 1):
                folder = "/".join(folders[:depth])
                if is_venv(folder):
                    reason = f"inside the virtualenv {folder}/ (it holds pyvenv.cfg)"
                    break
        if reason is None and pure.name == "pyvenv.cfg":
            reason = "a virtualenv's pyvenv.cfg"
        if reason is not None:
            found[path] = reason
    return found


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        ".venv-bench/lib/python3.11/site-packages/x.py",
        "src/iocflow/__pycache__/settings.cpython-311.pyc",
        "tests/test_x.pyc",
        "build/lib/iocflow/__init__.py",
        "dist/iocflow-0.1.0.tar.gz",
        "src/iocflow.egg-info/PKG-INFO",
        "env/pyvenv.cfg",
        "env/bin/activate",
    ],
)
def test_built_output_is_recognised(path: str) -> None:
    paths = [path, "env/pyvenv.cfg"] if path.startswith("env/") else [path]
    assert path in built_paths(paths)


@pytest.mark.parametrize(
    "path",
    [
        "scripts/build_attack_table.py",
        "src/iocflow/store/data/README.md",
        "docs/distribution.md",
        ".venvrc.example",
        "src/iocflow/extract/data/attack.tsv",
        ".gitignore",
    ],
)
def test_sources_are_not_flagged(path: str) -> None:
    assert built_paths([path]) == {}


def _tracked_files() -> list[str]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed, so what the repository tracks cannot be checked")
    inside = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--is-inside-work-tree"],
        capture_output=True,
        text=True,
    )
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        pytest.skip(f"{ROOT} is not a git checkout (an sdist or a copy), so there is no tracked file list to check")
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True)
    names = [name.decode("utf-8", "surrogateescape") for name in listed.stdout.split(b"\0") if name]
    if not names:
        pytest.skip(f"{ROOT} lies in a git work tree that tracks none of its files (a copy inside another checkout)")
    return names


def test_git_tracks_nothing_built() -> None:
    tracked = _tracked_files()
    found = built_paths(tracked, ROOT)
    if found:
        shown = "\n".join(f"  {path}  ({why})" for path, why in sorted(found.items())[:30])
        more = f"\n  ... and {len(found) - 30} more" if len(found) > 30 else ""
        tops = sorted({path.split("/")[0] for path in found})
        pytest.fail(
            f"git tracks {len(found)} built file(s); untrack them with "
            f"`git rm -r --cached <path>` and keep them in .gitignore:\n{shown}{more}\n"
            f"top-level entries: {', '.join(tops)}",
            pytrace=False,
        )
