"""The quantities table: one row per value, from which the parser's routing, `parse`'s JSON, the inspector and
MQTT are derived; a value added as one row (the voltage sag and swell counters) shows up in all of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from meter_tui.mqtt.payload import SENSORS, discovery, meter_id, state
from meter_tui.mqtt.settings import parse_mqtt_url
from meter_tui.p1 import parse_telegram, parser, quantities
from meter_tui.p1.crc import crc16_arc
from meter_tui.p1.errors import TelegramValueError
from meter_tui.p1.export import telegram_to_json
from meter_tui.p1.quantities import BY_KEY, QUANTITIES, LiveValues, Publish, Rule, _meter, describe, phase_rows
from meter_tui.p1.telegram import Phase, Telegram
from meter_tui.services.views import telegram_view

TELEGRAMS = Path(__file__).parent / "data" / "telegrams"


def with_lines(name: str, lines: bytes) -> bytes:
    """A real Belgian telegram with more objects before its end, and the CRC it then needs."""
    data = (TELEGRAMS / name).read_bytes()
    body = data[: data.index(b"\n!") + 1] + lines + b"!"
    return body + b"%04X\r\n" % crc16_arc(body)


SAGS = with_lines(
    "BE_dsmrhub__FLU5_253770234_A_50217__1ph_gas_98empty.txt",
    b"1-0:32.32.0(00002)\r\n1-0:32.36.0(00001)\r\n",
)


def test_every_row_names_a_field_the_telegram_has_and_keys_are_one_meaning_each():
    telegram_fields = set(Telegram._fields)
    phase_fields = set(Phase._fields)
    for row in QUANTITIES:
        if row.field and row.rule is not None and row.rule not in (Rule.RELAY,):
            assert row.field in (phase_fields if row.phase else telegram_fields), row
    # A key means one thing: rows sharing a key (a code's older form) agree on unit and publication.
    for row in QUANTITIES:
        first = BY_KEY[row.key]
        assert (row.unit, row.publish) == (first.unit, first.publish) or row.code.startswith("0-n:"), row
    assert [row.heading for row in phase_rows()] == ["Import", "Export", "Voltage", "Current"]


def test_a_value_added_as_one_row_is_parsed_exported_inspected_and_published():
    telegram = parse_telegram(SAGS)
    assert telegram.extra_value("voltage_sags_l1") == 2
    assert telegram.extra_value("voltage_swells_l1") == 1
    assert telegram.extra_value("voltage_sags_l2") is None  # a single-phase meter: nothing invented

    exported = telegram_to_json(telegram)
    assert (exported["voltage_sags_l1"], exported["voltage_swells_l1"], exported["voltage_sags_l3"]) == (2, 1, None)

    rows = {row.code: row for row in telegram_view(telegram).rows}
    assert (rows["1-0:32.32.0"].label, rows["1-0:32.32.0"].value) == ("L1 voltage sags", "00002")
    assert "sags on phase L1" in rows["1-0:32.32.0"].description

    values = LiveValues(telegram, 0.1, 1.0)
    published = state(values)
    assert (published["voltage_sags_l1"], published["voltage_swells_l1"]) == (2, 1)
    assert "voltage_sags_l2" not in published
    configs = discovery(parse_mqtt_url("mqtt://h", env={}), values)
    sags = configs[f"homeassistant/sensor/meter_tui_{meter_id(telegram)}/voltage_sags_l1/config"]
    assert (sags["name"], sags["state_class"], sags["value_template"]) == (
        "L1 voltage sags", "total_increasing", "{{ value_json.voltage_sags_l1 }}",
    )  # fmt: skip


def test_a_row_written_like_its_neighbours_without_a_telegram_field_lands_in_extra(monkeypatch: pytest.MonkeyPatch):
    # Reactive energy added as one row, as the registers beside it are written: the Telegram has no such field.
    row = _meter("1-0:3.8.0", "reactive_import_kvarh", "Reactive import", "Reactive energy imported", unit="kvarh",
                 most=1e9)  # fmt: skip
    assert row.field == ""
    monkeypatch.setitem(quantities.PARSED, row.code, row)
    numeric, meter, _ = parser._routing()  # the parser's lookups as the table with this row gives them
    monkeypatch.setattr(parser, "_NUMERIC", numeric)
    monkeypatch.setattr(parser, "_METER", meter)
    monkeypatch.setattr(parser, "_lines", {})  # no line remembered from before the row existed
    name = "BE_dsmrhub__FLU5_253770234_A_50217__1ph_gas_98empty.txt"
    telegram = parse_telegram(with_lines(name, b"1-0:3.8.0(000123.456*kvarh)\r\n"))
    assert telegram.extra_value("reactive_import_kvarh") == 123.456
    assert row.read(telegram) == 123.456
    assert telegram.import_day_kwh is not None  # the rest of the telegram as before
    # A number of its own is checked as every number of the table: another unit is refused with the line.
    with pytest.raises(TelegramValueError, match=r"1-0:3\.8\.0"):
        parse_telegram(with_lines(name, b"1-0:3.8.0(000123.456*kWh)\r\n"))


def test_a_field_the_telegram_lacks_is_a_typo_refused_when_the_table_is_built():
    with pytest.raises(ValueError, match=r"1-0:1\.8\.1: the Telegram has no field .import_dya_kwh."):
        _meter("1-0:1.8.1", "import_day_kwh", "Energy import day", "A misspelt field", field="import_dya_kwh")


def test_json_keys_inspector_names_and_sensors_all_come_from_the_table():
    telegram = parse_telegram((TELEGRAMS / "BE_domoticz__FLU5_253769484_A_50216__3ph_gas_water.txt").read_bytes())
    exported = telegram_to_json(telegram)
    flat = {row.key for row in QUANTITIES if row.code and row.in_json and not row.phase}
    assert flat <= set(exported)
    assert set(exported) - flat == {"crc", "header", "peak_history", "phases", "relays", "mbus"}
    assert set(exported["phases"][0]) == {"phase", *(row.field for row in phase_rows())}
    assert set(SENSORS) == {row.key for row in QUANTITIES if row.publish in (Publish.SENSOR, Publish.BINARY_SENSOR)}
    for code, _ in telegram.objects:
        assert describe(code).label != "Unknown", code
    assert set(state(LiveValues(telegram))) <= {"time", *(row.key for row in QUANTITIES if row.publish)}
