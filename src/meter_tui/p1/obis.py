"""The OBIS registry: what each object of a P1 telegram is, for people reading the telegram inspector.

Codes of M-Bus channel objects are registered with `n` for the channel (`0-n:24.2.3`); `describe()` finds them for
any channel. The parser does not depend on this table: it only names things for display and JSON.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ObisInfo:
    """One object: a short name for tables and JSON, a sentence for people, and the unit its values carry."""

    code: str
    name: str
    description: str
    unit: str = ""


_ENTRIES = (
    ObisInfo("0-0:96.1.4", "version", "P1 interface version (50213 = e-MUCS 1.3, 50217 = 1.7, 50221 = 2.1)"),
    ObisInfo("1-3:0.2.8", "dsmr_version", "DSMR version of the P1 interface (Dutch meters)"),
    ObisInfo("1-0:94.32.1", "grid_config", "Grid configuration: 230 V or 400 V between phases", "V"),
    ObisInfo("0-0:96.1.1", "equipment_id", "Electricity meter serial number"),
    ObisInfo("0-0:96.1.2", "ean", "EAN code of the connection"),
    ObisInfo("0-0:96.1.0", "equipment_id", "Electricity meter serial number (older form)"),
    ObisInfo("0-0:1.0.0", "timestamp", "Time of this telegram, meter clock"),
    ObisInfo("1-0:1.8.1", "import_day", "Energy imported during the day tariff (tariff 1)", "kWh"),
    ObisInfo("1-0:1.8.2", "import_night", "Energy imported during the night tariff (tariff 2)", "kWh"),
    ObisInfo("1-0:2.8.1", "export_day", "Energy injected into the grid during the day tariff", "kWh"),
    ObisInfo("1-0:2.8.2", "export_night", "Energy injected into the grid during the night tariff", "kWh"),
    ObisInfo("1-0:1.8.0", "import_total", "Energy imported, all tariffs", "kWh"),
    ObisInfo("1-0:2.8.0", "export_total", "Energy injected, all tariffs", "kWh"),
    ObisInfo("0-0:96.14.0", "tariff", "Active tariff: 1 day, 2 night"),
    ObisInfo("1-0:1.4.0", "quarter_average", "Average import power of the running quarter-hour", "kW"),
    ObisInfo("1-0:1.6.0", "month_peak", "Highest quarter-hour average import power of this month", "kW"),
    ObisInfo("0-0:98.1.0", "peak_history", "Highest quarter-hour average of each of the last 13 months", "kW"),
    ObisInfo("1-0:1.7.0", "power_import", "Import power now, all phases", "kW"),
    ObisInfo("1-0:2.7.0", "power_export", "Export (injection) power now, all phases", "kW"),
    ObisInfo("1-0:21.7.0", "power_import_l1", "Import power now, phase L1", "kW"),
    ObisInfo("1-0:41.7.0", "power_import_l2", "Import power now, phase L2", "kW"),
    ObisInfo("1-0:61.7.0", "power_import_l3", "Import power now, phase L3", "kW"),
    ObisInfo("1-0:22.7.0", "power_export_l1", "Export power now, phase L1", "kW"),
    ObisInfo("1-0:42.7.0", "power_export_l2", "Export power now, phase L2", "kW"),
    ObisInfo("1-0:62.7.0", "power_export_l3", "Export power now, phase L3", "kW"),
    ObisInfo("1-0:32.7.0", "voltage_l1", "Voltage now, phase L1", "V"),
    ObisInfo("1-0:52.7.0", "voltage_l2", "Voltage now, phase L2", "V"),
    ObisInfo("1-0:72.7.0", "voltage_l3", "Voltage now, phase L3", "V"),
    ObisInfo("1-0:31.7.0", "current_l1", "Current now, phase L1", "A"),
    ObisInfo("1-0:51.7.0", "current_l2", "Current now, phase L2", "A"),
    ObisInfo("1-0:71.7.0", "current_l3", "Current now, phase L3", "A"),
    ObisInfo("0-0:96.3.10", "breaker", "Main breaker: 0 off, 1 on, 2 ready to reconnect (press the meter's button)"),
    ObisInfo("0-0:17.0.0", "limiter", "Power limiter threshold (99.999 = none)", "kW"),
    ObisInfo("1-0:31.4.0", "fuse", "Fuse supervision threshold (999.99 = none)", "A"),
    ObisInfo("0-0:96.13.0", "message", "Text message from the grid operator"),
    ObisInfo("0-0:96.13.1", "message_code", "Numeric message from the grid operator (Dutch meters)"),
    ObisInfo("0-0:96.7.21", "power_failures", "Number of power failures in any phase"),
    ObisInfo("0-0:96.7.9", "long_power_failures", "Number of long power failures in any phase"),
    ObisInfo("1-0:99.97.0", "power_failure_log", "Log of long power failures: end time and duration", "s"),
    ObisInfo("1-0:32.32.0", "sags_l1", "Number of voltage sags, phase L1"),
    ObisInfo("1-0:52.32.0", "sags_l2", "Number of voltage sags, phase L2"),
    ObisInfo("1-0:72.32.0", "sags_l3", "Number of voltage sags, phase L3"),
    ObisInfo("1-0:32.36.0", "swells_l1", "Number of voltage swells, phase L1"),
    ObisInfo("1-0:52.36.0", "swells_l2", "Number of voltage swells, phase L2"),
    ObisInfo("1-0:72.36.0", "swells_l3", "Number of voltage swells, phase L3"),
    ObisInfo("0-n:96.3.10", "relay", "Virtual relay n (e-MUCS 2.x): 0 off, 1 on"),
    ObisInfo("0-n:24.1.0", "mbus_type", "M-Bus device type on channel n: 3 gas, 7 water, 4 heat"),
    ObisInfo("0-n:96.1.1", "mbus_id", "M-Bus device serial number, channel n"),
    ObisInfo("0-n:96.1.0", "mbus_id", "M-Bus device serial number, channel n (older form)"),
    ObisInfo("0-n:96.1.2", "mbus_ean", "M-Bus device EAN code, channel n"),
    ObisInfo("0-n:24.4.0", "valve", "Gas valve on channel n: 0 closed, 1 open, 2 ready to reopen"),
    ObisInfo("0-n:24.2.3", "mbus_reading", "Gas (or water) meter reading on channel n, with its capture time", "m3"),
    ObisInfo("0-n:24.2.1", "mbus_reading", "Water (or gas) meter reading on channel n, with its capture time", "m3"),
    ObisInfo("0-n:24.3.0", "mbus_reading", "Gas meter reading on channel n, DSMR 2/3 form", "m3"),
)

REGISTRY: dict[str, ObisInfo] = {info.code: info for info in _ENTRIES}

_CHANNEL = re.compile(r"^0-[1-9]:")


def describe(code: str) -> ObisInfo:
    """What `code` is; an unknown code gets a neutral entry rather than an error, so nothing is hidden."""
    info = REGISTRY.get(code)
    if info is None and _CHANNEL.match(code):
        generic = REGISTRY.get("0-n:" + code.split(":", 1)[1])
        if generic is not None:
            channel = code[2]
            description = generic.description.replace("channel n", f"channel {channel}").replace(
                "relay n", f"relay {channel}"
            )
            info = ObisInfo(code, generic.name, description, generic.unit)
    return info or ObisInfo(code, "unknown", "Object this program does not know")
