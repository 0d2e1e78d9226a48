"""The one table of what a telegram can say: a row per value, from which everything that names a value is derived.

The parser's routing (which object fills which field, read how), `meter-tui parse`'s JSON keys, the telegram
inspector's names and descriptions, the live screen's column headings and the MQTT state and Home Assistant
discovery all come from here, as in Home Assistant's own DSMR sensor table. Adding a value is one row (plus a parse
rule, when none of the existing ones reads it): a row without a `field` of the Telegram lands in `Telegram.extra`
and is shown, exported and published like any other.

Rows that meter-tui computes (costs) have no OBIS code; their values come with the telegram in `LiveValues`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from meter_tui.p1.plausible import (
    MAX_CURRENT_A,
    MAX_PHASE_KW,
    MAX_POWER_KW,
    MAX_REGISTER_KWH,
    MAX_SETTING,
    MAX_VOLTAGE_V,
)
from meter_tui.p1.telegram import MbusDevice, Telegram


class Rule(StrEnum):
    """How the parser reads an object's values. Channel rules read objects of M-Bus channel n (`0-n:`)."""

    NUMBER = "number"  # one number with a unit; W and Wh are scaled to kW and kWh
    INTEGER = "integer"
    TEXT = "text"  # as sent
    OCTETS = "octets"  # hex-encoded text
    TIMESTAMP = "timestamp"
    TARIFF = "tariff"
    PEAK = "peak"  # (time)(kW)
    PEAK_HISTORY = "peak_history"  # 0-0:98.1.0
    UNREAD = "unread"  # described and kept as sent, not read into a value
    RELAY = "relay"
    DEVICE_TYPE = "device_type"
    DEVICE_SERIAL = "device_serial"
    DEVICE_EAN = "device_ean"
    VALVE = "valve"
    READING = "reading"
    OLD_READING = "old_reading"  # DSMR 2/3: (time)(status)(period)(count)(reference)(unit)(value)


CHANNEL_RULES = frozenset(
    {Rule.RELAY, Rule.DEVICE_TYPE, Rule.DEVICE_SERIAL, Rule.DEVICE_EAN, Rule.VALVE, Rule.READING, Rule.OLD_READING}
)


class Publish(StrEnum):
    """What MQTT does with a value: a Home Assistant sensor, a key of the state message only, or nothing."""

    SENSOR = "sensor"
    BINARY_SENSOR = "binary_sensor"
    STATE = "state"
    NO = ""


@dataclass(frozen=True, slots=True)
class Quantity:
    """One value: what it is called and how it is read, shown and published."""

    key: str  # JSON and MQTT key, with the unit in the name
    label: str  # a short name for people (inspector, Home Assistant)
    description: str
    code: str = ""  # OBIS code, `0-n:` for an M-Bus channel's; '' for a value meter-tui computes
    unit: str = ""
    rule: Rule | None = None  # how the parser reads the object; None: the value is another row's, seen otherwise
    field: str = ""  # the Telegram's (or, with `phase`, the Phase's) field the parser fills; '' -> Telegram.extra
    phase: int = 0
    heading: str = ""  # a column heading, for tables of phases
    read: Callable[[Any], Any] | None = None  # the value in a Telegram (in LiveValues for computed rows)
    publish: Publish = Publish.NO
    device_class: str | None = None
    state_class: str | None = None
    precision: int | None = None
    in_json: bool = True  # in `parse`'s flat keys (structured values are written out on their own)
    # The largest value a household connection can measure (p1.plausible): the parser refuses a telegram with a
    # number above it, below zero or not finite. None: not a plain number; a peak's kW and an M-Bus reading are
    # bounded by their rule's reader (MAX_POWER_KW, MAX_READING), whatever the row.
    most: float | None = None
    other_units: tuple[str, ...] = ()  # spellings real meters send besides `unit` (kVA or A for a power limit)

    def value(self, values: Telegram | LiveValues) -> Any:
        """This row's value in a telegram (or, for a computed row, in live values); None when it is not there."""
        if self.read is None:
            return None
        if self.code:
            return self.read(values.telegram if isinstance(values, LiveValues) else values)
        return self.read(values) if isinstance(values, LiveValues) else None


@dataclass(frozen=True, slots=True)
class LiveValues:
    """The latest telegram with what meter-tui computes from it: what goes out to home automation."""

    telegram: Telegram
    cost_per_hour_eur: float | None = None
    cost_today_eur: float | None = None
    # The capacity tariff's running quarter, as the peak screen shows it (None without 1-0:1.4.0).
    forecast_kw: float | None = None
    headroom_kw: float | None = None
    month_peak_so_far_kw: float | None = None
    new_peak_likely: bool | None = None
    forecast_cost_eur: float | None = None


_POWER = {"unit": "kW", "device_class": "power", "state_class": "measurement", "precision": 3, "most": MAX_POWER_KW}
_ENERGY = {
    "unit": "kWh",
    "device_class": "energy",
    "state_class": "total_increasing",
    "precision": 3,
    "most": MAX_REGISTER_KWH,
}
_COUNTER = {"state_class": "total_increasing", "precision": 0}


def _field(name: str) -> Callable[[Telegram], Any]:
    return lambda t: getattr(t, name)


def _extra(key: str) -> Callable[[Telegram], Any]:
    return lambda t: t.extra_value(key)


def _meter(code: str, key: str, label: str, description: str, rule: Rule = Rule.NUMBER, *, field: str = "",
           publish: Publish = Publish.NO, **more: Any) -> Quantity:  # fmt: skip
    """A value of the meter as a whole, in the Telegram's field named like its key (or `field`). A key the Telegram
    has no field for is a value added as one row: it lands in `Telegram.extra` (a row written like its neighbours
    must not make every telegram carrying it unreadable); a `field` the Telegram lacks is a typo, refused here."""
    if rule is Rule.UNREAD:
        return Quantity(key, label, description, code, rule=rule, **more)
    name = field or key
    if name not in Telegram._fields:
        if field:
            raise ValueError(f"{code}: the Telegram has no field {field!r}")
        return Quantity(key, label, description, code, rule=rule, read=_extra(key), publish=publish, **more)
    return Quantity(key, label, description, code, rule=rule, field=name, read=_field(name), publish=publish, **more)


def _phase_values() -> Iterator[Quantity]:
    # (code of L1, L2, L3), Phase field, label, description, heading, units
    for codes, field, label, description, heading, more in (
        (("1-0:21.7.0", "1-0:41.7.0", "1-0:61.7.0"), "import_kw", "power import", "Import power now", "Import",
         {**_POWER, "most": MAX_PHASE_KW}),
        (("1-0:22.7.0", "1-0:42.7.0", "1-0:62.7.0"), "export_kw", "power export", "Export power now", "Export",
         {**_POWER, "most": MAX_PHASE_KW}),
        (("1-0:32.7.0", "1-0:52.7.0", "1-0:72.7.0"), "voltage_v", "voltage", "Voltage now", "Voltage",
         {"unit": "V", "device_class": "voltage", "state_class": "measurement", "precision": 1,
          "most": MAX_VOLTAGE_V}),
        (("1-0:31.7.0", "1-0:51.7.0", "1-0:71.7.0"), "current_a", "current", "Current now", "Current",
         {"unit": "A", "device_class": "current", "state_class": "measurement", "precision": 2,
          "most": MAX_CURRENT_A}),
    ):  # fmt: skip
        for number, code in enumerate(codes, 1):
            yield Quantity(
                f"l{number}_{field}",
                f"L{number} {label}",
                f"{description}, phase L{number}",
                code,
                rule=Rule.NUMBER,
                field=field,
                phase=number,
                heading=heading,
                read=lambda t, n=number, f=field: getattr(t.phase(n), f, None),
                publish=Publish.SENSOR,
                **more,
            )


def _per_phase_counters() -> Iterator[Quantity]:
    """Voltage sags and swells, counted per phase by DSMR 4+ and e-MUCS meters that send them."""
    for event, index, what in (("sags", "32", "dropped below"), ("swells", "36", "rose above")):
        for number, group in enumerate(("32", "52", "72"), 1):
            key = f"voltage_{event}_l{number}"
            yield Quantity(
                key,
                f"L{number} voltage {event}",
                f"Number of voltage {event} on phase L{number}: times the voltage {what} its limit",
                f"1-0:{group}.{index}.0",
                rule=Rule.INTEGER,
                read=_extra(key),
                publish=Publish.SENSOR,
                **_COUNTER,
            )


def _time_of(read: Callable[[Telegram], Any]) -> Callable[[Telegram], str | None]:
    def iso(telegram: Telegram) -> str | None:
        value = read(telegram)
        return value.isoformat() if isinstance(value, datetime) else None

    return iso


def _reading(kind: str, part: str) -> Callable[[Telegram], Any]:
    def read(telegram: Telegram) -> Any:
        device: MbusDevice | None = getattr(telegram, kind)
        reading = device.reading if device is not None else None
        if reading is None:
            return None
        return reading.value if part == "value" else reading.time

    return read


QUANTITIES: tuple[Quantity, ...] = (
    _meter("0-0:96.1.4", "version", "P1 version", "P1 interface version (50213 = e-MUCS 1.3, 50217 = 1.7, 50221 = 2.1)",
           Rule.TEXT),
    _meter("1-3:0.2.8", "version", "DSMR version", "DSMR version of the P1 interface (Dutch meters)", Rule.TEXT),
    _meter("0-0:96.1.1", "equipment_id", "Meter serial", "Electricity meter serial number", Rule.OCTETS),
    _meter("0-0:96.1.0", "equipment_id", "Meter serial", "Electricity meter serial number (older form)",
           Rule.OCTETS),
    _meter("0-0:96.1.2", "ean", "EAN", "EAN code of the connection", Rule.OCTETS),
    _meter("1-0:94.32.1", "grid_config_v", "Grid", "Grid configuration: 230 V or 400 V between phases",
           Rule.INTEGER, unit="V"),
    _meter("0-0:1.0.0", "timestamp", "Meter time", "Time of this telegram, meter clock", Rule.TIMESTAMP),
    _meter("1-0:1.8.1", "import_day_kwh", "Energy import day", "Energy imported during the day tariff (tariff 1)",
           publish=Publish.SENSOR, **_ENERGY),
    _meter("1-0:1.8.2", "import_night_kwh", "Energy import night",
           "Energy imported during the night tariff (tariff 2)", publish=Publish.SENSOR, **_ENERGY),
    _meter("1-0:2.8.1", "export_day_kwh", "Energy export day", "Energy injected into the grid during the day tariff",
           publish=Publish.SENSOR, **_ENERGY),
    _meter("1-0:2.8.2", "export_night_kwh", "Energy export night",
           "Energy injected into the grid during the night tariff", publish=Publish.SENSOR, **_ENERGY),
    _meter("1-0:1.8.0", "import_total_kwh", "Energy import", "Energy imported, all tariffs", **_ENERGY),
    _meter("1-0:2.8.0", "export_total_kwh", "Energy export", "Energy injected, all tariffs", **_ENERGY),
    Quantity("tariff", "Tariff", "Active tariff: 1 day, 2 night", "0-0:96.14.0", rule=Rule.TARIFF, field="tariff",
             read=lambda t: t.tariff.value if t.tariff is not None else None, publish=Publish.SENSOR,
             device_class="enum"),
    _meter("1-0:1.4.0", "quarter_average_kw", "Quarter-hour average power",
           "Average import power of the running quarter-hour", publish=Publish.SENSOR, **_POWER),
    Quantity("month_peak_kw", "Month peak", "Highest quarter-hour average import power of this month", "1-0:1.6.0",
             "kW", Rule.PEAK, "month_peak", read=lambda t: t.month_peak.kw if t.month_peak else None,
             publish=Publish.SENSOR, device_class="power", state_class="measurement", precision=3),
    Quantity("month_peak_time", "Month peak at", "When this month's highest quarter-hour started", "1-0:1.6.0",
             read=_time_of(lambda t: t.month_peak.time if t.month_peak else None), publish=Publish.STATE),
    Quantity("peak_history", "Month peaks", "Highest quarter-hour average of each of the last 13 months",
             "0-0:98.1.0", "kW", Rule.PEAK_HISTORY, "peak_history", in_json=False),
    _meter("1-0:1.7.0", "power_import_kw", "Power import", "Import power now, all phases", publish=Publish.SENSOR,
           **_POWER),
    _meter("1-0:2.7.0", "power_export_kw", "Power export", "Export (injection) power now, all phases",
           publish=Publish.SENSOR, **_POWER),
    *_phase_values(),
    _meter("0-0:96.3.10", "breaker", "Breaker",
           "Main breaker: 0 off, 1 on, 2 ready to reconnect (press the meter's button)", Rule.INTEGER),
    _meter("0-0:17.0.0", "limiter_kw", "Power limit", "Power limiter threshold (none: no limit is set)", unit="kW",
           precision=3, most=MAX_SETTING, other_units=("kVA", "A")),
    _meter("1-0:31.4.0", "fuse_a", "Fuse limit", "Fuse supervision threshold (none: no limit is set)", unit="A",
           most=MAX_SETTING),
    _meter("0-0:96.13.0", "message", "Message", "Text message from the grid operator", Rule.OCTETS),
    _meter("0-0:96.13.1", "message_code", "Message code", "Numeric message from the grid operator (Dutch meters)",
           Rule.UNREAD, in_json=False),
    _meter("0-0:96.7.21", "power_failures", "Power failures", "Number of power failures in any phase",
           Rule.INTEGER),
    _meter("0-0:96.7.9", "long_power_failures", "Long power failures", "Number of long power failures in any phase",
           Rule.INTEGER),
    _meter("1-0:99.97.0", "power_failure_log", "Power failure log",
           "Log of long power failures: end time and duration", Rule.UNREAD, unit="s", in_json=False),
    *_per_phase_counters(),
    Quantity("relay", "Relay n", "Virtual relay n (e-MUCS 2.x): 0 off, 1 on", "0-n:96.3.10", rule=Rule.RELAY,
             in_json=False),
    Quantity("mbus_type", "M-Bus type", "M-Bus device type on channel n: 3 gas, 7 water, 4 heat", "0-n:24.1.0",
             rule=Rule.DEVICE_TYPE, in_json=False),
    Quantity("mbus_id", "M-Bus serial", "M-Bus device serial number, channel n", "0-n:96.1.1",
             rule=Rule.DEVICE_SERIAL, in_json=False),
    Quantity("mbus_id", "M-Bus serial", "M-Bus device serial number, channel n (older form)", "0-n:96.1.0",
             rule=Rule.DEVICE_SERIAL, in_json=False),
    Quantity("mbus_ean", "M-Bus EAN", "M-Bus device EAN code, channel n", "0-n:96.1.2", rule=Rule.DEVICE_EAN,
             in_json=False),
    Quantity("valve", "Gas valve", "Gas valve on channel n: 0 closed, 1 open, 2 ready to reopen", "0-n:24.4.0",
             rule=Rule.VALVE, in_json=False),
    Quantity("gas_m3", "Gas", "Gas (or water) meter reading on channel n, with its capture time", "0-n:24.2.3",
             "m³", Rule.READING, read=_reading("gas", "value"), publish=Publish.SENSOR, device_class="gas",
             state_class="total_increasing", precision=3),
    Quantity("water_m3", "Water", "Water (or gas) meter reading on channel n, with its capture time", "0-n:24.2.1",
             "m³", Rule.READING, read=_reading("water", "value"), publish=Publish.SENSOR, device_class="water",
             state_class="total_increasing", precision=3),
    Quantity("gas_m3", "Gas", "Gas meter reading on channel n, DSMR 2/3 form", "0-n:24.3.0", "m³",
             Rule.OLD_READING, read=_reading("gas", "value"), in_json=False),
    Quantity("gas_time", "Gas read at", "When the gas meter last reported", "0-n:24.2.3",
             read=_time_of(_reading("gas", "time")), publish=Publish.STATE),
    Quantity("water_time", "Water read at", "When the water meter last reported", "0-n:24.2.1",
             read=_time_of(_reading("water", "time")), publish=Publish.STATE),
    Quantity("cost_per_hour_eur", "Cost per hour now", "What the power now costs an hour, at today's prices",
             unit="EUR/h", read=lambda v: v.cost_per_hour_eur, publish=Publish.SENSOR, state_class="measurement",
             precision=4),
    Quantity("cost_today_eur", "Cost today", "What today has cost so far, with the day's share of fixed costs",
             unit="EUR", read=lambda v: v.cost_today_eur, publish=Publish.SENSOR, device_class="monetary",
             state_class="total", precision=2),
    Quantity("forecast_kw", "Quarter forecast", "The running quarter's average if the power now holds to its end",
             unit="kW", read=lambda v: v.forecast_kw, publish=Publish.SENSOR, device_class="power",
             state_class="measurement", precision=3),
    Quantity("headroom_kw", "Peak headroom", "The average power still allowed for the rest of the quarter without "
             "a new month peak (within what the connection carries)", unit="kW", read=lambda v: v.headroom_kw,
             publish=Publish.SENSOR, device_class="power", state_class="measurement", precision=3),
    Quantity("month_peak_so_far_kw", "Month peak so far", "This month's highest quarter so far: the meter's "
             "1-0:1.6.0 when it is this month's, or the history's when higher", unit="kW",
             read=lambda v: v.month_peak_so_far_kw, publish=Publish.SENSOR,
             device_class="power", state_class="measurement", precision=3),
    Quantity("new_peak_likely", "New peak likely", "The running quarter heads above the month peak (at least "
             "2.5 kW)", read=lambda v: v.new_peak_likely, publish=Publish.BINARY_SENSOR),
    Quantity("forecast_cost_eur", "Forecast peak cost", "What the forecast quarter adds to the capacity bills of the "
             "next 12 months, above the month peak", unit="EUR", read=lambda v: v.forecast_cost_eur,
             publish=Publish.SENSOR, device_class="monetary", state_class="total", precision=2),
)  # fmt: skip

_BY_CODE: dict[str, Quantity] = {}
for _row in QUANTITIES:
    if _row.code:
        _BY_CODE.setdefault(_row.code, _row)
BY_KEY: dict[str, Quantity] = {}
for _row in QUANTITIES:
    BY_KEY.setdefault(_row.key, _row)

# What the parser reads, by code: the rows that carry a parse rule.
PARSED: dict[str, Quantity] = {row.code: row for row in QUANTITIES if row.code and row.rule is not None}
_CHANNEL = re.compile(r"^0-[1-9]:")


def describe(code: str) -> Quantity:
    """What `code` is; an unknown code gets a neutral row rather than an error, so nothing is hidden."""
    row = _BY_CODE.get(code)
    if row is None and _CHANNEL.match(code):
        generic = _BY_CODE.get("0-n:" + code.split(":", 1)[1])
        if generic is not None:
            channel = code[2]
            return Quantity(
                generic.key,
                generic.label.replace("Relay n", f"Relay {channel}"),
                generic.description.replace("channel n", f"channel {channel}").replace("relay n", f"relay {channel}"),
                code,
                generic.unit,
            )
    return row or Quantity("unknown", "Unknown", "Object this program does not know", code)


def phase_rows(phase: int = 1) -> tuple[Quantity, ...]:
    """The per-phase values, in table order, for one phase."""
    return tuple(row for row in QUANTITIES if row.phase == phase)


def published() -> tuple[Quantity, ...]:
    """Rows that go out over MQTT, the first of each key."""
    return tuple(row for row in BY_KEY.values() if row.publish is not Publish.NO)
