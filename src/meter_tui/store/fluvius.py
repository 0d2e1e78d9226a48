"""Fluvius "Mijn Fluvius" history exports (verbruikshistoriek): quarter-hour electricity and hourly gas, in Dutch
or English, read into the quarter table.

UTF-8 with a BOM, ';' separated, decimal comma, EAN as ="...", one row per (interval, register), local Belgian
time. An empty volume with 'Geen verbruik' / 'No consumption' is a measured zero, stored as a quarter of 0 kWh
(missing is not zero, and zero is not missing); an empty volume with any other status is no data. In October the
02:00-03:00 hour comes twice: the first time a local time is seen it is summer time, the second time winter time.
Importing sets values rather than adding them, so importing the same file again changes nothing; a quarter that
P1 telegrams already filled is left as the meter measured it.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dt_time
from functools import lru_cache
from pathlib import Path

from meter_tui.p1.values import BRUSSELS
from meter_tui.store.database import transaction
from meter_tui.store.localtime import day_key, implausible_time, in_brussels
from meter_tui.store.rows import NOT_UTF8, RefusedRows, csv_rows

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
_NO_CONSUMPTION = {"geen verbruik", "no consumption"}  # the status of a measured zero, written with no volume


def is_fluvius_export(head: bytes) -> bool:
    text = head.decode("utf-8-sig", errors="replace")
    return any(text.startswith(name + ";") for name in _HEADERS)


# The largest a row may hold: a quarter of 100 kWh is 400 kW, beyond any low-voltage connection (3x250 A is 173 kVA);
# an hour of 100 m3 of gas is 16 times what a household's G6 meter passes; its kWh twin at 12 kWh/m3.
_MAX_QUARTER_KWH = 100.0
_MAX_HOUR_M3 = 100.0
_MAX_HOUR_GAS_KWH = 1200.0
CONFLICTS_KEPT = 10  # values that differ from the history's, listed with both values; the rest are counted
BATCH = 20_000  # quarters held in memory at once: a file of years streams through in batches of this size

Quarters = dict[int, dict[str, int]]


@dataclass(slots=True)
class FluviusResult(RefusedRows):
    rows: int = 0
    quarters: int = 0
    empty: int = 0
    conflicts: int = 0  # values the history already had otherwise (kept, or replaced with --replace)
    completed: int = 0  # quarters the history had that the file gave new data (gas to electricity, or the reverse)
    conflict_lines: list[str] = field(default_factory=list)  # the first CONFLICTS_KEPT of them, both values


def export_batches(
    path: Path, result: FluviusResult, progress: Callable[[int], None] | None = None
) -> Iterator[Quarters]:
    """The export as {UTC quarter start: {column: value}} batches of about BATCH quarters, read as a stream: a file
    of 200 MB never sits in memory. A batch ends between intervals, so an hour's m3 and kWh gas rows stay together.
    Bad rows are reported in `result` and skipped."""
    batch: Quarters = {}
    seen: dict[tuple[str, str, str, str], int] = {}
    date_format = ""
    now = time.time()
    for number, row in csv_rows(path, ";"):
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
            start, column, value = _parse_row(row, date_format, seen, now)
        except ValueError as error:
            cause = "not UTF-8 text" if any(NOT_UTF8 in cell for cell in row) else error
            result.refuse(f"{path.name}: line {number}: {cause}")
            continue
        if value is None:
            result.empty += 1
            continue
        if len(batch) >= BATCH and start not in batch:
            result.quarters += len(batch)
            yield batch
            batch = {}
        batch.setdefault(start, {})[column] = value
    result.quarters += len(batch)
    if batch:
        yield batch


def read_export(path: Path, progress: Callable[[int], None] | None = None) -> tuple[Quarters, FluviusResult]:
    """The whole export at once (small files, tests); `import` streams it with `export_batches`."""
    result = FluviusResult()
    quarters: Quarters = {}
    for batch in export_batches(path, result, progress):
        quarters.update(batch)
    result.quarters = len(quarters)
    return quarters, result


@lru_cache(maxsize=1024)
def _day(text: str, date_format: str) -> date:
    """A row's date: the same text comes 384 times a day (96 quarters, 4 registers), so it is parsed once."""
    return datetime.strptime(text, date_format).date()


@lru_cache(maxsize=256)
def _clock(text: str) -> dt_time:
    return datetime.strptime(text, "%H:%M:%S").time()


def _start(from_date: str, from_time: str, date_format: str, key: tuple[str, str, str, str],
           seen: dict[tuple[str, str, str, str], int]) -> int:  # fmt: skip
    """The UTC start of a row's interval (the repeated October hour told apart by its local time and register)."""
    try:
        naive = datetime.combine(_day(from_date, date_format), _clock(from_time))
    except ValueError:
        raise ValueError(f"bad date or time {from_date!r} {from_time!r}") from None
    start = int(in_brussels(naive, key, seen).timestamp())
    if start % 900:
        raise ValueError(f"{from_time} is not the start of a quarter-hour")
    return start


def _amount(volume: str, most: float, unit: str) -> float:
    """A row's volume: a finite number from 0 to `most` (inf, nan or 1e30 would end the import or the reports)."""
    try:
        amount = float(volume.replace(".", "").replace(",", ".")) if "," in volume else float(volume)
    except ValueError:
        raise ValueError(f"bad volume {volume!r}") from None
    if not math.isfinite(amount):
        raise ValueError(f"volume {volume!r} is not a finite number")
    if amount < 0:
        raise ValueError(f"negative volume {volume!r}")
    if amount > most:
        raise ValueError(f"volume {volume!r} is more than {most:g} {unit}, not a household's")
    return amount


def _parse_row(
    row: list[str], date_format: str, seen: dict[tuple[str, str, str, str], int], now: float
) -> tuple[int, str, int | None]:
    if len(row) < 11:
        raise ValueError(f"expected at least 11 fields, found {len(row)}")
    from_date, from_time, register, volume, unit = row[0], row[1], row[7].strip(), row[8].strip(), row[9].strip()
    start = _start(from_date, from_time, date_format, (from_date, from_time, register, unit), seen)
    if (wrong := implausible_time(start, now)) is not None:
        raise ValueError(wrong)
    if not volume and row[10].strip().lower() not in _NO_CONSUMPTION:
        return start, "", None  # an empty volume with any other status is no data
    volume = volume or "0"  # "No consumption": the meter measured nothing, a quarter of zero
    lowered = register.lower()
    if lowered in _REGISTERS:
        if unit != "kWh":
            raise ValueError(f"electricity in {unit!r}, expected kWh")
        return start, _REGISTERS[lowered], round(_amount(volume, _MAX_QUARTER_KWH, "kWh a quarter") * 1000)
    if lowered in _GAS:
        if unit in ("m³", "m3"):
            return start, "gas_l", round(_amount(volume, _MAX_HOUR_M3, "m3 an hour") * 1000)
        if unit == "kWh":  # the m3 row's twin: the month's conversion factor
            return start, "gas_wh", round(_amount(volume, _MAX_HOUR_GAS_KWH, "kWh an hour") * 1000)
        raise ValueError(f"gas in {unit!r}, expected m³ or kWh")
    raise ValueError(f"unknown register {register!r}")


_COLUMNS = ("import_day_wh", "import_night_wh", "export_day_wh", "export_night_wh", "gas_l")
_NAMES = {"import_day_wh": "offtake day", "import_night_wh": "offtake night", "export_day_wh": "injection day",
          "export_night_wh": "injection night", "gas_l": "gas"}  # fmt: skip


def _conflicts(db: sqlite3.Connection, quarters: Quarters, result: FluviusResult, replace: bool) -> None:
    """Compare the batch with what earlier imports stored: a value known otherwise is counted and listed, and
    dropped from the batch (the history keeps it) unless `replace`. A Fluvius quarter knows its electricity when an
    electricity row set its average, its gas when it holds some; P1 quarters are never touched by an import."""
    starts = list(quarters)
    for index in range(0, len(starts), 500):
        part = starts[index : index + 500]
        rows = db.execute(
            "SELECT start, import_day_wh, import_night_wh, export_day_wh, export_night_wh, gas_l, average_w"
            f" FROM quarter WHERE source = 'fluvius' AND start IN ({','.join('?' * len(part))})",
            part,
        ).fetchall()
        for start, *stored, average in rows:
            values = quarters[start]
            pairs = zip(_COLUMNS, stored, strict=True)
            knowns = [old != 0 if column == "gas_l" else average is not None for column, old in pairs]
            result.completed += any(c in values and not k for c, k in zip(_COLUMNS, knowns, strict=True))
            for column, old, known in zip(_COLUMNS, stored, knowns, strict=True):
                new = values.get(column)
                if new is None or new == old or not known:
                    continue
                result.conflicts += 1
                if len(result.conflict_lines) < CONFLICTS_KEPT:
                    result.conflict_lines.append(_conflict_words(start, column, old, new, replace))
                if not replace:
                    del values[column]


def _conflict_words(start: int, column: str, old: int, new: int, replace: bool) -> str:
    unit = "m3" if column == "gas_l" else "kWh"
    when = datetime.fromtimestamp(start, BRUSSELS)
    outcome = "replaced by" if replace else "kept, the file says"
    return f"{when:%Y-%m-%d %H:%M%z} {_NAMES[column]}: {old / 1000:.3f} {unit} {outcome} {new / 1000:.3f} {unit}"


def _write_batch(db: sqlite3.Connection, quarters: Quarters) -> None:
    for column in _COLUMNS:
        db.executemany(
            f"INSERT INTO quarter (start, day, {column}, source) VALUES (?, ?, ?, 'fluvius')"  # column: one of ours
            f" ON CONFLICT(start) DO UPDATE SET {column} = excluded.{column} WHERE source = 'fluvius'",
            ((start, day_key(start), values[column]) for start, values in quarters.items() if column in values),
        )
    db.executemany(
        "UPDATE quarter SET average_w = (import_day_wh + import_night_wh) * 4 WHERE start = ? AND source = 'fluvius'",
        ((start,) for start, values in quarters.items() if values.keys() - {"gas_l", "gas_wh"}),
    )


def store_export(
    connection: sqlite3.Connection,
    batches: Iterable[Quarters],
    result: FluviusResult | None = None,
    *,
    replace: bool = False,
) -> None:
    """Write the batches in one transaction (all of the file or none of it): set, never add; P1-measured quarters
    are kept as they are, and so is a value an earlier import stored otherwise, unless `replace` (each such
    conflict is counted in `result`). The gas conversion factors are summed over the whole file."""
    months: dict[str, tuple[int, int]] = {}
    found = result if result is not None else FluviusResult()

    def write(db: sqlite3.Connection) -> None:
        for quarters in batches:
            _conflicts(db, quarters, found, replace)
            _write_batch(db, quarters)
            for month, (wh, litres) in gas_months(quarters).items():
                known_wh, known_litres = months.get(month, (0, 0))
                months[month] = (known_wh + wh, known_litres + litres)
        db.executemany(
            "INSERT INTO gas_factor (month, kwh, m3) VALUES (?, ?, ?)"
            " ON CONFLICT(month) DO UPDATE SET kwh = excluded.kwh, m3 = excluded.m3",
            [(month, wh / 1000, litres / 1000) for month, (wh, litres) in months.items()],
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
