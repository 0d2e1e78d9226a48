"""Shared fixtures: where the real telegrams and Fluvius exports live (../shared, beside the checkout)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import pytest_textual_snapshot
from syrupy.report import SnapshotReport

from meter_tui.p1.crc import crc16_arc

SHARED = Path(__file__).resolve().parents[2] / "shared"
TELEGRAMS = SHARED / "telegrams"


@pytest.fixture(scope="session")
def telegrams_dir() -> Path:
    if not TELEGRAMS.is_dir():
        pytest.fail(f"the shared telegrams are missing: expected them at {TELEGRAMS}")
    return TELEGRAMS


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
