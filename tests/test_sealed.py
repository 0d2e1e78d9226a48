"""The test run is sealed: this process and every process it starts see the run's own HOME and XDG folders, so no
test can read or write the real history, rates or config (conftest also compares the real folders at the end)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import requires
from pathlib import Path

from platformdirs import user_config_path, user_data_path

from meter_tui.config import data_dir
from tests.conftest import REAL_FOLDERS, TELEGRAMS


def test_this_process_uses_the_sealed_folders(sealed_home: Path):
    for folder in (user_data_path("meter-tui"), user_config_path("meter-tui"), data_dir(), Path.home()):
        assert folder.is_relative_to(sealed_home), folder
    assert not any(folder.is_relative_to(sealed_home) for folder in REAL_FOLDERS)


def test_a_subprocess_uses_the_sealed_folders(sealed_home: Path):
    code = (
        "import json, platformdirs, pathlib; print(json.dumps(["
        "str(platformdirs.user_data_path('meter-tui')), str(platformdirs.user_config_path('meter-tui')),"
        "str(pathlib.Path.home())]))"
    )
    shown = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert all(Path(folder).is_relative_to(sealed_home) for folder in shown), shown


def test_a_command_without_db_writes_only_into_the_sealed_folders(sealed_home: Path):
    """`import` with no --db: the default history, which on a user's machine is the real one."""
    capture = TELEGRAMS / "BE_dsmr_parser__FLUVIUS_V171__FLU5_253769484_A__gas_water.txt"
    result = subprocess.run(
        [sys.executable, "-m", "meter_tui", "import", str(capture)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert (sealed_home / "xdg_data_home" / "meter-tui" / "meter.sqlite").exists()


def test_a_plain_install_brings_what_serve_needs():
    """`pip install .` on a Pi (no extras) must give a working `meter-tui serve`."""
    plain = [r for r in requires("meter-tui") or [] if "extra ==" not in r]
    assert any(r.startswith("textual-serve") for r in plain), plain
