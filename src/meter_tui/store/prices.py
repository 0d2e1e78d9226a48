"""Day-ahead prices from CSV files, stored per quarter for dynamic contracts. Everything stays offline: the user
downloads the file and imports it.

Two formats, told apart by their header:
- the ENTSO-E Transparency Platform's export of "Energy Prices" (day-ahead) for the Belgian bidding zone:
  `"MTU (CET/CEST)","Area","Sequence","Day-ahead Price (EUR/MWh)",...` with intervals such as
  `01/10/2025 00:00:00 - 01/10/2025 00:15:00` (15 minutes since the single day-ahead coupling went to quarters
  on 1 October 2025, an hour before), and the older `"MTU (CET/CEST)","Day-ahead Price [EUR/MWh]",...` with
  `01.01.2023 00:00 - 01.01.2023 01:00`. Local time; the October night's repeated hour is marked `(CEST)` then
  `(CET)`, or, unmarked, taken as summer time the first time it is seen. Rows of another sequence than the first
  (or "Without Sequence") and of another area than BE are left out.
- a plain `time,eur_per_mwh` CSV: ISO 8601 times (with an offset, or local Belgian time), one price per quarter,
  or per hour when every time is a whole hour an hour apart.

An hour's price is stored for each of its four quarters. Importing sets prices, so importing a file again changes
nothing; a bad row is reported with its line and skipped, never stored as zero.
"""

from __future__ import annotations

import csv
import math
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from pathlib import Path

from meter_tui.p1.values import BRUSSELS
from meter_tui.store.database import transaction
from meter_tui.store.localtime import implausible_time, in_brussels
from meter_tui.store.rows import NOT_UTF8, RefusedRows, csv_rows

_ENTSOE_TIME = "MTU (CET/CEST)"
_PLAIN = ("time", "eur_per_mwh")
_MARK = re.compile(r"\s*\((CET|CEST)\)\s*$")
_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S")
_MISSING = {"", "-", "n/e", "N/A", "n/a"}


@dataclass(slots=True)
class PriceResult(RefusedRows):
    rows: int = 0
    quarters: int = 0
    left_out: int = 0  # rows of another sequence or area


def _header(head: bytes) -> list[str]:
    text = head.decode("utf-8-sig", errors="replace").splitlines()
    return next(csv.reader(text[:1]), []) if text else []


def is_price_csv(head: bytes) -> bool:
    columns = [c.strip().lower() for c in _header(head)]
    return columns[:2] == list(_PLAIN) or (_ENTSOE_TIME.lower() in columns and _price_column(columns) is not None)


def _price_column(columns: list[str]) -> int | None:
    for index, name in enumerate(columns):
        if name.lower().startswith("day-ahead price") and "eur/mwh" in name.lower():
            return index
    return None


def read_prices(path: Path) -> tuple[dict[int, float], PriceResult]:
    """{UTC quarter start: EUR/MWh} from either format; bad rows are reported by line and skipped."""
    result = PriceResult()
    rows = csv_rows(path)  # read as a stream: only the prices are kept
    header = next(rows, None)
    if header is None:
        raise ValueError(f"{path}: empty file")
    columns = [c.strip() for c in header[1]]
    if [c.lower() for c in columns[:2]] == list(_PLAIN):
        prices = _plain(path.name, rows, result)
    else:
        prices = _entsoe(path.name, columns, rows, result)
    result.quarters = len(prices)
    return prices, result


def _filled(name: str, rows: Iterable[tuple[int, list[str]]], result: PriceResult) -> Iterator[tuple[int, list[str]]]:
    """The rows that hold anything, counted; a row with bytes that are not UTF-8 is refused here."""
    for number, row in rows:
        if any(cell.strip() for cell in row):
            result.rows += 1
            if any(NOT_UTF8 in cell for cell in row):
                result.refuse(f"{name}: line {number}: not UTF-8 text")
                continue
            yield number, row


# EPEX SPOT's harmonised day-ahead limits are -500 and +4,000 EUR/MWh (since 2023; +3,000 before); the bound leaves
# room for the limits to move, and refuses what only a broken file holds (inf, nan, 1e30).
PRICE_BOUND = 10_000.0


def _price(text: str) -> float:
    value = text.strip()
    if value in _MISSING:
        raise ValueError("no price")
    try:
        price = float(value.replace(",", "."))
    except ValueError:
        raise ValueError(f"bad price {value!r}") from None
    if not math.isfinite(price):
        raise ValueError(f"price {value!r} is not a finite number")
    if abs(price) > PRICE_BOUND:
        raise ValueError(f"price {value!r} is not within -{PRICE_BOUND:,.0f} and {PRICE_BOUND:,.0f} EUR/MWh")
    return price


def _plausible(start: datetime, now: float) -> int:
    """The UTC start of a price's interval, refused when before 2000 or after tomorrow."""
    seconds = int(start.timestamp())
    if (wrong := implausible_time(seconds, now)) is not None:
        raise ValueError(wrong)
    return seconds


def _local(text: str, seen: dict[str, int]) -> datetime:
    """A local Belgian time from the export, with its (CET)/(CEST) mark or, unmarked, the repeated-hour rule."""
    mark = _MARK.search(text)
    bare = _MARK.sub("", text).strip()
    for pattern in _FORMATS:
        try:
            naive = datetime.strptime(bare, pattern)
            break
        except ValueError:
            continue
    else:
        raise ValueError(f"bad time {text.strip()!r}")
    if mark is not None:
        return naive.replace(tzinfo=BRUSSELS, fold=1 if mark.group(1) == "CET" else 0)
    return in_brussels(naive, bare, seen)


def _spread(prices: dict[int, float], start: int, minutes: int, price: float) -> None:
    for quarter in range(minutes // 15):
        prices[start + quarter * 900] = price


def _entsoe(
    name: str, columns: list[str], rows: Iterable[tuple[int, list[str]]], result: PriceResult
) -> dict[int, float]:
    lowered = [c.lower() for c in columns]
    time_at, price_at = lowered.index(_ENTSOE_TIME.lower()), _price_column(lowered)
    assert price_at is not None
    sequence_at = lowered.index("sequence") if "sequence" in lowered else None
    area_at = lowered.index("area") if "area" in lowered else None
    prices: dict[int, float] = {}
    seen: dict[str, int] = {}
    now = time.time()
    for number, row in _filled(name, rows, result):
        try:
            if len(row) <= max(time_at, price_at):
                raise ValueError(f"expected {len(columns)} fields, found {len(row)}")
            if sequence_at is not None and row[sequence_at].strip() not in ("", "Without Sequence", "Sequence 1"):
                result.left_out += 1
                continue
            if area_at is not None and row[area_at].strip() and not row[area_at].strip().endswith("BE"):
                result.left_out += 1
                continue
            begin, _, end = row[time_at].partition(" - ")
            if not end:
                raise ValueError(f"bad interval {row[time_at]!r}")
            start = _local(begin, seen)
            minutes = _minutes(start, _local(end, {}))
            _check_quarter(start)
            _spread(prices, _plausible(start, now), minutes, _price(row[price_at]))
        except ValueError as error:
            result.refuse(f"{name}: line {number}: {error}")
    return prices


def _minutes(start: datetime, stop: datetime) -> int:
    """The interval's length: 15 or 60 minutes. On the October night an unmarked end may be the second 02:xx."""
    for end in (stop, stop.replace(fold=1)):
        minutes = round((end.timestamp() - start.timestamp()) / 60)
        if minutes in (15, 60):
            return minutes
    raise ValueError(f"an interval of {round((stop.timestamp() - start.timestamp()) / 60)} minutes, expected 15 or 60")


def _check_quarter(start: datetime) -> None:
    if int(start.timestamp()) % 900:
        raise ValueError(f"{start:%H:%M:%S} is not the start of a quarter-hour")


def _plain(name: str, rows: Iterable[tuple[int, list[str]]], result: PriceResult) -> dict[int, float]:
    parsed: list[tuple[int, float]] = []
    seen: dict[str, int] = {}
    now = time.time()
    for number, row in _filled(name, rows, result):
        try:
            if len(row) < 2:
                raise ValueError(f"expected time,eur_per_mwh, found {len(row)} field")
            text = row[0].strip()
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(f"bad time {text!r} (ISO 8601 expected)") from None
            if moment.tzinfo is None:
                moment = in_brussels(moment, text, seen)
            _check_quarter(moment)
            parsed.append((_plausible(moment, now), _price(row[1])))
        except ValueError as error:
            result.refuse(f"{name}: line {number}: {error}")
    starts = sorted({start for start, _ in parsed})
    steps = [b - a for a, b in pairwise(starts)]
    hourly = bool(steps) and all(s % 3600 == 0 for s in starts) and min(steps) >= 3600
    prices: dict[int, float] = {}
    for start, price in parsed:
        _spread(prices, start, 60 if hourly else 15, price)
    return prices


def store_prices(connection: sqlite3.Connection, prices: dict[int, float]) -> tuple[int, int]:
    """Set the prices in one transaction; returns (new quarters, quarters whose price changed)."""
    counts = [0, 0]

    def write(db: sqlite3.Connection) -> None:
        known = dict(
            db.execute(
                "SELECT start, eur_mwh FROM day_ahead_price WHERE start BETWEEN ? AND ?",
                (min(prices), max(prices)),
            ).fetchall()
        )
        counts[0] = sum(1 for start in prices if start not in known)
        counts[1] = sum(1 for start, price in prices.items() if start in known and known[start] != price)
        db.executemany(
            "INSERT INTO day_ahead_price (start, eur_mwh) VALUES (?, ?)"
            " ON CONFLICT(start) DO UPDATE SET eur_mwh = excluded.eur_mwh",
            sorted(prices.items()),
        )

    if prices:
        transaction(connection, write)
    return counts[0], counts[1]
