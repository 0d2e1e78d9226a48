"""Driving the app with Pilot: screens by key, the rates editor, and what the user sees while the meter reconnects."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from rich.text import Text
from textual.app import App
from textual.coordinate import Coordinate
from textual.widgets import Button, DataTable, Input, Static

from meter_tui.energy.costs import Cost, Usage
from meter_tui.p1 import TelegramError, parse_telegram
from meter_tui.p1.crc import crc16_arc
from meter_tui.p1.reader import ReadResult
from meter_tui.services.views import Column
from meter_tui.sources.feed import FeedState, StatusEvent, TelegramEvent
from meter_tui.sources.hub import Role, RoleEvent
from meter_tui.ui.screens.history import HistoryScreen, table_rows
from meter_tui.ui.screens.live import LiveScreen
from meter_tui.ui.screens.peak import PeakScreen
from meter_tui.ui.screens.settings import SettingsScreen
from meter_tui.ui.screens.telegram import TelegramScreen
from meter_tui.ui.widgets.tables import show_rows
from tests.meter_app import LIVE_START, SOURCE, build_fixture, live_events, make_app, open_screen, settle


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory):
    return build_fixture(tmp_path_factory.mktemp("history"))


async def test_every_screen_by_its_key(fixture, tmp_path: Path):
    app = make_app(fixture, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LiveScreen)
        for key, kind in (("h", HistoryScreen), ("p", PeakScreen), ("t", TelegramScreen), ("s", SettingsScreen),
                          ("l", LiveScreen)):  # fmt: skip
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, kind), key
        await pilot.press("question_mark")
        await pilot.pause()
        assert "History" in str(app.screen.query_one("#keys", Static).render())
        await pilot.press("escape")
        await pilot.press("t", "r")
        await pilot.pause()
        assert "0-0:1.0.0(" in str(app.screen.query_one("#raw", Static).render())


async def edit(pilot, field: str, value: str) -> None:
    widget = pilot.app.screen.query_one(f"#{field}", Input)
    widget.value = value
    await pilot.pause()


async def test_a_valid_price_is_saved_atomically_and_every_cost_follows(fixture, tmp_path: Path):
    app = make_app(fixture, tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await open_screen(pilot, "h")
        before = app.session.columns(LIVE_START.date())
        await pilot.press("s")
        await settle(pilot)
        await edit(pilot, "import-day", "0.62")
        await pilot.click("#save")
        await settle(pilot)
        saved = json.loads((tmp_path / "rates.json").read_text())
        assert saved["Electricity"]["+"]["Day"] == 0.62
        assert saved["Capacity"] == {"Area": "Midden-Vlaanderen"}  # untouched prices keep their form
        assert app.rates_version == 1
        after = app.session.columns(LIVE_START.date())
        year_before, year_after = before[-1], after[-1]
        assert year_after.cost.import_day == pytest.approx(year_before.cost.import_day * 2)
        assert "Saved" in str(app.screen.query_one("#rates-message", Static).render())


async def test_an_invalid_price_cannot_be_saved_and_says_why(fixture, tmp_path: Path):
    app = make_app(fixture, tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        before = (tmp_path / "rates.json").read_bytes()
        await pilot.press("s")
        await settle(pilot)
        await edit(pilot, "gas", "5.5.5")
        assert app.screen.query_one("#save", Button).disabled
        message = str(app.screen.query_one("#rates-message", Static).render())
        assert "Cannot save" in message and "Gas (EUR/m3)" in message
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert (tmp_path / "rates.json").read_bytes() == before
        await edit(pilot, "capacity", "5000")
        assert "Capacity tariff" in str(app.screen.query_one("#rates-message", Static).render())


async def test_cancel_leaves_the_file_untouched(fixture, tmp_path: Path):
    app = make_app(fixture, tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        before = (tmp_path / "rates.json").read_bytes()
        await pilot.press("s")
        await settle(pilot)
        await edit(pilot, "water", "9")
        await pilot.click("#cancel")
        await pilot.pause()
        assert app.screen.query_one("#water", Input).value == "5.5"
        assert (tmp_path / "rates.json").read_bytes() == before


async def test_a_broken_rates_file_is_refused_and_the_example_prices_are_used(fixture, tmp_path: Path):
    (tmp_path / "rates.json").write_text('{"Electricity": {"+": {"Day": "a lot"}}}')
    app = make_app(fixture, tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await open_screen(pilot, "s")
        message = str(app.screen.query_one("#rates-message", Static).render())
        assert "Refused" in message and "rates.json" in message and "Electricity" in message
        assert app.prices is not None and app.prices.book.current.import_day == 0.31


async def test_while_the_meter_reconnects_the_status_line_says_so_and_data_is_marked_stale(fixture, tmp_path: Path):
    base = LIVE_START.timestamp()
    events = live_events(fixture.live[:10], base)
    events.append(StatusEvent(FeedState.RECONNECTING, SOURCE, "/dev/ttyUSB0 was closed", retry_in=2.0))
    app = make_app(fixture, tmp_path, events=events)  # its clock stands at 120 s after the first telegram
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, telegrams=10)
        line = app.source_line
        assert "reconnecting (/dev/ttyUSB0 was closed)" in line
        assert "STALE" in line
        assert app.source_alarm
        assert app.screen.query_one("#source").has_class("alarm")
        await pilot.press("p")
        await settle(pilot, telegrams=10)
        assert app.screen.query_one("#source").has_class("alarm")


def test_the_usage_table_never_shows_minus_zero():
    idle = Column("Today", Usage(), Cost(export_day=-0.0001, export_night=-0.0))
    rows = dict(table_rows([idle], kwh_per_m3=10.0))
    assert rows["-€ Day"] == rows["-€ Night"] == ["0.00"]
    assert dict(table_rows([Column("Today", Usage(), Cost(export_day=-0.25))], None))["-€ Day"] == ["-0.25"]


async def test_tables_rewrite_changed_cells_and_rebuild_when_the_rows_change():
    class OneTable(App[None]):
        def compose(self):
            yield DataTable(cursor_type="row")

    async with OneTable().run_test() as pilot:
        table = pilot.app.query_one(DataTable)
        table.add_columns("OBIS", "Value")
        show_rows(table, [("0-0:96.3.10", Text("1")), ("1-0:32.7.0", Text("230.1"))])
        table.move_cursor(row=1)
        # Only the style changes: rich's Text calls the two equal, the table must still show the new one.
        show_rows(table, [("0-0:96.3.10", Text("1", style="bold red")), ("1-0:32.7.0", Text("230.1"))])
        cell = table.get_cell_at(Coordinate(0, 1))
        assert (cell.plain, str(cell.style)) == ("1", "bold red")
        assert table.row_count == 2 and table.cursor_row == 1
        show_rows(table, [("0-0:96.3.10", Text("0")), ("1-0:32.7.0", Text("229")), ("1-0:52.7.0", Text("231"))])
        assert [table.get_cell_at(Coordinate(i, 0)) for i in range(3)] == ["0-0:96.3.10", "1-0:32.7.0", "1-0:52.7.0"]
        assert table.get_cell_at(Coordinate(1, 1)).plain == "229" and table.cursor_row == 1


async def test_a_replay_faster_than_real_time_shows_the_rate_it_really_gets(fixture, tmp_path: Path):
    """Telegrams a second of meter time apart that arrive 9 ms apart (a replay asked for x900 that gets 110/s):
    the source line says 111 telegrams/s. At one a second it says nothing of a rate."""
    base = LIVE_START.timestamp()
    events = [replace(e, received=base + i * 0.009) if isinstance(e, TelegramEvent) else e
              for i, e in enumerate(live_events(fixture.live[:30], base))]  # fmt: skip
    app = make_app(fixture, tmp_path, events=events)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, telegrams=30)
        assert "111 telegrams/s" in app.source_line
    (tmp_path / "real").mkdir()
    app = make_app(fixture, tmp_path / "real", events=live_events(fixture.live[:30], base))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, telegrams=30)
        assert "telegrams/s" not in app.source_line


async def test_a_tab_that_takes_over_says_so_on_its_source_line_and_in_settings(fixture, tmp_path: Path):
    """A follower (a browser tab) whose owner dies takes the meter over: its source line and Settings both say
    the new role and the new source's state, without waiting for a telegram."""
    base = LIVE_START.timestamp()
    followed = "following meter-tui (pid 4242)"
    owned = live_events(fixture.live[:5], base)[3:]
    events = [
        RoleEvent(Role.FOLLOWER, 4242),
        StatusEvent(FeedState.CONNECTED, followed, good=1),
        *owned,
        StatusEvent(FeedState.RECONNECTING, followed, "the owner of the meter went away", retry_in=0.2),
        RoleEvent(Role.OWNER, 5151),
        StatusEvent(FeedState.WAITING, SOURCE),
    ]
    app = make_app(fixture, tmp_path, events=events)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        await settle(pilot, telegrams=5)
        info = str(app.screen.query_one("#source-info", Static).render())
        assert f"Source: {SOURCE}" in info and "waiting for data" in info, info
        assert "Role: owner of the meter" in info
        # The source's name (shortened in its middle to leave room for the rest), then its new state.
        assert "(seed 1) · waiting for data" in app.source_line and "following" not in app.source_line


async def test_a_follower_names_its_owner_on_the_source_line_and_in_settings(fixture, tmp_path: Path):
    events = [RoleEvent(Role.FOLLOWER, 4242), StatusEvent(FeedState.CONNECTED, "following meter-tui (pid 4242)")]
    app = make_app(fixture, tmp_path, events=events)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        await settle(pilot, telegrams=0)
        info = str(app.screen.query_one("#source-info", Static).render())
        assert "Role: following pid 4242" in info and "following pid 4242" in app.source_line


async def test_refusals_are_counted_by_reason_on_the_source_line_and_said_in_the_event_log(fixture, tmp_path: Path):
    """A telegram the parser rejects (NaN power) and one the history refuses (+0.9 kWh for one second)."""
    base = LIVE_START.timestamp()
    live = list(fixture.live[:20])
    glitch = re.sub(rb"1-0:1\.8\.1\(([0-9.]+)\*kWh\)", lambda m: b"1-0:1.8.1(%010.3f*kWh)" % (float(m[1]) + 0.9),
                    live[10])  # fmt: skip
    nan = re.sub(rb"1-0:1\.7\.0\([0-9.]+\*kW\)", b"1-0:1.7.0(NaN*kW)", live[11])
    live[10], live[11] = (body := glitch[: glitch.index(b"\n!") + 2]) + b"%04X\r\n" % crc16_arc(body), nan
    events = live_events(tuple(live[:11]), base)
    nan_body = nan[: nan.index(b"\n!") + 2]
    with pytest.raises(TelegramError) as rejected:
        parse_telegram(nan_body + b"%04X\r\n" % crc16_arc(nan_body))
    events.append(TelegramEvent(ReadResult(0, nan_body, error=rejected.value), base + 12))
    events += live_events(tuple(live[12:]), base + 12)[3:]
    app = make_app(fixture, tmp_path, events=events)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot, telegrams=19)
        assert "19 good, 2 rejected (1 impossible, 1 register jumped)" in app.source_line, app.source_line
        said = [event.text for event in app.event_log.newest_first()]
        assert any("telegram rejected: line" in text and "impossible value nan kW" in text for text in said), said
        assert any("refused: 1-0:1.8.1 rose by 900 Wh in 1 s" in text for text in said), said
