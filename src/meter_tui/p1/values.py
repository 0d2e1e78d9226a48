"""Readers for the value formats inside P1 objects: numbers with units, meter timestamps, hex octet strings.

They raise the standard `ValueError`; the parser turns that into a `TelegramValueError` that names the line.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from meter_tui.p1.plausible import SCALED

BRUSSELS = ZoneInfo("Europe/Brussels")
_OFFSETS = {"S": timezone(timedelta(hours=2)), "W": timezone(timedelta(hours=1))}
# Stamps real meters send for "no value": empty 98.1.0 months, M-Bus devices that never reported.
_PLACEHOLDER_STAMPS = frozenset({"000101000000", "000000000000", "700101000000", "700101010000"})


@lru_cache(maxsize=4096)
def parse_timestamp(text: str) -> datetime | None:
    """`YYMMDDhhmmssX` in Belgian local time -> an aware datetime in Europe/Brussels; None for a placeholder.

    The S (summer, UTC+2) / W (winter, UTC+1) letter fixes the instant, which resolves October's repeated hour.
    Without a letter (DSMR 2/3) the local time is taken as the first of a repeated hour. Meters repeat the same
    stamps every second (the 98.1.0 history, M-Bus captures), hence the cache.
    """
    digits = text[:12]
    letter = text[12:]
    if len(digits) != 12 or not digits.isdigit() or letter not in ("", "S", "W"):
        raise ValueError(f"not a meter timestamp: {text!r}")
    if digits in _PLACEHOLDER_STAMPS:
        return None
    try:
        naive = datetime(
            2000 + int(digits[0:2]),
            int(digits[2:4]),
            int(digits[4:6]),
            int(digits[6:8]),
            int(digits[8:10]),
            int(digits[10:12]),
        )
    except ValueError:
        return None  # 632525252525W and friends: a placeholder, not a damaged telegram
    if letter:
        return naive.replace(tzinfo=_OFFSETS[letter]).astimezone(BRUSSELS)
    return naive.replace(tzinfo=BRUSSELS)


def parse_quantity(text: str) -> tuple[float, str]:
    """`000123.456*kWh` -> (123.456, 'kWh'); W and Wh are scaled to kW and kWh; a missing unit gives ''."""
    number, _, unit = text.partition("*")
    value = float(number)
    kilo = SCALED.get(unit)
    if kilo is not None:
        return value / 1000.0, kilo
    return value, unit


def parse_int(text: str) -> int:
    return int(text.partition("*")[0])


@lru_cache(maxsize=256)
def decode_octets(text: str) -> str:
    """A hex octet string as the text it encodes; text that is not printable hex is returned as sent.

    Cached: serial numbers and EANs are the same in every telegram.
    """
    if not text or len(text) % 2:
        return text
    try:
        decoded = bytes.fromhex(text).decode("ascii")
    except ValueError:
        return text
    return decoded if decoded.isprintable() else text
