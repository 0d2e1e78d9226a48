"""What is published: one JSON state per telegram (at most one a second) and a Home Assistant discovery config per
value the meter sends. Pure functions of a telegram and its costs; the publisher does the I/O.

The values are the meter's own registers and powers, converted to kW/kWh/m3 as the parser does; costs are the
session's. Sensors exist only for what this meter sends, so a meter without gas shows no gas sensor.
"""

from __future__ import annotations

import re
from typing import Any

from meter_tui import __version__
from meter_tui.mqtt.settings import MqttSettings
from meter_tui.p1.quantities import LiveValues, Publish, Quantity, published
from meter_tui.p1.telegram import Telegram

# The Home Assistant sensors, one per row of the quantities table that is published as one.
SENSORS: dict[str, Quantity] = {
    row.key: row for row in published() if row.publish in (Publish.SENSOR, Publish.BINARY_SENSOR)
}


def state(values: LiveValues) -> dict[str, Any]:
    """The state message: every published value this telegram has, keyed as in the quantities table, plus the
    meter's time."""
    t = values.telegram
    out: dict[str, Any] = {"time": t.timestamp.isoformat() if t.timestamp else None}
    for row in published():
        value = row.value(values)
        computed = not row.code and isinstance(value, float) and row.precision is not None
        out[row.key] = round(value, row.precision) if computed else value
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
            "name": sensor.label,
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
        if sensor.precision is not None:
            config["suggested_display_precision"] = sensor.precision
        if key == "tariff":
            config["options"] = ["day", "night"]
        kind = "sensor"
        if sensor.publish is Publish.BINARY_SENSOR:
            kind = "binary_sensor"
            config["value_template"] = "{{ 'ON' if value_json.%s else 'OFF' }}" % key  # noqa: UP031 - Jinja
            config["device_class"] = "problem"
        configs[f"{settings.discovery_prefix}/{kind}/{node}/{key}/config"] = config
    return configs
