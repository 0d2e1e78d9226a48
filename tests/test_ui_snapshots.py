"""Every screen at 80x24, 120x40 and 160x50, every screen in the light theme, and the states that matter (the
peak alarm, a selected object, the event log, an editor error), on fixed data: the snapshots in
snapshots/ are the contract."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import Input

from meter_tui.ui.screens import SCREENS as SCREEN_TABLE
from tests.conftest import REAL_HOME, SNAPSHOTS
from tests.meter_app import build_fixture, make_app, over_the_peak, settle

SCREENS = {entry.mode: entry.key for entry in SCREEN_TABLE}  # every screen of the table, by its key


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory):
    return build_fixture(tmp_path_factory.mktemp("history"))


@pytest.fixture
def folder(sealed_home: Path) -> Path:
    """The app's folder for one test, in this run's sealed HOME: the Settings and Events screens show the paths of
    the history and of rates.json, which the app says as `~/meter-tui/...`, the same in every run and machine."""
    folder = sealed_home / "meter-tui"
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


SIZES = [(80, 24), (120, 40), (160, 50)]


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare, fixture, folder: Path, screen: str, size: tuple[int, int]):
    app = make_app(fixture, folder)
    assert snap_compare(app, terminal_size=size, run_before=shows(screen))


@pytest.mark.parametrize("screen", list(SCREENS))
def test_light_theme(snap_compare, fixture, folder: Path, screen: str):
    """The `d` key's light theme, every screen at 120x40."""
    app = make_app(fixture, folder)
    assert snap_compare(app, terminal_size=(120, 40), run_before=shows(screen, "d"))
    assert app.theme == "textual-light"


def test_peak_alarm(snap_compare, fixture, folder: Path):
    """A quarter heading over the month peak: the banner, the red border, the notification."""
    app = make_app(replace(fixture, live=over_the_peak(fixture.live)), folder)
    assert snap_compare(app, terminal_size=(120, 40), run_before=shows("peak"))


def test_events_after_an_alarm(snap_compare, fixture, folder: Path):
    app = make_app(replace(fixture, live=over_the_peak(fixture.live)), folder)
    assert snap_compare(app, terminal_size=(80, 24), run_before=shows("events"))


def test_inspector_with_a_row_selected(snap_compare, fixture, folder: Path):
    """0-0:98.1.0 selected: its summary in the row, the whole of it in the detail panel."""
    app = make_app(fixture, folder)
    assert snap_compare(app, terminal_size=(80, 24), run_before=shows("telegram", *["down"] * 10))


def test_editor_with_an_error(snap_compare, fixture, folder: Path):
    async def run_before(pilot) -> None:
        await shows("settings")(pilot)
        pilot.app.screen.query_one("#gas", Input).value = "5.5.5"
        await pilot.pause()

    app = make_app(fixture, folder)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_no_snapshot_holds_a_machine_path(sealed_home: Path):
    """A snapshot is the same on every machine and in every run: no temporary folder and no home folder in it."""
    machine = (f"{tempfile.gettempdir()}/", "/tmp/", "pytest-of-", sealed_home.name, f"{REAL_HOME}/")
    svgs = sorted((SNAPSHOTS / Path(__file__).stem).glob("*.svg"))
    assert len(svgs) >= len(SCREENS) * len(SIZES)
    found = {svg.name: [mark for mark in machine if mark in svg.read_text(encoding="utf-8")] for svg in svgs}
    assert {name: marks for name, marks in found.items() if marks} == {}


def test_live_one_glance(snap_compare, fixture, folder: Path):
    """From 200 columns the Live screen is the original's one glance: live values, the usage/cost table, the
    prices, the running quarter, the month peaks and the whole telegram, the meter's time on top."""
    app = make_app(fixture, folder)
    assert snap_compare(app, terminal_size=(220, 60), run_before=shows("live"))


def test_keys_help_at_80x24(snap_compare, fixture, folder: Path):
    """`?` at 80 columns: every screen's keys, a long line wrapped at the edge, none cut."""

    async def run_before(pilot) -> None:
        await shows("history")(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert type(pilot.app.screen).__name__ == "KeysScreen"

    app = make_app(fixture, folder)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
