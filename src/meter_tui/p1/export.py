"""A telegram as a JSON-ready dict: the shape `meter-tui parse` prints, for scripts and for people debugging a capture.

Keys are stable and named after what they hold, with units in the name; a value the telegram lacks is None.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from meter_tui.p1.telegram import MbusDevice, Telegram


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _reading(device: MbusDevice | None) -> tuple[float | None, str | None]:
    if device is None or device.reading is None:
        return None, None
    return device.reading.value, _time(device.reading.time)


def telegram_to_json(telegram: Telegram) -> dict[str, Any]:
    gas_m3, gas_time = _reading(telegram.gas)
    water_m3, water_time = _reading(telegram.water)
    peak = telegram.month_peak
    return {
        "timestamp": _time(telegram.timestamp),
        "crc": telegram.crc_status,
        "header": telegram.header,
        "version": telegram.version,
        "equipment_id": telegram.equipment_id,
        "tariff": telegram.tariff.value if telegram.tariff is not None else None,
        "import_day_kwh": telegram.import_day_kwh,
        "import_night_kwh": telegram.import_night_kwh,
        "export_day_kwh": telegram.export_day_kwh,
        "export_night_kwh": telegram.export_night_kwh,
        "power_import_kw": telegram.power_import_kw,
        "power_export_kw": telegram.power_export_kw,
        "quarter_average_kw": telegram.quarter_average_kw,
        "month_peak_kw": peak.kw if peak is not None else None,
        "month_peak_time": _time(peak.time) if peak is not None else None,
        "peak_history": [
            {"month": entry.month.strftime("%Y-%m"), "time": _time(entry.time), "kw": entry.kw}
            for entry in telegram.peak_history or ()
        ],
        "gas_m3": gas_m3,
        "gas_time": gas_time,
        "water_m3": water_m3,
        "water_time": water_time,
        "phases": [
            {
                "phase": phase.phase,
                "import_kw": phase.import_kw,
                "export_kw": phase.export_kw,
                "voltage_v": phase.voltage_v,
                "current_a": phase.current_a,
            }
            for phase in telegram.phases
        ],
        "breaker": telegram.breaker,
        "relays": [{"relay": number, "state": state} for number, state in telegram.relays],
        "mbus": [
            {
                "channel": device.channel,
                "kind": device.kind.value,
                "device_type": device.device_type,
                "serial": device.serial,
                "value": device.reading.value if device.reading else None,
                "unit": device.reading.unit if device.reading else None,
                "time": _time(device.reading.time) if device.reading else None,
            }
            for device in telegram.mbus
        ],
    }
