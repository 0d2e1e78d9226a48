"""Every screen complete at 80x24: what is wider or longer than the terminal is reachable by keys that `?` names,
values come before descriptions, the source line keeps its state and counts whatever the source's name, and an
event too long for its row is read whole."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import DataTable, Input, Select, Static

from meter_tui.p1.errors import CrcError
from meter_tui.p1.reader import ReadResult
from meter_tui.services.session import Session
from meter_tui.sources.feed import FeedState, StatusEvent, TelegramEvent
from meter_tui.sources.hub import HubEvent
from meter_tui.ui.app import create_app, ellipsized
from meter_tui.ui.widgets.axes import zero_ticks
from tests.meter_app import LIVE_SECONDS, LIVE_START, build_fixture, live_events, make_app, open_screen, settle


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory):
    return build_fixture(tmp_path_factory.mktemp("history"))


def shown(widget: Widget) -> str:
    """What a widget shows on the screen, its lines joined by spaces."""
    lines = widget.render_lines(Region(0, 0, *widget.outer_size))
    return " ".join(strip.text.strip() for strip in lines)


async def test_at_80x24_the_history_table_scrolls_to_the_year_and_the_totals_by_named_keys(fixture, tmp_path: Path):
    app = make_app(fixture, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "h")
        table = app.screen.query_one("#usage", DataTable)
        assert table.max_scroll_x > 0 and table.max_scroll_y > 0  # the year and the totals are beyond the panel
        assert "2026" not in shown(table) and "Utilities" not in shown(table)
        await pilot.press("end", "pagedown", "pagedown")
        await pilot.pause()
        assert table.scroll_x == table.max_scroll_x and table.scroll_y == table.max_scroll_y
        text = shown(table)
        assert "2026" in text and "Σ € Utilities" in text  # the row names stay (a fixed column)
        await pilot.press("home", "up")
        await pilot.pause()
        assert table.scroll_x == 0 and table.scroll_y == table.max_scroll_y - 1
        assert "←→ columns · ↑↓ rows" in str(app.screen.query_one("#usage-panel").border_subtitle)
        await pilot.press("question_mark")
        await pilot.pause()
        keys = app.screen.query_one("#keys", Static)
        help_text = shown(keys)
        assert "←/→/home/end columns" in help_text and "↑/↓/pgup/pgdn rows" in help_text


async def test_the_key_help_wraps_instead_of_cutting_at_80_columns(fixture, tmp_path: Path):
    app = make_app(fixture, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, telegrams=1)
        await pilot.press("question_mark")
        await pilot.pause()
        keys = app.screen.query_one("#keys", Static)
        assert keys.region.right <= 80 and keys.virtual_size.width <= keys.size.width
        help_text = shown(keys)
        for words in ("g table/chart", "b bill", "escape leave field / cancel", "ctrl+p command palette"):
            assert words in help_text


async def test_the_telegram_screen_gives_the_value_its_room_before_the_description(fixture, tmp_path: Path):
    app = make_app(fixture, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "t")
        table = app.screen.query_one("#objects", DataTable)
        labels = [column.label.plain for column in table.columns.values()]
        assert labels == ["OBIS", "Name", "Value", "Description"]
        values = [table.get_cell_at((row, 2)).plain for row in range(table.row_count)]
        width = list(table.columns.values())[2].width
        assert width >= max(len(value) for value in values)  # no value cut
        assert "9.972 kW at 20 Mar 18:15" in values
        limit = next(row for row in range(table.row_count) if table.get_cell_at((row, 0)) == "0-0:17.0.0")
        assert table.get_cell_at((limit, 2)).plain == "none"  # the meter sends 999.9 kW: no limiter is set


async def test_a_long_source_name_is_shortened_and_the_state_and_counts_stay_on_the_line(fixture, tmp_path: Path):
    name = "replay /home/pi/captures/a-very-long-folder-name/of-a-long-capture-2026-03-23.p1 x10 (loop)"
    now = LIVE_START.timestamp() + LIVE_SECONDS  # the fixed clock: the telegrams are fresh
    fresh = [replace(event, received=now) for event in live_events(fixture.live[:3], now)[3:]]
    events = [StatusEvent(FeedState.CONNECTED, name, good=1), *fresh]
    app = make_app(fixture, tmp_path, events=events)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, telegrams=3)
        app.refresh_source_line()
        line = app.source_line
        assert len(line) <= 78, line
        assert "· connected ·" in line and line.endswith("3 good, 0 rejected")
        assert "replay /hom" in line and "(loop)" in line and "…" in line
        bar = app.screen.query_one("#source")
        assert shown(bar) == line, (bar.size, bar.content_size, len(line))
    assert ellipsized("abcdefghij", 5) == "ab…ij" and ellipsized("abc", 5) == "abc"


async def test_the_selected_event_is_shown_whole(fixture, tmp_path: Path):
    base = LIVE_START.timestamp()
    events = live_events(fixture.live[:3], base)
    error = CrcError(0xB1C2, 0xE4C7, 120)
    events.append(TelegramEvent(ReadResult(0, b"/FLU5", error=error), base + 4))
    app = make_app(fixture, tmp_path, events=events)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, telegrams=3)
        await pilot.press("e")
        await settle(pilot, telegrams=3)
        detail = str(app.screen.query_one("#event", Static).render())
        assert "telegram rejected: CRC mismatch: telegram says E4C7, bytes give B1C2" in detail
        assert "Monday 23 March 2026" in detail
        table = app.screen.query_one("#events", DataTable)
        await pilot.press("down")
        await pilot.pause()
        assert table.cursor_row == 1
        assert str(app.screen.query_one("#event", Static).render()) != detail


async def open_settings(pilot) -> None:
    await open_screen(pilot, "s")


def note(app, field: str) -> str:
    return str(app.screen.query_one(f"#{field}-note", Static).render())


async def test_a_wrong_price_is_said_beside_its_field_and_a_save_says_what_is_wrong(fixture, tmp_path: Path):
    app = make_app(fixture, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_settings(pilot)
        before = (tmp_path / "rates.json").read_bytes()
        app.screen.query_one("#gas", Input).value = "5.5.5"
        await pilot.pause()
        assert note(app, "gas") == "must be a number, such as 0.31 or 0,31"
        assert app.screen.query_one("#gas-note").has_class("alarm")
        await pilot.press("ctrl+s")
        await settle(pilot)
        said = [n.message for n in app._notifications]
        assert "Not saved: Gas (EUR/m3): must be a number, such as 0.31 or 0,31" in said
        assert app.focused is app.screen.query_one("#gas", Input)
        assert (tmp_path / "rates.json").read_bytes() == before
        await pilot.press("end", *["backspace"] * 5, "6")  # fixed: the words go
        await pilot.pause()
        assert note(app, "gas") == "" and not app.screen.query_one("#gas-note").has_class("alarm")


async def test_a_refused_key_is_explained_and_injection_prices_may_be_negative(fixture, tmp_path: Path):
    app = make_app(fixture, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_settings(pilot)
        app.screen.query_one("#water", Input).focus()
        await pilot.press("end", "x")
        await pilot.pause()
        assert app.screen.query_one("#water", Input).value == "5.5"
        assert note(app, "water") == "only digits and . or , go here"
        field = app.screen.query_one("#export-day", Input)
        field.focus()
        await pilot.press("end", *["backspace"] * 4, *"-0,05")
        await pilot.pause()
        assert field.value == "-0,05" and note(app, "export-day") == ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = json.loads((tmp_path / "rates.json").read_text())
        assert saved["Electricity"]["-"]["Day"] == -0.05


async def test_after_a_dated_price_every_period_stays_reachable_and_today_s_prices_editable(fixture, tmp_path: Path):
    app = make_app(fixture, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_settings(pilot)
        screen = app.screen
        screen.query_one("#period-from", Input).value = "2027-01-01"
        screen.query_one("#import-day", Input).value = "0.40"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        select = screen.query_one("#period", Select)
        options = [str(prompt) for prompt, _ in select._options]
        assert options == ["until 2026-12-31 · today's", "from 2027-01-01"]
        assert select.value == 1 and screen.query_one("#import-day", Input).value == "0.4"
        select.value = 0  # back to today's prices
        await pilot.pause()
        assert screen.query_one("#import-day", Input).value == "0.31"
        assert "until 2026-12-31 (period 1 of 2)" in str(screen.query_one("#period-info", Static).render())
        screen.query_one("#import-day", Input).value = "0.33"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = json.loads((tmp_path / "rates.json").read_text())
        assert saved["Electricity"]["+"]["Day"] == 0.33
        assert saved["Periods"] == [{"From": "2027-01-01", "Electricity": {"+": {"Day": 0.4}}}]
        assert select.value == 0 and app.session.book.on(LIVE_START.date()).import_day == 0.33


async def test_events_are_kept_across_a_restart(fixture, tmp_path: Path):
    base = LIVE_START.timestamp()
    events = live_events(fixture.live[:3], base)
    events.append(TelegramEvent(ReadResult(0, b"/FLU5", error=CrcError(0xB1C2, 0xE4C7, 120)), base + 4))
    app = make_app(fixture, tmp_path, events=events)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, telegrams=3)
    rejected = "telegram rejected: CRC mismatch: telegram says E4C7, bytes give B1C2"
    source = live_events(fixture.live[3:4], base + 3)[3:]  # the same history, a later start: no copy of it

    async def later() -> AsyncIterator[HubEvent]:
        for event in source:
            yield event

    again = create_app(Session(tmp_path / "meter.sqlite", tmp_path / "rates.json"), later, clock=lambda: base + 9)
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot, telegrams=1)
        await pilot.press("e")
        await settle(pilot, telegrams=1)
        kept = [event for event in again.event_log.newest_first() if event.text == rejected]
        assert len(kept) == 1 and f"{kept[0].time:%H:%M}" == "19:36"  # at the meter's time it happened
        table = again.screen.query_one("#events", DataTable)
        assert rejected in [table.get_cell_at((row, 2)).plain for row in range(table.row_count)]


async def test_the_ten_minute_chart_is_filled_from_the_history_at_start(fixture, tmp_path: Path):
    base = LIVE_START.timestamp()
    app = make_app(fixture, tmp_path, events=live_events(fixture.live[:60], base))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, telegrams=60)
        before = app.live.powers_kw if app.live else ()
    assert len(before) == 60
    source = live_events(fixture.live[60:61], base + 60)[3:]

    async def later() -> AsyncIterator[HubEvent]:
        for event in source:
            yield event

    again = create_app(Session(tmp_path / "meter.sqlite", tmp_path / "rates.json"), later, clock=lambda: base + 61)
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot, telegrams=1)
        assert again.live is not None and again.live.powers_kw[:60] == before
        assert len(again.live.powers_kw) == 61


def test_chart_ticks_always_label_the_zero_line():
    assert zero_ticks(0.0, 0.8) == [0.0, 0.2, 0.4, 0.6, 0.8]
    assert 0.0 in zero_ticks(-1.3, 4.1) and zero_ticks(-1.3, 4.1)[0] <= -1.3 and zero_ticks(-1.3, 4.1)[-1] >= 4.1
    assert zero_ticks(0.0, 0.0) == [0.0, 1.0]
    assert zero_ticks(-3.0, -1.0) == [-3.0, -2.0, -1.0, 0.0]


async def test_history_charts_read_in_hours_and_weekdays(fixture, tmp_path: Path):
    app = make_app(fixture, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("h", "v", "v")  # month -> year -> day
        await settle(pilot)
        chart = app.screen.query_one("#chart-panel")
        assert chart.outer_size.height >= 20  # at least half of the 40 rows
        text = shown(app.screen.query_one("#chart"))
        assert "0h" in text and "24h" in text and " 12 " in text
        await pilot.press("v", "left_square_bracket")  # the week of 16 March: in order, by weekday and date
        await settle(pilot)
        text = shown(app.screen.query_one("#chart"))
        days = ["Mon 16", "Tue 17", "Wed 18", "Thu 19", "Fri 20", "Sat 21", "Sun 22"]
        assert [text.index(day) for day in days] == sorted(text.index(day) for day in days)


async def test_the_always_on_power_is_the_night_s_lowest_quarter_with_its_cost_a_year(fixture, tmp_path: Path):
    app = make_app(fixture, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        always_on = app.live.always_on if app.live else None
        assert always_on is not None
        night = [q for q in app.session.history.quarters_of(LIVE_START.date()) if q.start.hour < 6]
        lowest = min(night, key=lambda q: q.usage.import_kwh)
        assert always_on.kw == pytest.approx(lowest.usage.import_kwh * 4) and always_on.start == lowest.start
        # 0.25 EUR/kWh at night, 0.31 by day (the example prices), night 93 of the week's 168 hours
        price = (93 * 0.25 + 75 * 0.31) / 168
        assert always_on.eur_year == pytest.approx(always_on.kw * 8760 * price)
        words = always_on.words()
        assert str(app.screen.query_one("#today-panel").border_title) == f"Today · {words}"
        await pilot.press("h")
        await settle(pilot)
        assert words in str(app.screen.query_one("#usage-panel").border_title)


async def test_from_200_columns_live_is_the_original_s_one_glance(fixture, tmp_path: Path):
    app = make_app(fixture, tmp_path)
    async with app.run_test(size=(220, 60)) as pilot:
        await settle(pilot)
        screen = app.screen
        for panel in ("#live-usage-panel", "#live-telegram-panel", "#rates-panel", "#live-quarter-panel",
                      "#live-months-panel", "#minutes-panel", "#import-panel"):  # fmt: skip
            assert screen.query_one(panel).display and screen.query_one(panel).region.height > 2, panel
        usage = shown(screen.query_one("#live-usage"))
        assert "Today 23" in usage and "2026" in usage and "Σ € Utilities" in usage and "Peak kW" in usage
        telegram = " ".join(shown(line) for line in screen.query_one("#live-telegram").children)
        assert "0-0:1.0.0" in telegram and "2026-03-23 19:37:59" in telegram and "Power limit" in telegram
        assert app.source_line.startswith("Mon 2026-03-23 19:37:59 │ ")  # the meter's date and time on top
        await pilot.resize_terminal(160, 50)
        await pilot.pause()
        assert (
            not screen.query_one("#live-usage-panel").display and not screen.query_one("#live-telegram-panel").display
        )
        assert screen.query_one("#rates-panel").display  # the overview from 140 columns stays
