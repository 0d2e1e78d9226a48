"""Fluvius "Mijn Fluvius" history exports (verbruikshistoriek): quarter-hour electricity and hourly gas, in Dutch
or English, read into the quarter table.

UTF-8 with a BOM, ';' separated, decimal comma, EAN as ="...", one row per (interval, register), local Belgian
time. An empty volume with 'Geen verbruik' / 'No consumption' means no data, not zero. In October the 02:00-03:00
hour comes twice: the first time a local time is seen it is summer time, the second time winter time.
Importing sets values rather than adding them, so importing the same file again changes nothing; a quarter that
P1 telegrams already filled is left as the meter measured it.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from meter_tui.p1.values import BRUSSELS
from meter_tui.store.database import transaction
from meter_tui.store.localtime import day_key

_HEADERS = {"Van datum": ("%d-%m-%Y", "nl"), "From (date)": ("%d/%m/%Y", "en")}
_REGISTERS = {
    "afname dag": "import_day_wh",
    "offtake day": "import_day_wh",
    "afname nacht": "import_night_wh",
    "offtake night": "import_night_wh",
    "injectie dag": "export_day_wh",
    "injection day": "export_day_wh",
    "injectie nacht": "export_night_wh",
    "injection night": "export_night_wh",
}
_GAS = {"afname", "offtake"}


def is_fluvius_export(head: bytes) -> bool:
    text = head.decode("utf-8-sig", errors="replace")
    return any(text.startswith(name + ";") for name in _HEADERS)


@dataclass(slots=True)
class FluviusResult:
    rows: int = 0
    quarters: int = 0
    empty: int = 0
    problems: list[str] = field(default_factory=list)


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        yield from enumerate(csv.reader(handle, delimiter=";"), start=1)


def read_export(
    path: Path, progress: Callable[[int], None] | None = None
) -> tuple[dict[int, dict[str, int]], FluviusResult]:
    """Parse a Fluvius export into {UTC quarter start: {column: value}}; bad rows are reported and skipped."""
    result = FluviusResult()
    quarters: dict[int, dict[str, int]] = {}
    seen: dict[tuple[str, str, str, str], int] = {}
    date_format = ""
    for number, row in _rows(path):
        if number == 1:
            if not row or row[0] not in _HEADERS:
                raise ValueError(f"{path}: line 1: not a Fluvius export header")
            date_format = _HEADERS[row[0]][0]
            continue
        if progress is not None and number % 1000 == 0:
            progress(number)
        if not row or not any(row):
            continue
        result.rows += 1
        try:
            start, column, value = _parse_row(row, date_format, seen)
        except ValueError as error:
            result.problems.append(f"{path.name}: line {number}: {error}")
            continue
        if value is None:
            result.empty += 1
            continue
        quarters.setdefault(start, {})[column] = value
    result.quarters = len(quarters)
    return quarters, result


def _parse_row(
    row: list[str], date_format: str, seen: dict[tuple[str, str, str, str], int]
) -> tuple[int, str, int | None]:
    if len(row) < 11:
        raise ValueError(f"expected at least 11 fields, found {len(row)}")
    from_date, from_time, register, volume, unit = row[0], row[1], row[7].strip(), row[8].strip(), row[9].strip()
    try:
        naive = datetime.strptime(f"{from_date} {from_time}", f"{date_format} %H:%M:%S")
    except ValueError:
        raise ValueError(f"bad date or time {from_date!r} {from_time!r}") from None
    # The repeated October hour: the first time this local time and register appear it is summer time.
    key = (from_date, from_time, register, unit)
    occurrence = seen.get(key, 0)
    seen[key] = occurrence + 1
    local = naive.replace(tzinfo=BRUSSELS, fold=1 if occurrence else 0)
    start = int(local.timestamp())
    if start % 900:
        raise ValueError(f"{from_time} is not the start of a quarter-hour")
    if not volume:
        return start, "", None
    try:
        amount = float(volume.replace(".", "").replace(",", ".")) if "," in volume else float(volume)
    except ValueError:
        raise ValueError(f"bad volume {volume!r}") from None
    if amount < 0:
        raise ValueError(f"negative volume {volume!r}")
    lowered = register.lower()
    if lowered in _REGISTERS:
        if unit != "kWh":
            raise ValueError(f"electricity in {unit!r}, expected kWh")
        return start, _REGISTERS[lowered], round(amount * 1000)
    if lowered in _GAS:
        if unit in ("m³", "m3"):
            return start, "gas_l", round(amount * 1000)
        if unit == "kWh":
            return start, "gas_wh", round(amount * 1000)  # the m3 row's twin: the month's conversion factor
        raise ValueError(f"gas in {unit!r}, expected m³ or kWh")
    raise ValueError(f"unknown register {register!r}")


def store_export(connection: sqlite3.Connection, quarters: dict[int, dict[str, int]]) -> None:
    """Write the quarters in one transaction: set, never add; P1-measured quarters are kept as they are."""
    columns = ("import_day_wh", "import_night_wh", "export_day_wh", "export_night_wh", "gas_l")

    def write(db: sqlite3.Connection) -> None:
        for column in columns:
            rows = [(start, day_key(start), values[column]) for start, values in quarters.items() if column in values]
            db.executemany(
                f"INSERT INTO quarter (start, day, {column}, source) VALUES (?, ?, ?, 'fluvius')"  # column: one of ours
                f" ON CONFLICT(start) DO UPDATE SET {column} = excluded.{column} WHERE source = 'fluvius'",
                rows,
            )
        electric = [(start,) for start, values in quarters.items() if values.keys() - {"gas_l", "gas_wh"}]
        db.executemany(
            "UPDATE quarter SET average_w = (import_day_wh + import_night_wh) * 4"
            " WHERE start = ? AND source = 'fluvius'",
            electric,
        )
        db.executemany(
            "INSERT INTO gas_factor (month, kwh, m3) VALUES (?, ?, ?)"
            " ON CONFLICT(month) DO UPDATE SET kwh = excluded.kwh, m3 = excluded.m3",
            [(month, wh / 1000, litres / 1000) for month, (wh, litres) in gas_months(quarters).items()],
        )

    transaction(connection, write)


def gas_months(quarters: dict[int, dict[str, int]]) -> dict[str, tuple[int, int]]:
    """Per local month, the Wh and litres of the hours that have both a kWh and an m3 row: their ratio is the
    month's conversion factor (Fluvius's calorific value times the volume correction)."""
    months: dict[str, tuple[int, int]] = {}
    for start, values in quarters.items():
        if values.get("gas_l") and "gas_wh" in values:
            month = datetime.fromtimestamp(start, BRUSSELS).strftime("%Y-%m")
            wh, litres = months.get(month, (0, 0))
            months[month] = (wh + values["gas_wh"], litres + values["gas_l"])
    return months
