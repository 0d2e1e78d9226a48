"""The screens as a user meets them: a quarter driven over the month peak raises the alarm, events reach the log
and notifications, and the rates editor takes a decimal comma, lets go of a field on escape, drops an error once
it is fixed and enters a price change with its start date."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from textual.widgets import Button, Input, Label, Static

from meter_tui.ui.screens.live import LiveScreen
from meter_tui.ui.screens.peak import PeakScreen
from tests.meter_app import LIVE_START, build_fixture, make_app, open_screen, over_the_peak, settle


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory):
    return build_fixture(tmp_path_factory.mktemp("history"))


def notified(app) -> list[str]:
    return [notification.message for notification in app._notifications]


async def test_a_quarter_driven_over_the_month_peak_raises_the_alarm(fixture, tmp_path: Path):
    app = make_app(replace(fixture, live=over_the_peak(fixture.live)), tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot, "p")
        assert isinstance(app.screen, PeakScreen)
        banner = app.screen.query_one("#peak-warning", Static)
        assert banner.display and banner.has_class("alarm-banner")
        text = str(banner.render())
        # 11.5 kW so far, 14 kW for the 421 s left: 11.5 + 14 x 421 / 900 = 18.049 kW; above the 9.972 kW peak by
        # 8.077 kW, which costs 8.077 x 50.12 EUR/kW/year (Midden-Vlaanderen 2026) x 1.06 (VAT) / 12 = 35.76 EUR over
        # the next 12 months.
        assert "heads for 18.049 kW, above 9.972 kW: +35.76 EUR over 12 months" in text
        assert app.screen.query_one("#quarter-panel").has_class("alarm-panel")
        warning = "A new month peak is likely: the quarter of 19:30 heads for"
        assert [m for m in notified(app) if m.startswith(warning)], notified(app)
        logged = [event.text for event in app.event_log.newest_first()]
        assert len([t for t in logged if t.startswith(warning)]) == 1  # once per quarter, not per telegram


async def test_below_the_month_peak_the_screen_says_what_may_still_be_drawn(fixture, tmp_path: Path):
    app = make_app(fixture, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot, "p")
        assert not app.screen.query_one("#peak-warning", Static).display
        text = str(app.screen.query_one("#quarter-text", Static).render())
        assert "Energy so far as kW 0.148" in text
        assert "You may draw up to" in text and "for the remaining 7 min 01 s" in text
        capacity = str(app.screen.query_one("#capacity", Static).render())
        assert "Month peak 9.972 kW: 44.15 EUR over 12 months" in capacity  # 9.972 x 50.12 x 1.06 / 12


async def test_a_decimal_comma_is_a_price_and_saving_is_notified(fixture, tmp_path: Path):
    app = make_app(fixture, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot, "s")
        app.screen.query_one("#import-day", Input).value = "0,42"
        await pilot.pause()
        assert not app.screen.query_one("#save", Button).disabled
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = json.loads((tmp_path / "rates.json").read_text())
        assert saved["Electricity"]["+"]["Day"] == 0.42
        assert any(m.startswith("prices saved to") for m in notified(app)), notified(app)


async def test_an_error_goes_once_the_value_is_fixed(fixture, tmp_path: Path):
    app = make_app(fixture, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot, "s")
        gas = app.screen.query_one("#gas", Input)
        gas.value = "5.5.5"
        await pilot.pause()
        message = app.screen.query_one("#rates-message", Static)
        assert "Cannot save" in str(message.render()) and message.has_class("alarm")
        gas.value = "1,05"
        await pilot.pause()
        assert "Cannot save" not in str(message.render()) and not message.has_class("alarm")
        assert not app.screen.query_one("#save", Button).disabled


async def test_escape_leaves_the_field_and_the_screen_keys_work_again(fixture, tmp_path: Path):
    app = make_app(fixture, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot, "s")
        await pilot.click("#water")
        await pilot.press("end", "1")
        assert isinstance(app.focused, Input)
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is None
        assert app.screen.query_one("#water", Input).value == "5.51"  # leaving is not cancelling
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, LiveScreen)


async def test_a_price_change_from_a_date_is_a_period_and_earlier_costs_keep_their_prices(fixture, tmp_path: Path):
    app = make_app(fixture, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        before = {c.name: c.cost.import_day for c in app.session.columns(LIVE_START.date())}
        await pilot.press("s")
        await settle(pilot)
        assert "prices of all days (no dated periods)" in str(app.screen.query_one("#period-info", Static).render())
        app.screen.query_one("#period-from", Input).value = "2026-03-22"
        app.screen.query_one("#import-day", Input).value = "0,62"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = json.loads((tmp_path / "rates.json").read_text())
        assert saved["Periods"] == [{"From": "2026-03-22", "Electricity": {"+": {"Day": 0.62}}}]
        assert saved["Electricity"]["+"]["Day"] == 0.31  # the prices before the period stay
        assert "prices from 2026-03-22 (period 2 of 2)" in str(app.screen.query_one("#period-info", Static).render())
        after = {c.name: c.cost.import_day for c in app.session.columns(LIVE_START.date())}
        assert after["Fri 20"] == pytest.approx(before["Fri 20"])
        assert after["Today 23"] == pytest.approx(before["Today 23"] * 2)
        assert app.session.book.on(date(2026, 3, 21)).import_day == 0.31


async def test_at_80x24_the_chart_is_one_key_away_and_at_40_rows_both_are_shown(fixture, tmp_path: Path):
    app = make_app(fixture, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "h")
        screen = app.screen
        assert screen.query_one("#history-tabs").display
        assert screen.query_one("#usage-panel").display and not screen.query_one("#chart-panel").display
        assert "g chart" in str(screen.query_one("#usage-panel").border_subtitle)
        await pilot.press("g")
        await pilot.pause()
        assert screen.query_one("#chart-panel").display and not screen.query_one("#usage-panel").display
        assert "March 2026, per day" in str(screen.query_one("#chart-panel").border_title)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert "no data after 23 Mar 2026" in str(screen.query_one("#chart-panel").border_title)
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert not screen.query_one("#history-tabs").display
        assert screen.query_one("#usage-panel").display and screen.query_one("#chart-panel").display


async def test_settings_names_the_serial_port_by_its_stable_by_id_name(fixture, tmp_path: Path, monkeypatch):
    import meter_tui.sources.serial as serial_source  # noqa: PLC0415

    by_id = tmp_path / "by-id"
    by_id.mkdir()
    device = tmp_path / "ttyUSB3"
    device.write_bytes(b"")
    (by_id / "usb-Prolific_PL2303-if00-port0").symlink_to(device)
    monkeypatch.setattr(serial_source, "BY_ID", by_id)
    app = make_app(fixture, tmp_path)
    app.port = str(device)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot, "s")
        text = str(app.screen.query_one("#source-info", Static).render())
        assert f"Stable name: {by_id / 'usb-Prolific_PL2303-if00-port0'}" in text


async def test_the_editor_edits_prices_as_rates_json_states_them(fixture, tmp_path: Path):
    """Prices typed excluding VAT are shown and saved so (no VAT added twice); an area's capacity price and a
    Spot formula are kept unless their own field is changed; a dynamic contract's electricity cannot be typed."""
    document = {
        "VAT": 0.06, "VAT included": False,
        "Electricity": {"+": {"Spot": {"Factor": 1.0, "Add": 0.12}}, "-": {"Day": 0.04, "Night": 0.03}},
        "Gas": {"+": 0.08, "Unit": "kWh", "cnv": ["kWh", 10.5]}, "Water": {"+": 5.0},
        "Capacity": {"Area": "West"}, "Fixed": {"+": 4.0},
    }  # fmt: skip
    (tmp_path / "rates.json").write_text(json.dumps(document))
    app = make_app(fixture, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot, "s")
        screen = app.screen
        assert screen.query_one("#import-day", Input).disabled
        assert screen.query_one("#gas", Input).value == "0.08"  # as typed, not 0.0848 with VAT
        assert str(screen.query_one("#gas-label", Label).render()) == "Gas (EUR/kWh)"
        assert screen.query_one("#capacity", Input).value == "57.1"  # West 2026, excluding VAT as the file is
        info = str(screen.query_one("#period-info", Static).render())
        assert "prices excluding 6% VAT" in info and "Fluvius West 2026, 57.10 + VAT" in info
        screen.query_one("#fixed", Input).value = "4,5"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
    saved = json.loads((tmp_path / "rates.json").read_text())
    assert saved["Fixed"] == {"+": 4.5}
    assert saved["Capacity"] == {"Area": "West"}
    assert saved["Electricity"]["+"] == {"Spot": {"Factor": 1.0, "Add": 0.12}}
    assert saved["Gas"]["+"] == 0.08 and saved["VAT included"] is False
