"""The layers of pyproject.toml's import-linter contracts hold on this tree, and break on a copy of it that imports
upwards, imports SQLite into the domain, or makes a cycle."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports on `tree`, whose src/ is found first on the path; no cache, so every run reads the files."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    return subprocess.run([str(LINT), "--config", str(tree / "pyproject.toml"), "--no-cache"], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("tree")
    shutil.copytree(ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(ROOT / "pyproject.toml", tree)
    return tree


def test_the_contracts_hold_on_this_tree(copy: Path):
    done = lint(copy)
    assert done.returncode == 0, done.stdout
    assert "4 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("store/queries.py", "import meter_tui.services.views", "Layers"),
        ("energy/costs.py", "import sqlite3", "The domain is pure"),
        ("p1/values.py", "import meter_tui.p1.parser", "No import cycles"),
        ("sources/capture.py", "import meter_tui.store.database", "Layers"),
    ],
    ids=["upward", "sqlite-in-domain", "cycle", "sibling-adapters"],
)
def test_a_forbidden_import_breaks_a_contract(copy: Path, module: str, line: str, broken: str):
    path = copy / "src" / "meter_tui" / module
    original = path.read_text()
    path.write_text(original + f"\n{line}  # noqa\n")
    try:
        done = lint(copy)
    finally:
        path.write_text(original)
    assert done.returncode == 1
    assert f"{broken}" in done.stdout.split("Broken contracts")[-1], done.stdout
