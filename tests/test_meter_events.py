"""The events the telegrams say happened: a new month peak, a likely new peak once per quarter, a new day peak when
a quarter ends above the day's earlier ones, and solar production starting and stopping after five minutes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from meter_tui.config import ConfigError, load_config
from meter_tui.energy.capacity import forecast
from meter_tui.p1 import parse_telegram
from meter_tui.p1.telegram import Peak
from meter_tui.services.events import MeterWatch
from meter_tui.sources.simulator import BRUSSELS

TELEGRAM = parse_telegram(
    (
        Path(__file__).parent / "data" / "telegrams" / "BE_domoticz__FLU5_253769484_A_50216__3ph_gas_water.txt"
    ).read_bytes()
)
START = datetime(2026, 6, 10, 12, 0, tzinfo=BRUSSELS)


def run(steps: list[tuple[int, float, float, float]]) -> list[tuple[int, str]]:
    """(second, quarter kW so far, import kW, export kW) from START, a month peak of 4 kW: the events and when."""
    watch = MeterWatch()
    said = []
    for second, quarter_kw, import_kw, export_kw in steps:
        time = START + timedelta(seconds=second)
        telegram = TELEGRAM._replace(timestamp=time, quarter_average_kw=quarter_kw, power_import_kw=import_kw,
                                     power_export_kw=export_kw, month_peak=Peak(START, 4.0))  # fmt: skip
        status = forecast(time, quarter_kw, import_kw, 4.0)
        said += [(second, event.text) for event in watch.observe(telegram, status)]
    return said


def test_a_likely_new_peak_is_said_once_per_quarter():
    steps = [(s, 1.0 + s / 300, 12.0, 0.0) for s in range(0, 1800, 10)]
    likely = [(s, t) for s, t in run(steps) if t.startswith("A new month peak is likely")]
    assert [s for s, _ in likely] == [0, 900]
    assert "the quarter of 12:00" in likely[0][1] and "the quarter of 12:15" in likely[1][1]


def test_a_quarter_that_ends_above_the_day_s_earlier_ones_is_a_new_day_peak():
    steps = [(s, 0.5, 0.5, 0.0) for s in range(0, 900, 60)]
    steps += [(s, 1.5, 1.5, 0.0) for s in range(900, 1800, 60)]
    steps += [(s, 1.0, 1.0, 0.0) for s in range(1800, 2760, 60)]
    days = [(s, t) for s, t in run(steps) if t.startswith("New day peak")]
    assert days == [(900, "New day peak 0.500 kW, the quarter of 12:00"),
                    (1800, "New day peak 1.500 kW, the quarter of 12:15")]  # fmt: skip


def test_solar_is_said_to_start_and_stop_after_five_minutes_not_on_a_cloud():
    steps = [(s, 0.2, 0.2, 0.0) for s in range(0, 600, 10)]
    steps += [(s, 0.0, 0.0, 1.2) for s in range(600, 700, 10)]  # a short burst: no event
    steps += [(s, 0.2, 0.2, 0.0) for s in range(700, 1000, 10)]
    steps += [(s, 0.0, 0.0, 1.5) for s in range(1000, 2000, 10)]
    steps += [(s, 0.2, 0.2, 0.0) for s in range(2000, 2600, 10)]
    solar = [(s, t) for s, t in run(steps) if t.startswith("Solar")]
    assert solar == [(1300, "Solar production started (1.500 kW out)"),
                     (2300, "Solar production stopped: nothing exported for 5 minutes")]  # fmt: skip


def test_a_higher_month_peak_from_the_meter_is_a_new_month_peak():
    watch = MeterWatch()
    first = TELEGRAM._replace(timestamp=START, month_peak=Peak(START - timedelta(days=2), 4.0))
    higher = TELEGRAM._replace(timestamp=START + timedelta(seconds=1), month_peak=Peak(START, 4.2))
    assert watch.observe(first, None) == []
    assert [e.text for e in watch.observe(higher, None)] == ["New month peak 4.200 kW, the quarter of 12:00"]
    assert watch.observe(higher, None) == []


def test_a_new_month_peak_under_the_billed_minimum_is_information_not_a_warning():
    watch = MeterWatch()
    first = TELEGRAM._replace(timestamp=START, month_peak=Peak(START - timedelta(days=2), 0.002))
    higher = TELEGRAM._replace(timestamp=START + timedelta(seconds=1), month_peak=Peak(START, 0.004))
    assert watch.observe(first, None) == []
    [event] = watch.observe(higher, None)
    assert event.severity == "information"
    assert event.text == "New month peak 0.004 kW, the quarter of 12:00 (under 2.5 kW: costs nothing)"
    above = TELEGRAM._replace(timestamp=START + timedelta(seconds=2), month_peak=Peak(START, 4.2))
    assert [e.severity for e in watch.observe(above, None)] == ["warning"]


def test_water_flowing_without_a_pause_for_the_hours_set_is_a_leak_said_once_until_it_pauses():
    watch = MeterWatch()
    watch.leak.hours = 2.0
    water = TELEGRAM.water
    assert water is not None and water.reading is not None
    said = []
    litres = 0.0
    for step in range(60):  # five-minute readings: flowing 3 h, a pause, flowing again for an hour
        time = START + timedelta(minutes=5 * step)
        litres += 0.0 if step == 37 else 1.0
        reading = replace(water.reading, time=time, value=100.0 + litres / 1000)
        devices = tuple(d._replace(reading=reading) if d is water else d for d in TELEGRAM.mbus)
        telegram = TELEGRAM._replace(timestamp=time, mbus=devices)
        for second in (0, 1):  # the same reading in the next telegram changes nothing
            telegram = telegram._replace(timestamp=time + timedelta(seconds=second))
            said += [(step, e.severity, e.text) for e in watch.observe(telegram, None) if "Water" in e.text]
    assert said == [(24, "warning", "Water leak? Water has flowed without a pause for 2.0 h, since 12:00 (24 l)")]


def test_the_water_leak_hours_come_from_the_config_file_and_are_checked(tmp_path: Path):
    config = tmp_path / "config.toml"
    assert load_config({"METER_TUI_CONFIG": str(config)}).alerts.water_leak_hours == 2.0  # no file: the default
    config.write_text("[alerts]\nwater_leak_hours = 3\n")
    assert load_config({"METER_TUI_CONFIG": str(config)}).alerts.water_leak_hours == 3.0
    config.write_text("[alerts]\nwater_leak_hours = 0\n")
    said = r"config.toml: \[alerts\] water_leak_hours: hours between 0.25 and 48 expected \(got 0\)"
    with pytest.raises(ConfigError, match=said):
        load_config({"METER_TUI_CONFIG": str(config)})
