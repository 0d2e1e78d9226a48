"""Reading the history back: usage per local day, the quarters of a day, month peaks.

Grouping by local day is one indexed GROUP BY on the stored `day` column: two years of quarters (70,000 rows)
report in milliseconds on a Raspberry Pi.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from meter_tui.energy.capacity import MonthPeakValue
from meter_tui.energy.costs import Usage
from meter_tui.energy.rates import RateBook
from meter_tui.store.localtime import date_of, day_key, key_of, local_midnight_utc, local_time, next_day


@dataclass(frozen=True, slots=True)
class DayRow:
    day: date
    usage: Usage
    peak_kw: float | None
    peak_start: datetime | None
    gaps: int


@dataclass(frozen=True, slots=True)
class QuarterRow:
    start: datetime
    usage: Usage
    average_kw: float | None
    max_kw: float | None
    gap: bool


def _usage(*amounts: int) -> Usage:
    """Usage from the stored integers: four registers in Wh, then gas and water in litres."""
    return Usage(*(amount / 1000 for amount in amounts))


PendingQuarter = tuple[int, int, int, int, int, int, int]  # UTC start, 4 registers in Wh, gas l, water l


def days(
    connection: sqlite3.Connection, first: date, last: date, pending: Iterable[PendingQuarter] = ()
) -> list[DayRow]:
    """Usage of every local day from `first` to `last` included that has data, in order, with the day-ahead
    prices of its quarters summed for dynamic contracts (see `Usage`). `pending` is what the owner gathered but has
    not committed yet: it goes through the same SQL as the stored quarters, so that it is priced at its quarters'
    day-ahead prices (or counted as unpriced) exactly as it will be once committed."""
    source, parameters = _quarters_with(pending, key_of(first), key_of(last))
    energy = "q.import_day_wh + q.import_night_wh + q.export_day_wh + q.export_night_wh > 0"
    # A quarter partly committed and partly pending is one quarter: unpriced quarters are counted by start.
    if has_prices(connection):
        spot = (
            ", total((q.import_day_wh + q.import_night_wh) * p.eur_mwh), total((q.export_day_wh"
            " + q.export_night_wh) * p.eur_mwh), total(CASE WHEN p.eur_mwh IS NOT NULL THEN q.import_day_wh"
            " + q.import_night_wh END), total(CASE WHEN p.eur_mwh IS NOT NULL THEN q.export_day_wh"
            f" + q.export_night_wh END), count(DISTINCT CASE WHEN p.eur_mwh IS NULL AND {energy} THEN q.start END)"
            f" FROM {source} q LEFT JOIN day_ahead_price p ON p.start = q.start"
        )
    else:
        spot = f", 0, 0, 0, 0, count(DISTINCT CASE WHEN {energy} THEN q.start END) FROM {source} q"
    rows = connection.execute(
        "SELECT q.day, sum(q.import_day_wh), sum(q.import_night_wh), sum(q.export_day_wh), sum(q.export_night_wh),"
        " sum(q.gas_l), sum(q.water_l), max(q.average_w), q.start, sum(q.gap)" + spot + " GROUP BY q.day"
        " ORDER BY q.day",
        parameters,
    ).fetchall()
    result = []
    for day, d, n, ed, en, gas, water, peak_w, peak_start, gaps, i_eur, e_eur, i_wh, e_wh, unpriced in rows:
        usage = Usage(d / 1000, n / 1000, ed / 1000, en / 1000, gas / 1000, water / 1000,
                      i_eur / 1e6, e_eur / 1e6, i_wh / 1000, e_wh / 1000, unpriced)  # fmt: skip
        result.append(
            DayRow(
                date_of(day),
                usage,
                peak_w / 1000 if peak_w is not None else None,
                local_time(peak_start) if peak_w is not None else None,
                gaps,
            )
        )
    return result


def _quarters_with(pending: Iterable[PendingQuarter], first_key: int, last_key: int) -> tuple[str, list[int]]:
    """The stored quarters of the days `first_key` to `last_key`, and the pending ones of those days, as one
    subquery (the pending ones have no average yet and no gap of their own) and its parameters."""
    stored = (
        "SELECT start, day, import_day_wh, import_night_wh, export_day_wh, export_night_wh, gas_l, water_l,"
        " average_w, gap FROM quarter WHERE day BETWEEN ? AND ?"
    )
    parameters = [first_key, last_key]
    rows = [(start, day_key(start), *amounts) for start, *amounts in pending]
    rows = [row for row in rows if first_key <= row[1] <= last_key]
    if rows:
        stored += " UNION ALL VALUES " + ", ".join("(?, ?, ?, ?, ?, ?, ?, ?, NULL, 0)" for _ in rows)
        parameters += [value for row in rows for value in row]
    return f"({stored})", parameters


def has_prices(connection: sqlite3.Connection) -> bool:
    """Whether day-ahead prices were imported (a history written by an older meter-tui has not even the table)."""
    try:
        return connection.execute("SELECT 1 FROM day_ahead_price LIMIT 1").fetchone() is not None
    except sqlite3.OperationalError:
        return False


def gas_factors(connection: sqlite3.Connection) -> dict[date, float]:
    """kWh per m3 of each month an imported Fluvius gas export covers (its kWh over its m3)."""
    try:
        rows = connection.execute("SELECT month, kwh, m3 FROM gas_factor WHERE m3 > 0").fetchall()
    except sqlite3.OperationalError:
        return {}
    return {date.fromisoformat(month + "-01"): kwh / m3 for month, kwh, m3 in rows}


def spot_price(connection: sqlite3.Connection, start: int) -> float | None:
    """The day-ahead price (EUR/MWh) of the quarter starting at `start` (UTC epoch seconds), None when unknown."""
    try:
        row = connection.execute("SELECT eur_mwh FROM day_ahead_price WHERE start = ?", (start,)).fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def quarters(connection: sqlite3.Connection, day: date) -> list[QuarterRow]:
    """The quarters of one local day (92, 96 or 100 of them around DST), oldest first."""
    rows = connection.execute(
        "SELECT start, import_day_wh, import_night_wh, export_day_wh, export_night_wh, gas_l, water_l,"
        " average_w, max_w, gap FROM quarter WHERE start >= ? AND start < ? ORDER BY start",
        (local_midnight_utc(day), local_midnight_utc(next_day(day))),
    ).fetchall()
    return [
        QuarterRow(
            local_time(start),
            _usage(d, n, ed, en, gas, water),
            average / 1000 if average is not None else None,
            max_w / 1000 if max_w is not None else None,
            bool(gap),
        )
        for start, d, n, ed, en, gas, water, average, max_w, gap in rows
    ]


def month_peaks(connection: sqlite3.Connection) -> list[MonthPeakValue]:
    """Every month's peak: the highest of what the meters said (1-0:1.6.0, 0-0:98.1.0) and of the stored quarters
    with a known average (the meter's 1-0:1.4.0, or the energy of a gap-free quarter). Older firmware and imported
    history have only quarters; after a meter swap the old meter's peak stays the month's, and a quarter the store
    saw whole is never below the month's peak."""
    peaks: dict[date, MonthPeakValue] = {}
    for day, average_w, start in connection.execute(
        "SELECT day / 100, max(average_w), start FROM quarter WHERE average_w IS NOT NULL GROUP BY day / 100"
    ):
        month = date(day // 100, day % 100, 1)
        peaks[month] = MonthPeakValue(month, average_w / 1000, local_time(start), "quarters")
    for month_text, kw, when in connection.execute("SELECT month, kw, time FROM month_peak"):
        month = date.fromisoformat(month_text + "-01")
        known = peaks.get(month)
        # The meter wins a tie (it rounds to 1 W as the store does) and anything within 1 W.
        if known is None or kw >= known.kw - 0.001:
            peaks[month] = MonthPeakValue(month, kw, local_time(when) if when is not None else None, "meter")
    return [peaks[month] for month in sorted(peaks)]


def data_range(connection: sqlite3.Connection) -> tuple[date, date] | None:
    first, last = connection.execute("SELECT min(day), max(day) FROM quarter").fetchone()
    if first is None:
        return None
    return date_of(first), date_of(last)


@dataclass(frozen=True, slots=True)
class LastState:
    """Where the meter was at the last stored telegram: what a meter that resumes goes on from."""

    time: int  # UTC epoch seconds
    registers_wh: tuple[int, int, int, int]  # import day, import night, export day, export night
    gas_l: int
    water_l: int
    quarter_import_wh: int  # imported so far in the quarter of `time`
    meter_peaks: tuple[tuple[str, float, datetime | None], ...]  # ('YYYY-MM', kW, when) the meter said, by month
    equipment_id: str | None = None  # the serial of the meter that sent that telegram


def last_state(connection: sqlite3.Connection) -> LastState | None:
    """None when no telegram with all four registers was ever stored."""
    state = connection.execute(
        "SELECT time, import_day_wh, import_night_wh, export_day_wh, export_night_wh, gas_l, water_l, equipment_id"
        " FROM meter_state WHERE id = 1"
    ).fetchone()
    if state is None or None in state[1:5]:
        return None
    time = state[0]
    quarter = connection.execute(
        "SELECT import_day_wh + import_night_wh FROM quarter WHERE start = ?", (time - time % 900,)
    ).fetchone()
    peaks = connection.execute("SELECT month, kw, time FROM month_peak WHERE source = 'meter' ORDER BY month")
    return LastState(
        time,
        tuple(state[1:5]),
        state[5] or 0,
        state[6] or 0,
        quarter[0] if quarter else 0,
        tuple((month, kw, local_time(when) if when is not None else None) for month, kw, when in peaks),
        state[7],
    )


@dataclass(frozen=True, slots=True)
class DayReading:
    """The meter's registers at the first telegram accepted on a local day."""

    time: int  # UTC epoch seconds, meter clock
    registers_wh: tuple[int | None, ...]  # import day, import night, export day, export night
    equipment_id: str | None


def day_readings(connection: sqlite3.Connection, first: date, last: date) -> dict[date, DayReading]:
    """The day readings of the local days `first` to `last`. A history of a meter-tui before them, opened read-only
    (not migrated), has none: the audit then says so instead of failing."""
    try:
        rows = connection.execute(
            "SELECT day, time, import_day_wh, import_night_wh, export_day_wh, export_night_wh, equipment_id"
            " FROM day_reading WHERE day BETWEEN ? AND ?",
            (key_of(first), key_of(last)),
        ).fetchall()
    except sqlite3.OperationalError:  # no such table
        return {}
    return {date_of(row[0]): DayReading(row[1], tuple(row[2:6]), row[6]) for row in rows}


def quarter_table(connection: sqlite3.Connection, first: date, last: date) -> Iterator[tuple[Any, ...]]:
    """The stored quarters of the local days `first` to `last`, as stored (UTC start, integer Wh and litres, W):
    start, the four registers, gas, water, average and highest power, gap, source."""
    yield from connection.execute(
        "SELECT start, import_day_wh, import_night_wh, export_day_wh, export_night_wh, gas_l, water_l,"
        " average_w, max_w, gap, source FROM quarter WHERE start >= ? AND start < ? ORDER BY start",
        (local_midnight_utc(first), local_midnight_utc(last + timedelta(days=1))),
    )


def month_offtake(connection: sqlite3.Connection) -> dict[date, float]:
    """kWh imported per local month: what the network-cost ceiling is measured against."""
    return {
        date(month // 100, month % 100, 1): wh / 1000
        for month, wh in connection.execute(
            "SELECT day / 100, sum(import_day_wh + import_night_wh) FROM quarter GROUP BY day / 100"
        )
    }


def pricing_extras(
    connection: sqlite3.Connection, books: Iterable[RateBook]
) -> tuple[dict[date, float], dict[date, float]]:
    """What a DayPricer needs beyond the month peaks: the months' gas conversion factors and offtake. Each is a pass
    over every quarter, so each is asked for only when some prices of `books` use it (gas per kWh, the ceiling)."""
    prices = [rates for book in books for _, rates in book.periods]
    factors = gas_factors(connection) if any(rates.gas_kwh is not None for rates in prices) else {}
    offtake = month_offtake(connection) if any(rates.network_max_kwh is not None for rates in prices) else {}
    return factors, offtake


def calendar_days(first: date, last: date) -> Iterator[date]:
    """Every day from `first` to `last` included: a bill covers the days without data too."""
    day = first
    while day <= last:
        yield day
        day = next_day(day)


def billed(day: date, start: date | None, history: tuple[date, date] | None) -> bool:
    """Whether a day without data is on a bill: from the month of the contract's `start` to the last month of the
    `history` (first and last day with data). A month the history has not reached yet is no bill of it."""
    if start is None or history is None:
        return False
    return start.replace(day=1) <= day and (day.year, day.month) <= (history[1].year, history[1].month)


def quarters_in_day(day: date) -> int:
    """How many quarters a local day has: 96, 92 on the March day of the clock change, 100 on the October one."""
    return (local_midnight_utc(next_day(day)) - local_midnight_utc(day)) // 900


# A quarter has electricity data when P1 telegrams filled it, or a Fluvius electricity row did (those set its
# average; a Fluvius gas row alone does not, and says nothing of electricity).
_HAS_ELECTRICITY = "(source != 'fluvius' OR average_w IS NOT NULL)"


def electricity_quarters(connection: sqlite3.Connection, first: int, last: int) -> dict[int, tuple[int, int]]:
    """{quarter start: (offtake Wh, injection Wh)} of the quarters from `first` to `last` (UTC epoch seconds) that
    hold electricity (a gas-only hour of a Fluvius export does not)."""
    rows = connection.execute(
        "SELECT start, import_day_wh + import_night_wh, export_day_wh + export_night_wh FROM quarter"
        f" WHERE start BETWEEN ? AND ? AND {_HAS_ELECTRICITY}",
        (first, last),
    )
    return {start: (offtake, injection) for start, offtake, injection in rows}


def known_quarters(connection: sqlite3.Connection, first: date, last: date) -> dict[date, int]:
    """Per local day from `first` to `last`, how many of its quarters have electricity data (days without any are
    left out)."""
    return {
        date_of(day): count
        for day, count in connection.execute(
            f"SELECT day, count(*) FROM quarter WHERE day BETWEEN ? AND ? AND {_HAS_ELECTRICITY} GROUP BY day",
            (key_of(first), key_of(last)),
        )
    }


@dataclass(frozen=True, slots=True)
class Completeness:
    """How many of the quarters a stretch should have are in the history: 'N of M quarters'."""

    known: int = 0
    expected: int = 0

    @property
    def missing(self) -> int:
        return self.expected - self.known

    def __add__(self, other: Completeness) -> Completeness:
        return Completeness(self.known + other.known, self.expected + other.expected)

    def words(self) -> str:
        return f"incomplete: {self.known:,} of {self.expected:,} quarters ({self.missing:,} missing)"


def month_completeness(
    connection: sqlite3.Connection, first: date, last: date, start: date | None, today: date
) -> dict[date, Completeness]:
    """Per month touched by `first`..`last`, the quarters with data against those expected: every quarter of the
    days from the contract's `start` (or `first`) on, up to `today` (a day to come is not missing yet)."""
    counts = known_quarters(connection, first, last)
    result: dict[date, Completeness] = {}
    for day in calendar_days(max(first, start) if start is not None else first, min(last, today)):
        month = day.replace(day=1)
        result[month] = result.get(month, Completeness()) + Completeness(counts.get(day, 0), quarters_in_day(day))
    return result


def missing_days(connection: sqlite3.Connection) -> list[tuple[date, int, int]]:
    """Every local day from the history's first to its last that lacks electricity quarters: (day, missing,
    quarters the day has), oldest first."""
    span = data_range(connection)
    if span is None:
        return []
    counts = known_quarters(connection, *span)
    every = ((day, quarters_in_day(day)) for day in calendar_days(*span))
    return [(day, due - counts.get(day, 0), due) for day, due in every if counts.get(day, 0) < due]


def measured(connection: sqlite3.Connection) -> frozenset[str]:
    """Which of 'gas' and 'water' the history ever measured: a meter on the M-Bus said a reading, or a quarter
    holds some. A quantity never measured is 'no data', not a usage of zero."""
    found = set()
    state = connection.execute("SELECT gas_l IS NOT NULL, water_l IS NOT NULL FROM meter_state WHERE id = 1").fetchone()
    quarters = connection.execute(
        "SELECT EXISTS (SELECT 1 FROM quarter WHERE gas_l > 0), EXISTS (SELECT 1 FROM quarter WHERE water_l > 0)"
    ).fetchone()
    for index, name in enumerate(("gas", "water")):
        if quarters[index] or (state is not None and state[index]):
            found.add(name)
    return frozenset(found)
