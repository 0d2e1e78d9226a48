"""bytes -> telegrams: framing, CRC, parsing and the OBIS registry. Pure code: no I/O, no clock."""

from meter_tui.p1.errors import CrcError, FramingError, TelegramError, TelegramValueError
from meter_tui.p1.obis import REGISTRY, ObisInfo, describe
from meter_tui.p1.parser import parse_telegram
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
    "REGISTRY",
    "CrcError",
    "DataObject",
    "FramingError",
    "MbusDevice",
    "MbusKind",
    "MbusReading",
    "MonthPeak",
    "ObisInfo",
    "Peak",
    "Phase",
    "Tariff",
    "Telegram",
    "TelegramError",
    "TelegramValueError",
    "describe",
    "parse_telegram",
]
