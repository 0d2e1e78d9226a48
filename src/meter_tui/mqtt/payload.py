"""What is published: one JSON state per telegram (at most one a second) and a Home Assistant discovery config per
value the meter sends. Pure functions of a telegram and its costs; the publisher does the I/O.

The values are the meter's own registers and powers, converted to kW/kWh/m3 as the parser does; costs are the
session's. Sensors exist only for what this meter sends, so a meter without gas shows no gas sensor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from meter_tui import __version__
from meter_tui.mqtt.settings import MqttSettings
from meter_tui.p1.telegram import Telegram
from meter_tui.session import LiveValues


@dataclass(frozen=True, slots=True)
class Sensor:
    key: str
    name: str
    unit: str | None
    device_class: str | None
    state_class: str | None


_POWER = ("kW", "power", "measurement")
_ENERGY = ("kWh", "energy", "total_increasing")
SENSORS: dict[str, Sensor] = {
    sensor.key: sensor
    for sensor in (
        Sensor("power_import_kw", "Power import", *_POWER),
        Sensor("power_export_kw", "Power export", *_POWER),
        *(
            sensor
            for n in (1, 2, 3)
            for sensor in (
                Sensor(f"l{n}_import_kw", f"L{n} power import", *_POWER),
                Sensor(f"l{n}_export_kw", f"L{n} power export", *_POWER),
                Sensor(f"l{n}_voltage_v", f"L{n} voltage", "V", "voltage", "measurement"),
                Sensor(f"l{n}_current_a", f"L{n} current", "A", "current", "measurement"),
            )
        ),
        Sensor("import_day_kwh", "Energy import day", *_ENERGY),
        Sensor("import_night_kwh", "Energy import night", *_ENERGY),
        Sensor("export_day_kwh", "Energy export day", *_ENERGY),
        Sensor("export_night_kwh", "Energy export night", *_ENERGY),
        Sensor("quarter_average_kw", "Quarter-hour average power", *_POWER),
        Sensor("month_peak_kw", "Month peak", *_POWER),
        Sensor("tariff", "Tariff", None, "enum", None),
        Sensor("gas_m3", "Gas", "m³", "gas", "total_increasing"),
        Sensor("water_m3", "Water", "m³", "water", "total_increasing"),
        Sensor("cost_per_hour_eur", "Cost per hour now", "EUR/h", None, "measurement"),
        Sensor("cost_today_eur", "Cost today", "EUR", "monetary", "total"),
    )
}


def state(values: LiveValues) -> dict[str, Any]:
    """The state message: every value this telegram has, keyed as in SENSORS, plus the meter's time."""
    t = values.telegram
    out: dict[str, Any] = {
        "time": t.timestamp.isoformat() if t.timestamp else None,
        "power_import_kw": t.power_import_kw,
        "power_export_kw": t.power_export_kw,
        "import_day_kwh": t.import_day_kwh,
        "import_night_kwh": t.import_night_kwh,
        "export_day_kwh": t.export_day_kwh,
        "export_night_kwh": t.export_night_kwh,
        "quarter_average_kw": t.quarter_average_kw,
        "month_peak_kw": t.month_peak.kw if t.month_peak else None,
        "month_peak_time": t.month_peak.time.isoformat() if t.month_peak and t.month_peak.time else None,
        "tariff": t.tariff.value if t.tariff else None,
    }
    for phase in t.phases:
        out[f"l{phase.phase}_import_kw"] = phase.import_kw
        out[f"l{phase.phase}_export_kw"] = phase.export_kw
        out[f"l{phase.phase}_voltage_v"] = phase.voltage_v
        out[f"l{phase.phase}_current_a"] = phase.current_a
    for kind, key in ((t.gas, "gas"), (t.water, "water")):
        if kind is not None and kind.reading is not None:
            out[f"{key}_m3"] = kind.reading.value
            out[f"{key}_time"] = kind.reading.time.isoformat() if kind.reading.time else None
    out["cost_per_hour_eur"] = _rounded(values.cost_per_hour_eur, 4)
    out["cost_today_eur"] = _rounded(values.cost_today_eur, 2)
    return {key: value for key, value in out.items() if value is not None}


def meter_id(telegram: Telegram) -> str:
    """A stable id for the device in Home Assistant: the meter's serial number, as topic-safe text."""
    serial = re.sub(r"[^A-Za-z0-9_-]", "_", telegram.equipment_id or "").strip("_")
    return serial or "p1_meter"


def discovery(settings: MqttSettings, values: LiveValues) -> dict[str, dict[str, Any]]:
    """Topic -> config, one sensor per value of the state message."""
    telegram = values.telegram
    node = f"meter_tui_{meter_id(telegram)}"
    device = {
        "identifiers": [node],
        "name": "Digital meter",
        "manufacturer": telegram.header[:3] if telegram.header else "Fluvius",
        "model": telegram.header,
        "serial_number": telegram.equipment_id,
        "sw_version": f"meter-tui {__version__}",
    }
    configs: dict[str, dict[str, Any]] = {}
    for key in state(values):
        sensor = SENSORS.get(key)
        if sensor is None:
            continue
        config: dict[str, Any] = {
            "name": sensor.name,
            "unique_id": f"{node}_{key}",
            "object_id": f"meter_{key}",
            "state_topic": settings.state_topic,
            "value_template": "{{ value_json.%s }}" % key,  # noqa: UP031 - Jinja braces
            "availability_topic": settings.availability_topic,
            "device": {k: v for k, v in device.items() if v},
        }
        if sensor.unit:
            config["unit_of_measurement"] = sensor.unit
        if sensor.device_class:
            config["device_class"] = sensor.device_class
        if sensor.state_class:
            config["state_class"] = sensor.state_class
        if key == "tariff":
            config["options"] = ["day", "night"]
        configs[f"{settings.discovery_prefix}/sensor/{node}/{key}/config"] = config
    return configs


def _rounded(value: float | None, digits: int) -> float | None:
    return round(value, digits) if value is not None else None
