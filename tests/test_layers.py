"""The layering guards of issue 11, part 5.

* ``lint-imports`` checks the contracts in ``pyproject.toml`` ([tool.importlinter]): cli above api
  above export/ingest/enrich above store above extract above the base modules; extract loads no
  database, web or CLI library; only the store imports SQLAlchemy, Alembic, psycopg or its own
  models, engine, bulk loader and writer.
* A plain-Python walk over ``src/iocflow`` checks the store's boundary again without import-linter,
  so its failure names every offending line even where the tool is missing.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "iocflow"
STORE = PACKAGE / "store"

#: Libraries only the store may import.
DATABASE_LIBRARIES = ("sqlalchemy", "alembic", "psycopg")
#: The store's modules that no other layer may import.
STORE_PRIVATE = tuple(f"iocflow.store.{name}" for name in ("models", "db", "bulk", "writer"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module an ``from ... import`` reads from, resolving relative imports."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every module ``path`` imports, with its line."""
    yield from _imports_in(path.read_text("utf-8"), _module_name(path), path.name == "__init__.py")


def _imports_in(source: str, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """Every module ``source`` (the text of ``module``) imports, at any depth: in functions and
    TYPE_CHECKING blocks too, relative imports resolved, ``importlib.import_module("x")`` included."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            imported = _absolute(node, module, is_package)
            yield node.lineno, imported
            for alias in node.names:  # `from iocflow.store import models` imports a module
                yield node.lineno, f"{imported}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and (getattr(node.func, "attr", None) or getattr(node.func, "id", None)) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def _outside_store() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if STORE not in p.parents)


def _forbidden(name: str) -> str | None:
    top = name.split(".")[0]
    if top in DATABASE_LIBRARIES:
        return top
    for private in STORE_PRIVATE:
        if name == private or name.startswith(private + "."):
            return private
    return None


def test_nothing_outside_the_store_imports_database_libraries_or_store_internals() -> None:
    offenders = sorted(
        {
            (str(path.relative_to(ROOT)), line, forbidden)
            for path in _outside_store()
            for line, name in _imports(path)
            if (forbidden := _forbidden(name))
        }
    )
    if offenders:
        pytest.fail(
            "Only src/iocflow/store/ may import "
            + ", ".join(DATABASE_LIBRARIES + STORE_PRIVATE)
            + "; other layers go through the store's interface. Offenders:\n"
            + "\n".join(f"  {path}:{line}: imports {forbidden}" for path, line, forbidden in offenders),
            pytrace=False,
        )


def test_nothing_outside_the_store_opens_a_transaction() -> None:
    offenders = []
    for path in _outside_store():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "transaction":
                offenders.append(f"  {path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    if offenders:
        pytest.fail(
            "Only src/iocflow/store/ opens transactions; call a Store method instead. Offenders:\n"
            + "\n".join(offenders),
            pytrace=False,
        )


def test_the_walk_finds_imports_it_must_find() -> None:
    """The checker itself: relative, function-local and importlib imports all count."""
    source = (
        "from ...store import models, records\n"
        "from ...store.db import engine\n"
        "from .. import deps\n"
        "def f():\n"
        "    import sqlalchemy.orm\n"
        "    importlib.import_module('alembic.command')\n"
    )
    found = {name: _forbidden(name) for _, name in _imports_in(source, "iocflow.api.routes.example", False)}
    assert found["iocflow.store.models"] == "iocflow.store.models"
    assert found["iocflow.store.db"] == "iocflow.store.db"
    assert found["sqlalchemy.orm"] == "sqlalchemy"
    assert found["alembic.command"] == "alembic"
    assert found["iocflow.store.records"] is None and found["iocflow.store"] is None
    assert "iocflow.api.deps" in found
    package = {name for _, name in _imports_in("from . import writer", "iocflow.store", True)}
    assert "iocflow.store.writer" in package


def _contracts() -> list[dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    return config["tool"]["importlinter"]["contracts"]


def test_every_top_level_module_has_a_layer() -> None:
    """A new subpackage of iocflow must be placed in the layers contract, or nothing checks it."""
    (layers,) = [c for c in _contracts() if c["type"] == "layers"]
    named = {part.strip() for layer in layers["layers"] for part in layer.replace("|", ":").split(":")}
    present = {
        f"iocflow.{p.stem if p.is_file() else p.name}"
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" and p.name != "__init__.py") or (p.is_dir() and (p / "__init__.py").exists())
    }
    missing = sorted(present - named)
    assert not missing, f"put these in the layers contract in pyproject.toml: {', '.join(missing)}"


def test_import_contracts() -> None:
    """`lint-imports` keeps every contract in pyproject.toml."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    if not lint_imports.exists():
        pytest.fail(
            f"{lint_imports} is missing: install the dev extras (`make test` does: pip install -e '.[dev]')",
            pytrace=False,
        )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    env.setdefault("COLUMNS", "120")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        report = result.stdout
        start = report.find("Contracts")
        pytest.fail(
            f"lint-imports exited {result.returncode}:\n{report[start if start >= 0 else 0:]}{result.stderr}",
            pytrace=False,
        )
