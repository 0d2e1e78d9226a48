"""Three rules of the month peak, on crafted telegrams through the real store and session: a meter that still shows
last month's 1-0:1.6.0 at a month's start, a peak in the last quarter of a month, and a meter swapped mid-month.
Each of these tests failed before the rule it checks was written. And the capacity signals published over MQTT."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from meter_tui.energy.capacity import peak_quarter
from meter_tui.mqtt.payload import discovery, meter_id, state
from meter_tui.mqtt.settings import parse_mqtt_url
from meter_tui.p1 import parse_telegram
from meter_tui.p1.telegram import Telegram
from meter_tui.services.session import Session
from meter_tui.sources.simulator import BRUSSELS
from meter_tui.store.database import open_database
from meter_tui.store.queries import month_peaks
from tests.conftest import with_crc


def stamp(moment: datetime) -> str:
    return f"{moment:%y%m%d%H%M%S}{'S' if moment.utcoffset() == timedelta(hours=2) else 'W'}"


def telegram(moment: datetime, import_kwh: float, *, peak: tuple[datetime, float] | None, quarter_kw: float,
             power_kw: float, serial: str = "1SAG0001") -> Telegram:  # fmt: skip
    lines = [
        "/FLU5\\253769484_A", "", "0-0:96.1.4(50217)", f"0-0:96.1.1({serial})", f"0-0:1.0.0({stamp(moment)})",
        f"1-0:1.8.1({import_kwh:010.3f}*kWh)", "1-0:1.8.2(000000.000*kWh)", "1-0:2.8.1(000000.000*kWh)",
        "1-0:2.8.2(000000.000*kWh)", "0-0:96.14.0(0001)", f"1-0:1.4.0({quarter_kw:06.3f}*kW)",
    ]  # fmt: skip
    if peak is not None:
        lines.append(f"1-0:1.6.0({stamp(peak[0])})({peak[1]:06.3f}*kW)")
    lines.append(f"1-0:1.7.0({power_kw:06.3f}*kW)")
    return parse_telegram(with_crc("\r\n".join([*lines, "!"])))


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=BRUSSELS)  # type: ignore[misc]


def peak_month(stamp: datetime, seen: datetime, kw: float) -> date:
    """The month a 1-0:1.6.0 peak is filed under: the month in which its quarter starts."""
    return peak_quarter(stamp, seen, kw).date().replace(day=1)


def session(tmp_path: Path) -> Session:
    rates = tmp_path / "rates.json"
    rates.write_text(json.dumps({"Electricity": {"+": {"Day": 0.3, "Night": 0.2}}, "Capacity": {"+": 60.0}}))
    meter = Session(tmp_path / "meter.sqlite", rates)
    meter.become_owner()
    return meter


def stored_peaks(tmp_path: Path) -> dict[str, float]:
    connection = open_database(tmp_path / "meter.sqlite", readonly=True)
    try:
        return {f"{p.month:%Y-%m}": p.kw for p in month_peaks(connection)}
    finally:
        connection.close()


def test_at_a_month_s_start_last_month_s_peak_still_shown_is_not_this_month_s_threshold(tmp_path: Path):
    meter = session(tmp_path)
    march_peak = (local(2026, 3, 12, 19, 45), 6.0)
    meter.add(telegram(local(2026, 3, 31, 23, 59, 58), 100.0, peak=march_peak, quarter_kw=1.0, power_kw=1.0))
    # Five seconds into April the meter still shows March's 6 kW; the household draws 3.5 kW.
    april = telegram(local(2026, 4, 1, 0, 0, 5), 100.005, peak=march_peak, quarter_kw=0.02, power_kw=3.5)
    meter.add(april)
    view = meter.peak_view()
    assert view is not None and view.forecast is not None
    # April has no peak yet: the threshold is the 2.5 kW floor, and 3.5 kW held for the quarter makes a new peak.
    assert view.forecast.threshold_kw == pytest.approx(2.5)
    assert view.forecast.projected_kw == pytest.approx(0.02 + 3.5 * 895 / 900)
    assert view.forecast.new_peak_likely
    assert view.month_peak_kw is None
    meter.close()


def test_a_peak_in_the_last_quarter_of_a_month_is_filed_under_that_month(tmp_path: Path):
    meter = session(tmp_path)
    before = (local(2026, 3, 12, 12, 0), 3.0)
    meter.add(telegram(local(2026, 3, 31, 23, 59, 59), 100.0, peak=before, quarter_kw=7.0, power_kw=7.0))
    # A meter that stamps the peak with its quarter's end: 1 April 00:00 is the quarter 31 March 23:45-24:00, and
    # it is shown one second after that quarter ended.
    last = (local(2026, 4, 1, 0, 0), 7.0)
    meter.add(telegram(local(2026, 4, 1, 0, 0, 1), 101.75, peak=last, quarter_kw=0.01, power_kw=0.5))
    # April's own first peak, its quarter's end stamp shown five minutes later.
    first = (local(2026, 4, 1, 0, 15), 1.2)
    meter.add(telegram(local(2026, 4, 1, 0, 20, 0), 102.1, peak=first, quarter_kw=0.1, power_kw=0.5))
    meter.history.ingestor.flush()
    assert stored_peaks(tmp_path) == {"2026-03": 7.0, "2026-04": 1.2}
    months = {f"{p.month:%Y-%m}": p for p in meter.history.month_peaks(meter.latest)}
    assert months["2026-03"].kw == 7.0 and months["2026-03"].time == local(2026, 3, 31, 23, 45)
    assert months["2026-04"].kw == 1.2
    meter.close()


def test_the_stamp_reading_agrees_with_0_0_98_1_0_and_with_start_stamps():
    seen = local(2026, 6, 10, 12, 0)
    assert peak_month(local(2026, 6, 1, 0, 30), seen, 3.0) == date(2026, 6, 1)  # the 98.1.0 June entry's peak time
    assert peak_month(local(2026, 6, 1, 0, 0), seen, 3.0) == date(2026, 6, 1)  # a start stamp, seen days later
    assert peak_month(local(2026, 6, 1, 0, 0), local(2026, 6, 1, 0, 0, 2), 3.0) == date(2026, 5, 1)
    # The register reset at the month's start: zero, stamped with the new month, seen in its first seconds.
    assert peak_month(local(2026, 6, 1, 0, 0), local(2026, 6, 1, 0, 0, 2), 0.0) == date(2026, 6, 1)


def test_after_a_meter_swap_the_month_peak_is_the_highest_of_the_meters_and_the_whole_quarters(tmp_path: Path):
    meter = session(tmp_path)
    old = (local(2026, 4, 10, 18, 0), 6.0)
    for second in (0, 1):  # a new history's first telegram is taken once the next one continues it
        meter.add(telegram(local(2026, 4, 14, 10, 0, second), 5000.0, peak=old, quarter_kw=0.5, power_kw=0.5,
                           serial="OLD1"))  # fmt: skip
    # The new meter starts from zero and knows only its own peak since it was installed.
    new = (local(2026, 4, 15, 9, 0), 2.0)
    base = local(2026, 4, 15, 14, 0)
    for second in range(0, 900, 10):
        moment = base + timedelta(seconds=second)
        meter.add(telegram(moment, 1.0 + second / 900, peak=new, quarter_kw=4.0 * second / 900, power_kw=4.0,
                           serial="NEW2"))  # fmt: skip
    meter.add(telegram(base + timedelta(seconds=905), 2.0, peak=new, quarter_kw=0.01, power_kw=0.5, serial="NEW2"))
    meter.history.ingestor.flush()
    assert stored_peaks(tmp_path) == {"2026-04": 6.0}
    # The forecast on the new meter warns against the old meter's 6 kW, not its own 2 kW.
    view = meter.peak_view()
    assert view is not None and view.forecast is not None
    assert view.forecast.threshold_kw == 6.0 and view.month_peak_kw == 6.0
    meter.close()


def test_a_whole_quarter_above_what_the_meter_says_is_the_month_s_peak(tmp_path: Path):
    meter = session(tmp_path)
    said = (local(2026, 5, 2, 8, 0), 2.8)
    base = local(2026, 5, 3, 19, 0)
    for second in range(0, 900, 5):  # a quarter at 5.2 kW the meter's 1-0:1.6.0 has not caught up with
        meter.add(telegram(base + timedelta(seconds=second), 10.0 + 1.3 * second / 900, peak=said,
                           quarter_kw=5.2 * second / 900, power_kw=5.2))  # fmt: skip
    meter.add(telegram(base + timedelta(seconds=900), 11.3, peak=said, quarter_kw=0.0, power_kw=0.1))
    meter.history.ingestor.flush()
    assert stored_peaks(tmp_path)["2026-05"] == pytest.approx(5.2 * 895 / 900, abs=0.001)


def test_the_capacity_signals_automations_need_are_in_the_state_and_discovery(tmp_path: Path):
    meter = session(tmp_path)  # 60 EUR/kW/year from rates.json
    peak = (local(2026, 5, 2, 8, 0), 4.0)
    # 600 s into the quarter 1.6 kW on average so far, 9 kW drawn now: 1.6 + 9 x 300/900 = 4.6 kW if it holds.
    meter.add(telegram(local(2026, 5, 4, 18, 10, 0), 50.0, peak=peak, quarter_kw=1.6, power_kw=9.0))
    values = meter.live_values()
    assert values is not None
    published = state(values)
    assert published["forecast_kw"] == pytest.approx(4.6, abs=0.0005)
    assert published["headroom_kw"] == pytest.approx((4.0 - 1.6) * 900 / 300, abs=0.0005)
    assert published["month_peak_so_far_kw"] == 4.0
    assert published["new_peak_likely"] is True
    # 0.6 kW above the month peak, in 12 monthly bills of 1/12 of 60 EUR/kW/year: 3.00 EUR.
    assert published["forecast_cost_eur"] == 3.0
    configs = discovery(parse_mqtt_url("mqtt://h", env={}), values)
    node = f"meter_tui_{meter_id(values.telegram)}"
    likely = configs[f"homeassistant/binary_sensor/{node}/new_peak_likely/config"]
    assert likely["value_template"] == "{{ 'ON' if value_json.new_peak_likely else 'OFF' }}"
    assert likely["device_class"] == "problem"
    cost = configs[f"homeassistant/sensor/{node}/forecast_cost_eur/config"]
    assert (cost["unit_of_measurement"], cost["device_class"]) == ("EUR", "monetary")
    assert f"homeassistant/sensor/{node}/headroom_kw/config" in configs
    meter.close()
