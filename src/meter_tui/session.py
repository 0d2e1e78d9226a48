"""What the app shows, computed outside the UI: the latest telegram, today's usage and cost, the history table,
the quarter-peak picture. The Textual screens only display these values; the tests check them directly.

The session writes the history only when this process owns the meter; followers read what the owner wrote.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from meter_tui.energy.capacity import CapacitySummary, MonthPeakValue, QuarterForecast, capacity_summary, forecast
from meter_tui.energy.costs import Cost, Usage, day_cost, energy_cost_per_hour
from meter_tui.energy.rates import EXAMPLE_RATES, RateBook, RatesError, parse_rates, save_rates, user_rates
from meter_tui.p1.telegram import Tariff, Telegram
from meter_tui.store.database import StoreError, open_database
from meter_tui.store.ingest import Ingestor
from meter_tui.store.localtime import day_key, local_midnight_utc
from meter_tui.store.queries import QuarterRow, days, month_peaks, quarters

SPARK_SECONDS = 600
TODAY_EVERY = timedelta(seconds=10)  # of meter time, between two queries of today's usage and cost


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the usage/cost table: a name, the days it covers, what was used and what it cost."""

    name: str
    usage: Usage
    cost: Cost
    peak_kw: float | None = None
    peak_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class LiveValues:
    """The latest telegram with what it costs: what goes out to home automation."""

    telegram: Telegram
    cost_per_hour_eur: float | None = None
    cost_today_eur: float | None = None


@dataclass(frozen=True, slots=True)
class PeakView:
    forecast: QuarterForecast | None
    month_peak_kw: float | None
    month_peak_time: datetime | None
    months: tuple[MonthPeakValue, ...]
    capacity: CapacitySummary
    today: tuple[QuarterRow, ...]


@dataclass(slots=True)
class Session:
    db_path: Path | None
    rates_path: Path
    raw_days: int = 7
    book: RateBook = field(init=False)
    rates_error: str = ""
    open_error: str = ""
    latest: Telegram | None = None
    owner: bool = False
    ingestor: Ingestor | None = None
    powers: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=SPARK_SECONDS))
    _today: tuple[datetime, RateBook, Column] | None = None
    _local: threading.local = field(default_factory=threading.local)

    def __post_init__(self) -> None:
        try:
            self.book = user_rates(self.rates_path)
        except RatesError as error:
            # A broken rates.json is refused; the app runs on the example prices and says so.
            self.rates_error = str(error)
            self.book = parse_rates(EXAMPLE_RATES)

    # -- the meter -------------------------------------------------------------------------------------------
    def become_owner(self) -> None:
        self.owner = True
        if self.db_path is not None and self.ingestor is None:
            try:
                self.ingestor = Ingestor(open_database(self.db_path), raw_days=self.raw_days)
            except StoreError as error:
                self.open_error = str(error)

    @property
    def store_error(self) -> str:
        """Why the history cannot be kept right now ('' when all is well): live data goes on regardless."""
        return self.open_error or (self.ingestor.stats.last_error if self.ingestor is not None else "")

    def add(self, telegram: Telegram) -> None:
        self.latest = telegram
        self.powers.append((telegram.power_import_kw or 0.0, telegram.power_export_kw or 0.0))
        if self.owner and self.ingestor is not None:
            self.ingestor.add(telegram)

    def close(self) -> None:
        if self.ingestor is not None:
            self.ingestor.flush()
            self.ingestor.connection.close()
            self.ingestor = None

    @property
    def now(self) -> datetime | None:
        """The meter's clock: every view is computed for the time of the latest telegram, never the wall clock."""
        return self.latest.timestamp if self.latest is not None else None

    # -- prices ----------------------------------------------------------------------------------------------
    def save_rates(self, document: dict[str, Any]) -> RateBook:
        """Check and save atomically; on success every cost uses the new prices at once."""
        self.book = save_rates(self.rates_path, document)
        self.rates_error = ""
        return self.book

    def cost_per_hour(self) -> float | None:
        t = self.latest
        if t is None or t.timestamp is None:
            return None
        rates = self.book.on(t.timestamp.date())
        return energy_cost_per_hour(t.power_import_kw or 0.0, t.power_export_kw or 0.0, rates, t.tariff is Tariff.NIGHT)

    # -- the history -----------------------------------------------------------------------------------------
    def _reader(self) -> sqlite3.Connection | None:
        """A read connection per thread: queries run in worker threads, never on the UI's."""
        if self.db_path is None or not self.db_path.exists():
            return None
        connection = getattr(self._local, "connection", None)
        if connection is None:
            try:
                connection = open_database(self.db_path, readonly=True)
            except StoreError as error:
                self.open_error = str(error)
                return None
            self._local.connection = connection
        return connection

    def _usage_by_day(self, first: date, last: date) -> dict[date, tuple[Usage, float | None, datetime | None]]:
        connection = self._reader()
        result: dict[date, tuple[Usage, float | None, datetime | None]] = {}
        if connection is not None:
            for row in days(connection, first, last):
                result[row.day] = (row.usage, row.peak_kw, row.peak_start)
        if self.ingestor is not None:
            # The open batch is not in the database yet: add it, so that "today" is up to the second.
            first_key, last_key = day_key(local_midnight_utc(first)), day_key(local_midnight_utc(last))
            for start, amounts in self.ingestor.pending().items():
                key = day_key(start)
                if first_key <= key <= last_key:
                    day = date(key // 10000, key // 100 % 100, key % 100)
                    usage, peak, when = result.get(day, (Usage(), None, None))
                    result[day] = (usage + Usage(*(a / 1000 for a in amounts)), peak, when)
        return result

    def columns(self, as_of: date) -> list[Column]:
        """The original's table: Day-3, Day-2, Day-1, Today, Week, Month, Year, each with its usage and cost."""
        year_start = as_of.replace(month=1, day=1)
        by_day = self._usage_by_day(year_start, as_of)
        peaks = self._month_peaks()
        capacity: dict[date, float] = {}

        def cost_of(day: date, usage: Usage) -> Cost:
            month = day.replace(day=1)
            rates = self.book.on(day)
            if month not in capacity:
                capacity[month] = capacity_summary(peaks, month, rates.capacity_kw_year).monthly_cost
            return day_cost(day, usage, rates, capacity[month])

        def span(name: str, first: date) -> Column:
            usage, cost, best = Usage(), Cost(), (None, None)
            day = first
            while day <= as_of:
                if day in by_day:
                    day_usage, peak, when = by_day[day]
                    usage += day_usage
                    cost += cost_of(day, day_usage)
                    if peak is not None and (best[0] is None or peak > best[0]):
                        best = (peak, when)
                day += timedelta(days=1)
            return Column(name, usage, cost, *best)

        columns = [
            Column(_day_name(day, back), *_one_day(by_day, day, cost_of))
            for back in (3, 2, 1)
            if (day := as_of - timedelta(days=back))
        ]
        columns.append(Column("Today", *_one_day(by_day, as_of, cost_of)))
        columns.append(span("Week", as_of - timedelta(days=as_of.weekday())))
        columns.append(span("Month", as_of.replace(day=1)))
        columns.append(span("Year", year_start))
        return columns

    def today_column(self, day: date) -> Column:
        """Usage and cost of one day so far, including what the open batch has not committed yet."""
        by_day = self._usage_by_day(day, day)
        peaks = self._month_peaks()
        rates = self.book.on(day)
        capacity = capacity_summary(peaks, day, rates.capacity_kw_year).monthly_cost
        return Column("Today", *_one_day(by_day, day, lambda d, u: day_cost(d, u, rates, capacity)))

    def today_so_far(self) -> Column | None:
        """Today's usage and cost as of the latest telegram, for the live screen and MQTT alike: queried again
        every TODAY_EVERY of meter time, at midnight and when the prices change, else the last answer."""
        now = self.now
        if now is None:
            return None
        last = self._today
        if (
            last is None
            or last[1] is not self.book
            or now.date() != last[0].date()
            or not timedelta(0) <= now - last[0] < TODAY_EVERY
        ):
            last = self._today = (now, self.book, self.today_column(now.date()))
        return last[2]

    def live_values(self) -> LiveValues | None:
        """The latest telegram and its costs."""
        telegram = self.latest
        if telegram is None:
            return None
        today = self.today_so_far()
        return LiveValues(telegram, self.cost_per_hour(), today.cost.total if today is not None else None)

    def day_series(self, first: date, last: date) -> list[tuple[date, Usage, Cost]]:
        by_day = self._usage_by_day(first, last)
        series = []
        day = first
        while day <= last:
            usage = by_day.get(day, (Usage(), None, None))[0]
            series.append((day, usage, day_cost(day, usage, self.book.on(day))))
            day += timedelta(days=1)
        return series

    def quarters_of(self, day: date) -> list[QuarterRow]:
        connection = self._reader()
        return quarters(connection, day) if connection is not None else []

    def _month_peaks(self) -> list[MonthPeakValue]:
        connection = self._reader()
        stored = {p.month: p for p in month_peaks(connection)} if connection is not None else {}
        t = self.latest
        # The meter's word wins, also before the owner's next commit.
        if t is not None:
            for entry in t.peak_history or ():
                if entry.kw is not None:
                    stored[entry.month] = MonthPeakValue(entry.month, entry.kw, entry.time, "meter")
            if t.month_peak is not None and t.month_peak.time is not None and t.month_peak.kw is not None:
                month = t.month_peak.time.date().replace(day=1)
                stored[month] = MonthPeakValue(month, t.month_peak.kw, t.month_peak.time, "meter")
        return [stored[m] for m in sorted(stored)]

    def peak_view(self) -> PeakView | None:
        t = self.latest
        if t is None or t.timestamp is None:
            return None
        peaks = self._month_peaks()
        today = t.timestamp.date()
        month_peak = t.month_peak
        status = None
        if t.quarter_average_kw is not None:
            status = forecast(
                t.timestamp, t.quarter_average_kw, t.power_import_kw or 0.0, month_peak.kw if month_peak else None
            )
        summary = capacity_summary(peaks, today, self.book.on(today).capacity_kw_year)
        return PeakView(
            forecast=status,
            month_peak_kw=month_peak.kw if month_peak else None,
            month_peak_time=month_peak.time if month_peak else None,
            months=tuple(peaks[-13:]),
            capacity=summary,
            today=tuple(self.quarters_of(today)),
        )


def _day_name(day: date, back: int) -> str:
    return f"{day:%a} -{back}"


def _one_day(by_day: dict, day: date, cost_of: Any) -> tuple[Usage, Cost, float | None, datetime | None]:
    usage, peak, when = by_day.get(day, (Usage(), None, None))
    return usage, cost_of(day, usage), peak, when
