"""Real Belgian telegrams, checked field by field against what the files say."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from meter_tui.p1 import CrcError, FramingError, MbusKind, Tariff, parse_telegram
from meter_tui.p1.telegram import values_of
from tests.conftest import telegram_bytes, with_crc

CET = timezone(timedelta(hours=1))
CEST = timezone(timedelta(hours=2))


def test_single_phase_with_gas_and_empty_peak_history():
    t = parse_telegram(telegram_bytes("BE_dsmrhub__FLU5_253770234_A_50217__1ph_gas_98empty.txt"))
    assert t.header == "FLU5\\253770234_A"
    assert t.crc == 0xFCCF
    assert t.crc_status == "ok"
    assert t.version == "50217"
    assert t.equipment_id == "1SAG1100057729"
    assert t.timestamp == datetime(2022, 12, 20, 20, 45, 56, tzinfo=CET)
    assert t.timestamp.tzinfo is not None
    assert str(t.timestamp.tzinfo) == "Europe/Brussels"
    assert (t.import_day_kwh, t.import_night_kwh) == (3457.591, 4282.456)
    assert (t.export_day_kwh, t.export_night_kwh) == (447.891, 203.818)
    assert t.tariff is Tariff.DAY
    assert t.quarter_average_kw == 0.032
    assert t.month_peak is not None
    assert t.month_peak.kw == 3.716
    assert t.month_peak.time == datetime(2022, 12, 3, 17, 45, tzinfo=CET)
    assert t.peak_history == ()
    assert (t.power_import_kw, t.power_export_kw) == (0.524, 0.0)
    assert len(t.phases) == 1
    l1 = t.phases[0]
    assert (l1.phase, l1.import_kw, l1.export_kw, l1.voltage_v, l1.current_a) == (1, 0.524, 0.0, 231.6, 2.72)
    assert (t.breaker, t.limiter_kw, t.fuse_a) == (1, 999.9, 999.0)
    assert t.message is None
    assert t.relays == ()
    assert len(t.mbus) == 1
    gas = t.gas
    assert gas is not None
    assert (gas.channel, gas.kind, gas.valve, gas.serial) == (1, MbusKind.GAS, 1, "7FLO2119098432")
    assert gas.reading is not None
    assert (gas.reading.value, gas.reading.unit) == (4761.307, "m3")
    assert gas.reading.time == datetime(2022, 12, 20, 20, 39, 58, tzinfo=CET)
    assert t.water is None
    assert len(t.objects) == 25
    assert t.objects[0] == ("0-0:96.1.4", "(50217)")
    assert values_of(t.objects[9][1]) == ("221203174500W", "03.716*kW")
    assert values_of(t.objects[10][1]) == ("0", "1-0:1.6.0", "1-0:1.6.0", "")


def test_three_phase_gas_water_and_placeholder_in_peak_history():
    t = parse_telegram(
        telegram_bytes("BE_dsmr_parser__FLUVIUS_V171_ALT__FLU5_253769484_A__gas_water_98x4_invalidts.txt")
    )
    assert t.timestamp == datetime(2023, 11, 2, 12, 15, 48, tzinfo=CET)
    assert [p.import_kw for p in t.phases] == [0.047, 0.179, 0.111]
    assert [p.voltage_v for p in t.phases] == [232.9, 228.1, 228.1]
    assert [p.current_a for p in t.phases] == [0.27, 0.88, 0.52]
    assert t.month_peak is not None
    assert (t.month_peak.time, t.month_peak.kw) == (datetime(2023, 11, 2, 11, 45, tzinfo=CET), 3.064)
    history = t.peak_history
    assert history is not None
    assert [entry.month for entry in history] == [
        date(2023, 7, 1),
        date(2023, 8, 1),
        date(2023, 9, 1),
        date(2023, 10, 1),
    ]
    assert (history[0].time, history[0].kw) == (None, None)  # 632525252525W: no value, not an error
    assert (history[1].time, history[1].kw) == (datetime(2023, 8, 31, 18, 15, tzinfo=CEST), 1.862)
    assert history[3].kw == 4.927
    gas, water = t.gas, t.water
    assert gas is not None
    assert water is not None
    assert (gas.channel, water.channel) == (1, 2)
    assert gas.reading is not None
    assert water.reading is not None
    assert (gas.reading.value, water.reading.value) == (92.287, 8.579)
    assert water.reading.time == datetime(2023, 11, 2, 12, 15, 32, tzinfo=CET)


def test_water_on_channel_one_gas_on_channel_two_lowercase_crc_no_final_line_end():
    data = telegram_bytes("BE_p1dongel__FLU5_253769484_A_50217__3ph_water_ch1_gas_ch2_98empty_lowercaseCRC.txt")
    assert data.endswith(b"!438b")
    t = parse_telegram(data)
    assert t.crc == 0x438B
    assert t.timestamp == datetime(2023, 4, 21, 16, 53, 28, tzinfo=CEST)
    water, gas = t.water, t.gas
    assert water is not None
    assert gas is not None
    assert (water.channel, water.device_type, water.kind) == (1, 7, MbusKind.WATER)
    assert (gas.channel, gas.device_type, gas.kind) == (2, 3, MbusKind.GAS)
    assert water.reading is not None
    assert gas.reading is not None
    assert water.reading.value == 3.83
    assert gas.reading.value == 107.812
    assert gas.valve == 1
    assert water.valve is None
    assert t.peak_history == ()
    assert t.power_export_kw == 1.739
    phase_2 = t.phase(2)
    assert phase_2 is not None
    assert phase_2.voltage_v == 0.0  # a 3x230 V grid: L2 reads 0 V, which the app will explain
    assert t.phase(3) is not None
    assert t.phase(3).export_kw == 1.928


def test_full_thirteen_month_peak_history():
    t = parse_telegram(telegram_bytes("BE_idx30827463162__partial_98x13_recomputed_crc.txt"))
    history = t.peak_history
    assert history is not None
    assert len(history) == 13
    assert history[0].month == date(2023, 6, 1)
    assert history[0].time == datetime(2023, 6, 1, 0, 30, tzinfo=CEST)
    assert history[0].kw == 2.68
    assert history[-1].month == date(2024, 6, 1)
    assert history[-1].kw == 3.841
    assert max(entry.kw or 0 for entry in history) == 5.834
    assert [entry.month.month for entry in history] == [6, 7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6]
    assert t.timestamp is None  # this trimmed telegram has no 0-0:1.0.0
    assert t.gas is None  # a gas reading without a device type is an M-Bus device of unknown kind
    assert t.mbus[0].reading is not None
    assert t.mbus[0].reading.value == 8538.167


def test_emucs_2_relays_are_not_mbus_devices():
    data = telegram_bytes("BE_spec__node__emucs-p1-v2.1.1-example-1__3ph_gas_water.txt")
    with pytest.raises(CrcError) as caught:
        parse_telegram(data)  # the spec example carries the placeholder CRC 1234
    assert caught.value.received == 0x1234
    assert caught.value.expected == 0x74E0
    t = parse_telegram(data, verify_crc=False)
    assert t.version == "50221"
    assert t.grid_config_v == 400
    assert t.ean == "541440012345678900"
    assert t.equipment_id == "1SAG3101021605"
    assert t.relays == ((1, 0), (2, 0), (3, 0), (4, 0))
    assert [device.channel for device in t.mbus] == [1, 2]
    gas, water = t.gas, t.water
    assert gas is not None
    assert water is not None
    assert water.reading is not None
    assert water.reading.value == 872.234
    assert gas.ean == "541440012345678900"
    assert t.limiter_kw == 99.999
    assert t.fuse_a == 999.99
    assert t.peak_history is not None
    assert [e.kw for e in t.peak_history] == [3.695, 5.98, 4.318]


def test_emucs_13_single_phase_without_capacity_objects_and_integer_current():
    t = parse_telegram(telegram_bytes("BE_domoticz__FLU5_253770234_A_50213__1ph_gas.txt"))
    assert t.version == "50213"
    assert t.quarter_average_kw is None
    assert t.month_peak is None
    assert t.peak_history is None
    assert t.phases[0].current_a == 2.0
    assert t.phases[0].import_kw is None  # 50213 sends no per-phase power
    assert t.timestamp == datetime(2019, 9, 5, 14, 23, 15, tzinfo=CEST)
    assert t.gas is not None
    assert t.gas.reading is not None
    assert t.gas.reading.value == 71.724


def test_two_gas_meters_pick_the_live_one():
    t = parse_telegram(
        telegram_bytes("variants/BE_dsmrreader__test_fluvius_multiple_gas_devices__2gas__as_python_evaluates.txt")
    )
    assert [device.kind for device in t.mbus] == [MbusKind.GAS, MbusKind.GAS]
    assert t.gas is not None
    assert t.gas.channel == 1
    assert t.gas.reading is not None
    assert t.gas.reading.value == 734.607


def test_stale_gas_without_unit_and_placeholder_time():
    t = parse_telegram(
        telegram_bytes("variants/BE_dsmrreader__test_fluvius_without_gas__stale_gas_no_unit__as_python_evaluates.txt")
    )
    assert t.tariff is Tariff.NIGHT
    reading = t.mbus[0].reading
    assert reading is not None
    assert (reading.time, reading.value, reading.unit) == (None, 0.0, "")
    assert t.mbus[0].valve == 0


def test_domoticz_three_phase_water_on_24_2_1():
    t = parse_telegram(telegram_bytes("BE_domoticz__FLU5_253769484_A_50216__3ph_gas_water.txt"))
    assert t.version == "50216"
    assert len(t.phases) == 3
    assert t.water is not None
    assert t.water.channel == 2
    assert t.gas is not None
    assert t.gas.channel == 1


def test_repeated_october_hour_is_told_apart_by_the_dst_letter():
    template = (
        "/FLU5\\253769484_A\r\n\r\n0-0:96.1.4(50217)\r\n0-0:1.0.0(241027023000{})\r\n1-0:1.8.1(000001.000*kWh)\r\n!"
    )
    summer = parse_telegram(with_crc(template.format("S")))
    winter = parse_telegram(with_crc(template.format("W")))
    assert summer.timestamp is not None
    assert winter.timestamp is not None
    assert winter.timestamp.astimezone(UTC) - summer.timestamp.astimezone(UTC) == timedelta(hours=1)
    assert (summer.timestamp.fold, winter.timestamp.fold) == (0, 1)
    assert summer.timestamp.utcoffset() == timedelta(hours=2)
    assert winter.timestamp.utcoffset() == timedelta(hours=1)


def test_a_telegram_cut_right_after_its_end_line_is_not_taken_for_a_crc_less_meter():
    data = telegram_bytes("BE_dsmrhub__FLU5_253770234_A_50217__1ph_gas_98empty.txt")
    cut = data[: data.index(b"\n!") + 2]
    with pytest.raises(FramingError, match="no CRC after '!'"):
        parse_telegram(cut)
