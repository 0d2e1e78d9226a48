"""Shared fixtures: where the real telegrams and Fluvius exports live (../shared, beside the checkout)."""

from __future__ import annotations

from pathlib import Path

import pytest

from meter_tui.p1.crc import crc16_arc

SHARED = Path(__file__).resolve().parents[2] / "shared"
TELEGRAMS = SHARED / "telegrams"


@pytest.fixture(scope="session")
def telegrams_dir() -> Path:
    if not TELEGRAMS.is_dir():
        pytest.fail(f"the shared telegrams are missing: expected them at {TELEGRAMS}")
    return TELEGRAMS


def telegram_bytes(name: str) -> bytes:
    return (TELEGRAMS / name).read_bytes()


def with_crc(body: str) -> bytes:
    """A telegram from its text up to and including '!', with the right CRC and line end appended."""
    data = body.encode("latin-1")
    return data + f"{crc16_arc(data):04X}\r\n".encode()
