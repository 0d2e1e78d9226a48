"""bytes -> telegrams: framing, CRC, parsing and the quantities table. Pure code: no I/O, no clock."""

from meter_tui.p1.errors import CrcError, FramingError, ImplausibleError, TelegramError, TelegramValueError
from meter_tui.p1.parser import parse_telegram
from meter_tui.p1.quantities import QUANTITIES, LiveValues, Quantity, describe
from meter_tui.p1.telegram import (
    DataObject,
    MbusDevice,
    MbusKind,
    MbusReading,
    MonthPeak,
    Peak,
    Phase,
    Tariff,
    Telegram,
)

__all__ = [
    "QUANTITIES",
    "CrcError",
    "DataObject",
    "FramingError",
    "ImplausibleError",
    "LiveValues",
    "MbusDevice",
    "MbusKind",
    "MbusReading",
    "MonthPeak",
    "Peak",
    "Phase",
    "Quantity",
    "Tariff",
    "Telegram",
    "TelegramError",
    "TelegramValueError",
    "describe",
    "parse_telegram",
]
