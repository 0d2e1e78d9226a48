"""Errors reach a person: a history that cannot be read shows in the screen and the event log while the app runs
on; a meter worker that dies is reported and started again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from meter_tui.services.session import Session
from meter_tui.sources.hub import HubEvent
from meter_tui.ui.app import create_app
from meter_tui.ui.screens.events import EventsScreen
from tests.meter_app import LIVE_START, build_fixture, live_events, make_app, settle


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory):
    return build_fixture(tmp_path_factory.mktemp("history"))


def cells(table: DataTable) -> list[str]:
    return [str(table.get_row_at(row)[2]) for row in range(table.row_count)]


async def test_a_history_that_cannot_be_read_is_said_in_the_screen_and_the_event_log(fixture, tmp_path: Path):
    app = make_app(fixture, tmp_path)
    # Garbage over the middle of the history, where its quarters are: the header still says "SQLite".
    db = tmp_path / "meter.sqlite"
    with db.open("r+b") as handle:
        handle.seek(db.stat().st_size // 2)
        handle.write(b"this is not a database any more" * 2000)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.live is not None and app.live.telegram.timestamp is not None  # live data goes on
        await pilot.press("h")
        await settle(pilot, 0)
        failure = app.screen.query_one("#failure", Static)
        assert failure.display
        assert "The history cannot be read" in str(failure.render())
        assert app.is_running and app.source_alarm and "history:" in app.source_line
        await pilot.press("e")
        await pilot.pause(0.2)
        assert isinstance(app.screen, EventsScreen)
        logged = cells(app.screen.query_one("#events", DataTable))
        assert any("history:" in text for text in logged), logged


async def test_a_meter_worker_that_dies_is_reported_and_started_again(fixture, tmp_path: Path):
    base = LIVE_START.timestamp()
    events = live_events(fixture.live, base)
    calls = 0

    async def source() -> AsyncIterator[HubEvent]:
        """The first run breaks after 10 telegrams; the second goes on from there."""
        nonlocal calls
        calls += 1
        first = calls == 1
        for event in events[:13] if first else events[13:]:
            yield event
        if first:
            raise RuntimeError("the serial driver fell over")

    session = Session(tmp_path / "meter.sqlite", tmp_path / "rates.json")
    app = create_app(session, source, clock=lambda: base + len(fixture.live))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert calls == 2
        assert app.good == len(fixture.live)
        texts = [event.text for event in app.event_log.newest_first()]
        assert any("meter reader stopped (RuntimeError: the serial driver fell over); restarting in 1 s" in t
                   for t in texts), texts  # fmt: skip
