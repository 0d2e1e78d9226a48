"""The typed, immutable telegram and its parts.

Fields are None when the telegram does not carry the object, so "absent" is never confused with zero. Energy is in
kWh and power in kW whatever unit the meter used (some foreign meters send Wh and W).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple


class Tariff(StrEnum):
    """The tariff the meter says is active (0-0:96.14.0). Belgian meters: 1 = day, 2 = night."""

    DAY = "day"
    NIGHT = "night"


class MbusKind(StrEnum):
    """What an M-Bus device measures, from its device type (0-n:24.1.0), never from its channel number."""

    GAS = "gas"
    WATER = "water"
    HEAT = "heat"
    OTHER = "other"


DEAD_PHASE_V = 50.0  # below this a phase of a 400 V grid has lost its supply

DataObject = tuple[str, str]
"""One object exactly as sent: (OBIS code, its values with their parentheses, e.g. '(231102114500W)(03.064*kW)').

Every line is kept, known or not, and nothing is lost in a round trip. A plain tuple because a telegram holds 20
to 60 of them and is built every second; `values_of` splits the values when they are wanted.
"""


def values_of(sent: str) -> tuple[str, ...]:
    """'(a)(b)' -> ('a', 'b')."""
    return tuple(sent[1:-1].split(")("))


class Phase(NamedTuple):
    """Instantaneous values of one phase (1, 2 or 3)."""

    phase: int
    import_kw: float | None = None
    export_kw: float | None = None
    voltage_v: float | None = None
    current_a: float | None = None


@dataclass(frozen=True, slots=True)
class Peak:
    """A quarter-hour average peak: when the quarter was and its average import power."""

    time: datetime | None
    kw: float | None


@dataclass(frozen=True, slots=True)
class MonthPeak:
    """One entry of the 13-month history (0-0:98.1.0): the month it is for and that month's peak.

    `month` is the first day of the month the peak belongs to: the meter stamps each entry with the start of the
    following month, when the entry closed. A placeholder entry (a month without data) has `time` and `kw` None.
    """

    month: date
    time: datetime | None
    kw: float | None


@dataclass(frozen=True, slots=True)
class MbusReading:
    """A reading of an M-Bus meter with the time the meter captured it (updated every 5 minutes)."""

    time: datetime | None
    value: float
    unit: str


class MbusDevice(NamedTuple):
    """A device on an M-Bus channel (gas, water, heat meter)."""

    channel: int
    device_type: int | None = None
    serial: str | None = None
    ean: str | None = None
    valve: int | None = None
    reading: MbusReading | None = None

    @property
    def kind(self) -> MbusKind:
        return _KINDS.get(self.device_type, MbusKind.OTHER) if self.device_type is not None else MbusKind.OTHER


_KINDS = {3: MbusKind.GAS, 7: MbusKind.WATER, 4: MbusKind.HEAT, 12: MbusKind.HEAT}


class Telegram(NamedTuple):
    """A telegram that passed framing, CRC and value checks.

    Telegram, Phase and MbusDevice are named tuples rather than frozen dataclasses: as immutable, but built in C.
    One is made per telegram (and per phase and M-Bus device), and a frozen dataclass's generated `__init__` was a
    sixth of the parse time.
    """

    header: str
    crc: int | None
    objects: tuple[DataObject, ...]
    raw: bytes = b""
    version: str | None = None
    timestamp: datetime | None = None
    equipment_id: str | None = None
    ean: str | None = None
    grid_config_v: int | None = None
    import_day_kwh: float | None = None
    import_night_kwh: float | None = None
    export_day_kwh: float | None = None
    export_night_kwh: float | None = None
    import_total_kwh: float | None = None
    export_total_kwh: float | None = None
    tariff: Tariff | None = None
    power_import_kw: float | None = None
    power_export_kw: float | None = None
    quarter_average_kw: float | None = None
    month_peak: Peak | None = None
    peak_history: tuple[MonthPeak, ...] | None = None
    phases: tuple[Phase, ...] = ()
    breaker: int | None = None
    limiter_kw: float | None = None
    fuse_a: float | None = None
    relays: tuple[tuple[int, int], ...] = ()
    message: str | None = None
    power_failures: int | None = None
    long_power_failures: int | None = None
    mbus: tuple[MbusDevice, ...] = ()
    # Values of the quantities table without a field of their own (voltage sag and swell counters): (key, value).
    extra: tuple[tuple[str, int | float | str], ...] = ()

    @property
    def crc_status(self) -> str:
        """'ok' when a CRC was sent and matched (a mismatch never becomes a Telegram), 'none' for CRC-less meters."""
        return "none" if self.crc is None else "ok"

    @property
    def gas(self) -> MbusDevice | None:
        return self._device(MbusKind.GAS)

    @property
    def water(self) -> MbusDevice | None:
        return self._device(MbusKind.WATER)

    def _device(self, kind: MbusKind) -> MbusDevice | None:
        """The device of this kind with the newest reading: a second, stale gas meter must not hide the live one."""
        best: MbusDevice | None = None
        for device in self.mbus:
            if device.kind is not kind:
                continue
            if best is None or _newer(device.reading, best.reading):
                best = device
        return best

    def extra_value(self, key: str) -> int | float | str | None:
        for name, value in self.extra:
            if name == key:
                return value
        return None

    def dead_phases(self) -> tuple[int, ...]:
        """Phases of a three-phase meter on a 400 V grid that measure no voltage (a blown fuse, a cut wire). A meter
        that says its grid is 3x230 V measures no voltage on L2: that is normal, not a dead phase."""
        if len(self.phases) != 3 or self.grid_config_v == 230:
            return ()
        return tuple(p.phase for p in self.phases if p.voltage_v is not None and p.voltage_v < DEAD_PHASE_V)

    def phase(self, number: int) -> Phase | None:
        for phase in self.phases:
            if phase.phase == number:
                return phase
        return None


def _newer(candidate: MbusReading | None, current: MbusReading | None) -> bool:
    if candidate is None or candidate.time is None:
        return False
    return current is None or current.time is None or candidate.time > current.time
