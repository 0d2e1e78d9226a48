"""Local (Brussels) calendar arithmetic for the store: quarters are keyed in UTC, shown and grouped locally."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from meter_tui.p1.values import BRUSSELS


@lru_cache(maxsize=4096)
def _day_of_hour(hour: int) -> int:
    local = datetime.fromtimestamp(hour * 3600, UTC).astimezone(BRUSSELS)
    return local.year * 10000 + local.month * 100 + local.day


def day_key(utc_seconds: int) -> int:
    """The local date of a UTC instant as YYYYMMDD (Brussels offsets are whole hours, so hours suffice)."""
    return _day_of_hour(utc_seconds // 3600)


def key_of(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def date_of(key: int) -> date:
    return date(key // 10000, key // 100 % 100, key % 100)


def local_midnight_utc(day: date) -> int:
    """UTC epoch seconds of local midnight starting `day` (23- and 25-hour days come out right)."""
    return int(datetime.combine(day, time(0), tzinfo=BRUSSELS).timestamp())


def local_time(utc_seconds: int) -> datetime:
    return datetime.fromtimestamp(utc_seconds, UTC).astimezone(BRUSSELS)


def next_day(day: date) -> date:
    return day + timedelta(days=1)


EARLIEST = local_midnight_utc(date(2000, 1, 1))  # before any digital meter or day-ahead market in Belgium
AHEAD = 2 * 86400  # day-ahead prices are published for tomorrow; a little more for a clock that is off


def implausible_time(utc_seconds: int, now: float) -> str | None:
    """Why a quarter start read from a file cannot be true (before 2000, or after tomorrow), or None. A row dated
    9999 would be stored and then break `export` and every report that spans it."""
    if utc_seconds < EARLIEST:
        return f"{local_time(utc_seconds):%Y-%m-%d} is before 2000"
    if utc_seconds > now + AHEAD:
        return f"{local_time(utc_seconds):%Y-%m-%d} is in the future"
    return None


def in_brussels(naive: datetime, key: Hashable, seen: dict[Any, int]) -> datetime:
    """A local time read from a file, made aware. The October night's repeated hour: the first time `key` is seen
    it is summer time, the second time winter time. Only such hours are remembered in `seen`, so a file of years
    keeps a handful of keys, not one per row."""
    local = naive.replace(tzinfo=BRUSSELS)
    if naive.hour == 2 and local.utcoffset() != local.replace(fold=1).utcoffset():
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        local = local.replace(fold=1 if occurrence else 0)
    return local
