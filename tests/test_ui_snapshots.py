"""Every screen at 80x24 and 160x50, on fixed data: the snapshots in snapshots/ are the contract."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from meter_tui.ui.screens import SCREENS as SCREEN_TABLE
from tests.meter_app import build_fixture, make_app, settle

SCREENS = {entry.mode: entry.key for entry in SCREEN_TABLE}  # every screen of the table, by its key


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory):
    return build_fixture(tmp_path_factory.mktemp("history"))


def fixed_folder() -> Path:
    """A fixed folder: the settings screen shows the paths of the history and of rates.json."""
    folder = Path(tempfile.gettempdir()) / "meter-tui-snapshots"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    return folder


def shows(screen: str, *keys: str):
    async def show(pilot) -> None:
        await settle(pilot)
        await pilot.press(SCREENS[screen], *keys)
        await settle(pilot)
        # A crashed or empty screen must never become the contract.
        assert type(pilot.app.screen).__name__.lower() == f"{screen}screen"
        assert pilot.app.live is not None

    return show


@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=["80x24", "160x50"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare, fixture, screen: str, size: tuple[int, int]):
    app = make_app(fixture, fixed_folder())
    assert snap_compare(app, terminal_size=size, run_before=shows(screen))


@pytest.mark.parametrize("screen", ["live", "peak"])
def test_light_theme(snap_compare, fixture, screen: str):
    """The `d` key's light theme, on the two screens people leave open all day."""
    app = make_app(fixture, fixed_folder())
    assert snap_compare(app, terminal_size=(80, 24), run_before=shows(screen, "d"))
    assert app.theme == "textual-light"
