"""Shared fixtures: the test data in tests/data, sealed user folders, the real programs some tests drive.

Every test, and every process a test starts, runs with HOME and the XDG folders in a temporary folder of this run
(set before any test module is imported, so subprocesses inherit it): a full run never reads or writes the real
history, rates or config of the person running it. `pytest_sessionfinish` proves it by comparing the real folders
before and after the run."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import pytest_textual_snapshot
from platformdirs import user_config_path, user_data_path
from syrupy.report import SnapshotReport

from meter_tui.p1.crc import crc16_arc

DATA = Path(__file__).resolve().parent / "data"
TELEGRAMS = DATA / "telegrams"
FLUVIUS = DATA / "fluvius"

# The folders a meter-tui run would use if nothing sealed it, read before sealing.
REAL_FOLDERS = (user_data_path("meter-tui"), user_config_path("meter-tui"))
REAL_HOME = Path.home()
SEALED_VARIABLES = ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR")
APP_VARIABLES = ("METER_TUI_CONFIG", "METER_TUI_DATA_DIR", "METER_TUI_RUN_DIR", "METER_TUI_PORT", "METER_TUI_ARGS")


def _fingerprint(folders: tuple[Path, ...]) -> dict[str, tuple[int, int]]:
    """Every file under the folders with its size and modification time: what a write would change."""
    seen = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")) if folder.exists() else ():
            stat = path.lstat()
            seen[str(path)] = (stat.st_size, stat.st_mtime_ns)
        seen[str(folder)] = (int(folder.exists()), 0)
    return seen


def _seal() -> Path:
    """Point HOME and every XDG folder at a fresh folder; forget the app's own variables."""
    sealed = Path(tempfile.mkdtemp(prefix="meter-tui-tests-home-"))
    for name in SEALED_VARIABLES:
        folder = sealed if name == "HOME" else sealed / name.lower()
        folder.mkdir(mode=0o700, exist_ok=True)
        os.environ[name] = str(folder)
    for name in APP_VARIABLES:
        os.environ.pop(name, None)
    return sealed


REAL_BEFORE = _fingerprint(REAL_FOLDERS)
SEALED_HOME = _seal()


@pytest.fixture(scope="session")
def sealed_home() -> Path:
    """The HOME every test and subprocess sees; it holds the XDG data, config, cache and state folders."""
    return SEALED_HOME


SKIPPED: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        SKIPPED.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _fingerprint(REAL_FOLDERS) != REAL_BEFORE:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\nFAILED: the test run changed the real folders {', '.join(map(str, REAL_FOLDERS))}")
    if os.environ.get("CI") == "true" and SKIPPED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\nFAILED: under CI=true nothing may be skipped, yet {len(SKIPPED)} were: {', '.join(SKIPPED)}")
    shutil.rmtree(SEALED_HOME, ignore_errors=True)


def require_program(path_or_name: str, package: str, adds: str) -> str:
    """The program's path. Missing: the test is skipped with the reason, except under CI=true, where it fails
    (.ci/run installs every such program, so a skip there would hide a test that never ran)."""
    found = shutil.which(path_or_name, path="/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin:/usr/local/bin")
    if found:
        return found
    reason = f"{path_or_name} not found (apt-get install {package}): {adds}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must install it")
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], object], what: str, deadline: float = 15.0) -> None:
    """Poll a real process's visible state until `condition` holds; fail naming `what` after `deadline` s."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def telegram_bytes(name: str) -> bytes:
    return (TELEGRAMS / name).read_bytes()


def with_crc(body: str) -> bytes:
    """A telegram from its text up to and including '!', with the right CRC and line end appended."""
    data = body.encode("latin-1")
    return data + f"{crc16_arc(data):04X}\r\n".encode()


# Snapshots live in the top-level snapshots/ folder (the design's place for them), not in tests/__snapshots__.
REPO = Path(__file__).resolve().parents[1]
SNAPSHOTS = REPO / "snapshots"


def _use_top_level_snapshots() -> None:
    class TopLevelSVGImageExtension(pytest_textual_snapshot.SVGImageExtension):
        @classmethod
        def dirname(cls, *, test_location) -> str:
            return str(SNAPSHOTS / Path(test_location.filepath).stem)

    pytest_textual_snapshot.SVGImageExtension = TopLevelSVGImageExtension
    matching = SnapshotReport._is_matching_path

    def is_matching_path(self, snapshot_location: str, provided_path: str) -> bool:
        # `pytest tests/x.py::test_y --snapshot-update` must not take the module's other snapshots for unused.
        return matching(self, snapshot_location.replace(str(SNAPSHOTS), str(REPO / "tests")), provided_path)

    SnapshotReport._is_matching_path = is_matching_path


_use_top_level_snapshots()
